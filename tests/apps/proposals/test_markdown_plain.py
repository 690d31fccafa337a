"""Plain prose skips markdown-it, and comes out exactly as markdown-it would render it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from veche.apps.proposals import markdown

# Every character the shortcut treats specially, and the ones it must leave alone.
TRICKY = [*"aZ09 \n\t\r.,;:?!'\"()/%@$-+=*_[]<>&\\#|~{}`^",
    "\u00a0", "\u2028", "\u0301", "é", "«", "»", "—", "€", "\x00", "1.", "1)", "- ", "==",
    "  \n", "\n\n", "    ", "http://example.org", "<b>", "&amp;",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(TRICKY), max_size=30).map("".join))
def test_the_shortcut_renders_what_markdown_it_renders(text: str) -> None:
    fast = markdown._plain_paragraphs(text)
    if fast is not None:
        assert fast == markdown._renderer.render(text)
    # And the page gets what the sanitiser makes of markdown-it's HTML, whichever way.
    assert markdown.render(text) == markdown.sanitise(markdown._renderer.render(text))


def test_messages_in_plain_prose_take_the_shortcut() -> None:
    for text in [
        "We meet at 19:00 in the laundry room.",
        'Costs are split by the number of members in each group.\n\nAgreed? "Yes", said she.',
        "Встречаемся в 19:00 — в прачечной.\nДо встречи!",
        "",
    ]:
        assert markdown._plain_paragraphs(text) == markdown._renderer.render(text), text


def test_markdown_still_takes_the_long_way() -> None:
    for text in ["- one\n- two", "1. first", "# title", "a *b*", "x\n===", "    code", "a  \nb"]:
        assert markdown._plain_paragraphs(text) is None, text


# Mostly what the shortcut takes, so that it is tried often.
PROSE = [*"ab Z9.,;:?!'\"()/%@$-+=\n", "é", "—", "€", "«", "1.", "2)", "\n\n", "  "]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PROSE), max_size=30).map("".join))
def test_the_shortcut_renders_prose_as_markdown_it_does(text: str) -> None:
    fast = markdown._plain_paragraphs(text)
    if fast is not None:
        assert fast == markdown._renderer.render(text)
    assert markdown.render(text) == markdown.sanitise(markdown._renderer.render(text))
