"""Private feeds (Atom, parsed by feedparser) and the account page that makes and revokes them."""

from __future__ import annotations

import re
from typing import Any

import feedparser
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

FEED_URL = re.compile(r'value="http://testserver(/feeds/[^"]+)"')
TOKEN = re.compile(r'id="new-secret" type="text" readonly size="50" value="([^"]+)"')


@pytest.fixture
def proposal(member_a: Any) -> Any:
    from veche.apps.proposals import services

    return services.create_proposal(
        author=member_a, kind_key="group-practice", title="Meet on Tuesdays", body="Why not."
    )


def make_feed(browser: Any, kind: str, *, titles: bool = False) -> str:
    data = {"action": "feed", "kind": kind, **({"with_titles": "on"} if titles else {})}
    response = browser.post("/account/", data)
    assert response.status_code == 201, response.content
    match = FEED_URL.search(response.content.decode())
    assert match
    return match.group(1)


def test_an_inbox_feed_is_content_free_by_default(
    client_for: Any, member_a: Any, coordinator_a: Any, proposal: Any
):
    url = make_feed(client_for(coordinator_a), "inbox")
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert [entry.title for entry in feed.entries] == ["1 thing waits for you."]
    assert feed.entries[0].link == "http://testserver/inbox/"
    assert "Tuesdays" not in response.content.decode()


def test_a_feed_with_titles_reads_them_with_its_own_copy_of_the_keys(
    client_for: Any, coordinator_a: Any, proposal: Any
):
    url = make_feed(client_for(coordinator_a), "inbox", titles=True)
    feed = feedparser.parse(Client().get(url).content)
    assert not feed.bozo
    assert [entry.title for entry in feed.entries] == ["Meet on Tuesdays"]
    assert feed.entries[0].link == f"http://testserver/proposals/{proposal.pk}/"


def test_a_decisions_feed_parses(client_for: Any, member_a: Any):
    url = make_feed(client_for(member_a), "decisions")
    feed = feedparser.parse(Client().get(url).content)
    assert not feed.bozo
    assert feed.feed.title == "New decisions"


def test_a_revoked_feed_is_not_found_at_once(client_for: Any, member_a: Any):
    from veche.apps.api.models import AccessKey

    browser = client_for(member_a)
    url = make_feed(browser, "inbox", titles=True)
    assert Client().get(url).status_code == 200
    row = AccessKey.objects.get(member=member_a)
    assert row.sealed and row.last_used_on is not None
    page = browser.post("/account/", {"action": "revoke", "key": row.pk})
    assert page.status_code == 200
    assert Client().get(url).status_code == 404
    assert not AccessKey.objects.filter(pk=row.pk).exists()


def test_a_feed_secret_is_not_a_token_nor_the_other_feed(client_for: Any, member_a: Any):
    url = make_feed(client_for(member_a), "inbox")
    secret = url.split("/")[2]
    assert Client().get(f"/feeds/{secret}/decisions.atom").status_code == 404
    headers = {"Authorization": f"Bearer {secret}"}
    assert Client(headers=headers).get("/api/inbox").status_code == 404


def test_the_account_page_makes_lists_and_revokes_tokens(client_for: Any, member_a: Any):
    browser = client_for(member_a)
    page = browser.get("/account/")
    assert page.status_code == 200
    assert "You have no token." in page.content.decode()
    made = browser.post("/account/", {"action": "token", "may_act": "on"})
    assert made.status_code == 201
    secret = TOKEN.search(made.content.decode()).group(1)
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/inbox").status_code == 200
    listed = browser.get("/account/").content.decode()
    assert secret not in listed
    assert "read and act" in listed
    assert browser.post("/account/", {"action": "revoke_all"}).status_code == 200
    assert api.get("/api/inbox").status_code == 404


@pytest.mark.parametrize(
    "data",
    [{}, {"action": "feed", "kind": "everything"}, {"action": "revoke", "key": "x"},
     {"action": "revoke", "key": "999999"}, {"action": "nothing"}],
)  # fmt: skip
def test_bad_account_posts_are_refused_clearly(client_for: Any, member_a: Any, data: Any):
    response = client_for(member_a).post("/account/", data)
    assert response.status_code in (400, 404)
    assert 'role="alert"' in response.content.decode()


def test_another_members_token_cannot_be_revoked(
    client_for: Any, token_for: Any, member_a: Any, member_b: Any
):
    from veche.apps.api.models import AccessKey

    token_for(member_b)
    row = AccessKey.objects.get(member=member_b)
    assert (
        client_for(member_a).post("/account/", {"action": "revoke", "key": row.pk}).status_code
        == 404
    )
    assert AccessKey.objects.filter(pk=row.pk).exists()
