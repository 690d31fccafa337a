"""The account page in Chromium with JavaScript off: a feed and a token made, read, revoked.

The member makes a feed with titles and a token with plain forms, copies the feed's
address from the page, reads it as a feed reader would (another context, no cookies),
then revokes it: from then on the address answers 404.
"""

from __future__ import annotations

from typing import Any

import feedparser
import pytest

from tests.e2e.conftest import no_script_page

pytestmark = pytest.mark.browser


def test_a_member_makes_reads_and_revokes_a_feed_without_javascript(
    veche_server: Any, new_context: Any, member_a: Any, passphrase: str
) -> None:
    from veche.apps.proposals import services

    services.create_proposal(
        author=member_a, kind_key="group-practice", title="Paint the stairwell", body="Green."
    )
    base = veche_server.url
    page = no_script_page(new_context())
    page.goto(f"{base}/login/")
    page.get_by_label("Pseudonym").fill(member_a.pseudonym)
    page.get_by_label("Passphrase").fill(passphrase)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()

    with page.expect_navigation():
        page.get_by_role("link", name="Account", exact=True).click()
    assert page.get_by_role("heading", name="Your account").is_visible()
    page.get_by_label("What waits for you").check()
    page.get_by_label("With titles", exact=False).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Make a feed").click()
    address = page.get_by_label("Feed address, for your feed reader").input_value()
    assert address.startswith(base + "/feeds/")

    reader = new_context().request
    feed = feedparser.parse(reader.get(address).body())
    assert not feed.bozo
    assert [entry.title for entry in feed.entries] == ["Paint the stairwell"]

    with page.expect_navigation():
        page.get_by_role("button", name="Make a token").click()
    token = page.get_by_label("Token", exact=True).input_value()
    answer = reader.get(f"{base}/api/inbox", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200
    assert answer.json()["items"][0]["title"] == "Paint the stairwell"

    with page.expect_navigation():
        page.get_by_role("button", name="Revoke every token and feed").click()
    assert page.get_by_text("You have no feed.").is_visible()
    assert reader.get(address).status == 404
    gone = reader.get(f"{base}/api/inbox", headers={"Authorization": f"Bearer {token}"})
    assert gone.status == 404
