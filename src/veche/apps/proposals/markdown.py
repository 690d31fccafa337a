"""Markdown for proposals and messages: markdown-it-py renders, nh3 (ammonia) sanitises.

Raw HTML in the source is not rendered at all; the sanitiser then keeps only a short
list of tags, no images (an image is a third-party request waiting to happen), and
marks links ``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import importlib.metadata
import re
import unicodedata

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}

# What a text's HTML, rendered when it was written and stored encrypted beside it
# (decision 0139), was rendered by. HTML of any other rendering is rendered afresh from
# its source when shown: a change to the rules here (bump the number) or a new release of
# either library (a sanitiser's fix) never leaves older HTML on a page.
RENDERING = (
    f"1:markdown-it-py {importlib.metadata.version('markdown-it-py')}"
    f":nh3 {importlib.metadata.version('nh3')}"
)


# Plain prose, for which Markdown makes nothing but paragraphs: markdown-it's HTML for
# it is written directly (most messages are such; markdown-it costs ~0.15 ms each). The
# ASCII punctuation here means nothing in CommonMark without the characters it leaves
# out (`*_[]<>&\\#|~{}`, the backtick) and away from a line's start.
PLAIN_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        ".,;:?!'\"()/%@$-+= \n")  # fmt: skip
# What may not start a line of plain prose: a list, a heading's underline, a thematic
# break, an indented line.
NOT_AT_LINE_START = re.compile(r"(?m)^(?:[-+= ]|[0-9]{1,9}[.)])")
PARAGRAPH_BREAK = re.compile(r"\n{2,}")


def _plain_char(char: str) -> bool:
    if char.isascii():
        return char in PLAIN_ASCII
    # Letters, digits, non-ASCII punctuation and symbols mean nothing to CommonMark;
    # other spaces, marks, controls and the rest go the long way.
    return unicodedata.category(char)[0] in "LNPS"


def _plain_paragraphs(text: str) -> str | None:
    """Return markdown-it's HTML for ``text`` if it is plain prose, else None."""
    if not (PLAIN_ASCII.issuperset(text) or all(_plain_char(c) for c in set(text))):
        return None
    if NOT_AT_LINE_START.search(text) or " \n" in text or text.endswith(" "):
        return None
    paragraphs = (p.strip("\n") for p in PARAGRAPH_BREAK.split(text))
    return "".join("<p>" + p.replace('"', "&quot;") + "</p>\n" for p in paragraphs if p)


def sanitise(html: str) -> str:
    """Return ``html`` with only the allowed tags and attributes (nh3)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render(text: str) -> SafeString:
    """Return sanitised HTML for Markdown ``text``."""
    html = _plain_paragraphs(text or "")
    if html is not None:
        # Paragraphs of plain prose hold no tag and no character HTML treats specially
        # but the quotation mark, which the sanitiser writes back bare in text: this is
        # its output, without running it (a property test checks that they agree).
        return mark_safe(html.replace("&quot;", '"'))  # noqa: S308 - see above
    return mark_safe(sanitise(_renderer.render(text or "")))  # noqa: S308 - nh3 has sanitised it
