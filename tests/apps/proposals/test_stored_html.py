"""A text's HTML is rendered when written and stored encrypted beside it (decision 0139).

What is shown is always what rendering the source now would give: HTML of another
rendering, HTML moved from another text, HTML the server cannot open, or none at all
(texts written before) are rendered afresh from the source. Nothing is in clear.
"""

from __future__ import annotations

from typing import Any

import pytest

from veche.apps.core import keyring
from veche.apps.proposals import markdown, services
from veche.apps.proposals.models import Comment, ProposalVersion
from veche.crypto import Keyring

pytestmark = pytest.mark.django_db

TEXTS = [
    "We meet at 19:00 in the laundry room.",
    "- bring **tea**\n- bring [a map](https://example.org)",
    "<script>alert(1)</script> and [click](javascript:alert(1))",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Встречаемся в 19:00 — *в прачечной*.",
]


def _proposal(author: Any, body: str = "The text.") -> Any:
    return services.create_proposal(
        author=author, kind_key="group-practice", title="Paint the stairwell", body=body
    )


def _stored(model: type, pk: int) -> Any:
    return model.objects.get(pk=pk)


def test_a_message_keeps_the_html_its_source_renders_to_and_never_in_clear(
    member_a: Any, coordinator_a: Any
) -> None:
    row = _proposal(coordinator_a)
    for body in TEXTS:
        comment = _stored(Comment, services.post_comment(author=member_a, body=body, row=row).pk)
        assert comment.html_of == markdown.RENDERING
        assert comment.html == markdown.render(body)
        assert "<script" not in comment.html and 'href="javascript' not in comment.html
        html = keyring.decrypt(comment.html_ct, context=f"comment:p{row.pk}:{comment.pk}:html")
        assert html == markdown.render(body)  # what was stored, opened by hand
        for plain in (body, markdown.render(body)):
            assert plain.encode() not in bytes(comment.html_ct)
            assert plain.encode() not in bytes(comment.body_ct)


def test_a_version_keeps_its_html_and_an_amendment_gets_its_own(coordinator_a: Any) -> None:
    row = _proposal(coordinator_a, body="Paint it **green**.")
    first = row.current_version
    green = "<p>Paint it <strong>green</strong>.</p>\n"
    assert _stored(ProposalVersion, first.pk).body_html == green
    services.amend(row=row, actor=coordinator_a, title="Paint it", body="Paint it *blue*.")
    second = ProposalVersion.objects.filter(proposal=row).order_by("-number").first()
    assert second.number == 2 and second.html_of == markdown.RENDERING
    assert second.body_html == "<p>Paint it <em>blue</em>.</p>\n"
    assert _stored(ProposalVersion, first.pk).body_html == green


def test_html_of_another_rendering_moved_or_missing_is_rendered_afresh(
    member_a: Any, coordinator_a: Any
) -> None:
    row = _proposal(coordinator_a)
    one = services.post_comment(author=member_a, body="first *one*", row=row)
    two = services.post_comment(author=member_a, body="second **two**", row=row)
    fresh = {one.pk: "<p>first <em>one</em></p>\n", two.pk: "<p>second <strong>two</strong></p>\n"}
    scope = row.key_scope()

    # A rendering this release did not make (an older one, or a sanitiser since fixed),
    # even one that opens, is not shown.
    stale = keyring.encrypt(scope, "<p>stale</p>", context=f"comment:p{row.pk}:{one.pk}:html")
    Comment.objects.filter(pk=one.pk).update(html_ct=stale, html_of="0:an older rendering")
    assert _stored(Comment, one.pk).html == fresh[one.pk]

    # HTML moved from another message (or from the message's own source) does not open.
    Comment.objects.filter(pk=one.pk).update(html_ct=two.html_ct, html_of=markdown.RENDERING)
    assert _stored(Comment, one.pk).html == fresh[one.pk]
    Comment.objects.filter(pk=two.pk).update(html_ct=two.body_ct)
    assert _stored(Comment, two.pk).html == fresh[two.pk]

    # A message written before texts kept their HTML.
    Comment.objects.filter(pk=two.pk).update(html_ct=None, html_of="")
    assert _stored(Comment, two.pk).html == fresh[two.pk]

    # Someone without the key sees the placeholder, rendered, never the stored HTML.
    with keyring.using(Keyring()):
        assert _stored(Comment, one.pk).html == markdown.render(keyring.UNREADABLE)


def test_the_page_shows_the_stored_html(member_a: Any, coordinator_a: Any, client_for: Any) -> None:
    """The proposal's page reads the stored HTML (it does not render the source again):
    HTML stored under the text's own context and this rendering is what it shows."""
    row = _proposal(coordinator_a, body="The source text.")
    comment = services.post_comment(author=member_a, body="The message's source.", row=row)
    scope, version = row.key_scope(), row.current_version
    ProposalVersion.objects.filter(pk=version.pk).update(
        body_html_ct=keyring.encrypt(
            scope, "<p>stored text html</p>", context=f"proposal:{row.pk}:v1:html"
        )
    )
    Comment.objects.filter(pk=comment.pk).update(
        html_ct=keyring.encrypt(
            scope, "<p>stored message html</p>", context=f"comment:p{row.pk}:{comment.pk}:html"
        )
    )
    page = client_for(member_a).get(f"/proposals/{row.pk}/").content.decode()
    assert "stored text html" in page and "The source text." not in page
    assert "stored message html" in page and "The message&#x27;s source." not in page
