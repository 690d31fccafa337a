"""The JSON API: tokens, scopes, the same rules as the pages, problem details."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def proposal(member_a: Any) -> Any:
    from veche.apps.proposals import services

    return services.create_proposal(
        author=member_a, kind_key="group-practice", title="Meet on Tuesdays", body="Why not."
    )


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def post(client: Any, url: str, data: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def test_a_token_reads_what_its_member_reads(api_client: Any, member_a: Any, proposal: Any):
    client = api_client(member_a, may_act=False)
    listed = client.get("/api/proposals").json()
    assert [item["id"] for item in listed["items"]] == [proposal.pk]
    assert listed["items"][0]["title"] == "Meet on Tuesdays"
    detail = client.get(f"/api/proposals/{proposal.pk}").json()
    assert detail["body"] == "Why not."
    assert "respond" in detail["may"]
    inbox = client.get("/api/inbox").json()
    assert [item["proposal"] for item in inbox["items"]] == [proposal.pk]
    names = {m["pseudonym"] for m in client.get("/api/members").json()["members"]}
    assert names == {"ada"}


def test_a_token_responds_and_the_page_shows_it(
    api_client: Any, client_for: Any, member_a: Any, coordinator_a: Any, proposal: Any
):
    client = api_client(coordinator_a)
    done = post(
        client, f"/api/proposals/{proposal.pk}/respond",
        {"position": "object", "reason": "Tuesdays I work late", "version": 1},
    )  # fmt: skip
    assert done.status_code == 200, done.content
    page = client_for(member_a).get(f"/proposals/{proposal.pk}/").content.decode()
    assert "Tuesdays I work late" in page


def test_another_groups_proposal_is_not_found(api_client: Any, member_b: Any, proposal: Any):
    client = api_client(member_b)
    problem(client.get(f"/api/proposals/{proposal.pk}"), 404)
    body = {"position": "agree", "reason": "", "version": 1}
    problem(post(client, f"/api/proposals/{proposal.pk}/respond", body), 404)
    assert client.get("/api/proposals").json()["items"] == []


def test_a_read_token_that_acts_is_refused_and_nothing_changes(
    api_client: Any, coordinator_a: Any, proposal: Any
):
    from veche.apps.proposals.models import ProposalEvent

    before = ProposalEvent.objects.count()
    client = api_client(coordinator_a, may_act=False)
    body = {"position": "agree", "reason": "", "version": 1}
    problem(post(client, f"/api/proposals/{proposal.pk}/respond", body), 403)
    problem(post(client, f"/api/proposals/{proposal.pk}/amend", {"title": "T", "body": "B"}), 403)
    problem(post(client, f"/api/proposals/{proposal.pk}/vote", {"choice": 0}), 403)
    fund = {"amount": "10", "currency": "EUR", "idempotency_key": "abcdefgh12"}
    problem(post(client, "/api/fund/contributions", fund), 403)
    assert ProposalEvent.objects.count() == before


def test_no_token_is_401_and_a_session_cookie_is_not_a_token(
    client_for: Any, member_a: Any, proposal: Any
):
    browser = client_for(member_a)
    assert browser.get("/inbox/").status_code == 200
    response = problem(browser.get("/api/inbox"), 401)
    assert "Bearer" in response["detail"]
    body = {"position": "agree", "reason": "", "version": 1}
    problem(post(browser, f"/api/proposals/{proposal.pk}/respond", body), 401)
    problem(Client().get("/api/proposals"), 401)


def test_a_revoked_token_is_not_found_at_once(api_client: Any, token_for: Any, member_a: Any):
    from veche.apps.api.models import AccessKey
    from veche.apps.api.services import revoke

    secret = token_for(member_a)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/inbox").status_code == 200
    row = AccessKey.objects.get(member=member_a)
    assert row.last_used_on is not None
    assert revoke(member=member_a, key_id=row.pk)
    problem(client.get("/api/inbox"), 404)
    problem(Client(headers={"Authorization": "Bearer made-up"}).get("/api/inbox"), 404)


def test_a_removed_members_token_is_not_found(api_client: Any, member_a: Any):
    client = api_client(member_a)
    member_a.is_active = False
    member_a.save()
    problem(client.get("/api/inbox"), 404)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/proposals/{pid}/respond", {}),
        ("/api/proposals/{pid}/respond", {"position": "maybe", "version": 1}),
        ("/api/proposals/{pid}/respond", {"position": "agree", "version": "one"}),
        ("/api/proposals/{pid}/amend", {"title": 3}),
        ("/api/proposals/{pid}/vote", {"choice": "first"}),
        ("/api/fund/contributions", {"amount": "10"}),
        ("/api/fund/requests", {"kind": "gold", "purpose": "x", "idempotency_key": "12345678"}),
    ],
)
def test_input_that_does_not_fit_the_schema_is_a_422_problem(
    api_client: Any, coordinator_a: Any, proposal: Any, url: str, body: Any
):
    client = api_client(coordinator_a)
    found = problem(post(client, url.format(pid=proposal.pk), body), 422)
    assert found["errors"]


@pytest.mark.parametrize("raw", ["", "{", "[]", '"text"', '{"position": "agree\\ud800"}'])
def test_a_body_that_is_not_json_is_a_problem(
    api_client: Any, coordinator_a: Any, proposal: Any, raw: str
):
    client = api_client(coordinator_a)
    response = client.post(
        f"/api/proposals/{proposal.pk}/respond", raw, content_type="application/json"
    )
    problem(response, 422)


def test_a_rule_the_domain_refuses_is_a_400_in_the_members_language(
    api_client: Any, coordinator_a: Any, proposal: Any
):
    client = api_client(coordinator_a)
    url = f"/api/proposals/{proposal.pk}/respond"
    english = problem(post(client, url, {"position": "block", "version": 1}), 400)
    russian = problem(
        post(client, url, {"position": "block", "version": 1}, HTTP_ACCEPT_LANGUAGE="ru"), 400
    )
    assert english["detail"] != russian["detail"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in russian["detail"])


def test_fund_writes_go_through_the_coordinators_rule(
    api_client: Any, member_a: Any, coordinator_a: Any
):
    body = {"amount": "12.50", "currency": "EUR", "idempotency_key": "key-0000001"}
    refused = problem(post(api_client(member_a), "/api/fund/contributions", body), 400)
    assert "coordinator" in refused["detail"]
    done = post(api_client(coordinator_a), "/api/fund/contributions", body)
    assert done.status_code == 200, done.content
    fund = api_client(member_a).get("/api/fund").json()
    assert fund["balances"][0]["amount"] == 1250
    again = problem(post(api_client(coordinator_a), "/api/fund/contributions", body), 400)
    assert "already" in again["detail"]
    help_body = {"kind": "help", "purpose": "Advice on rent", "idempotency_key": "key-0000002"}
    asked = post(api_client(coordinator_a), "/api/fund/requests", help_body)
    assert asked.status_code == 200 and asked.json()["request"]


def test_the_decision_log_exports_only_readable_chains(
    api_client: Any, member_a: Any, group_b: Any
):
    client = api_client(member_a)
    chains = [c["chain"] for c in client.get("/api/decisions").json()["chains"]]
    assert chains == ["federation", f"group-{member_a.group_id}"]
    own = client.get(f"/api/decisions/group-{member_a.group_id}.jsonl")
    assert own.status_code == 200
    assert own["Content-Type"].startswith("application/jsonl")
    problem(client.get(f"/api/decisions/group-{group_b.pk}.jsonl"), 404)


def test_the_schema_is_openapi_3_1_and_its_reference_page_needs_no_script(client: Any):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/proposals/{proposal_id}/vote" in schema["paths"]
    page = client.get("/api/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script" not in html
    assert "/api/proposals/{proposal_id}/respond" in html


@pytest.mark.parametrize(
    "url",
    [
        "/api/inbox?page=abc",
        "/api/proposals?show=all",
        "/api/proposals?page=-1",
        "/api/proposals/abc",
        "/api/proposals/99999999999999999999999",
        "/api/decisions?page=0",
        "/api/decisions/group-x.jsonl",
        "/api/fund?page=%00",
        "/api/nothing-here",
        "/api/proposals/1/respond/extra",
    ],
)
def test_bad_input_to_every_read_is_a_problem(api_client: Any, member_a: Any, url: str):
    response = api_client(member_a).get(url)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == PROBLEM


def test_a_get_on_a_write_is_405_and_a_post_on_a_read_too(api_client: Any, member_a: Any):
    client = api_client(member_a)
    assert client.get("/api/proposals/1/respond").status_code == 405
    assert post(client, "/api/inbox", {}).status_code == 405


def test_removing_a_member_revokes_their_tokens_and_feeds(
    api_client: Any, coordinators_remove_alone: Any, member_a: Any, coordinator_a: Any
):
    from veche.apps.api.models import AccessKey
    from veche.apps.api.services import create_feed
    from veche.apps.federation.models import Group
    from veche.apps.federation.services import remove_member

    client = api_client(member_a)
    create_feed(member=member_a, kind=AccessKey.Kind.INBOX_FEED)
    group = Group.objects.get(pk=member_a.group_id)
    remove_member(group=group, member=member_a, by=coordinator_a)
    assert not AccessKey.objects.filter(member=member_a).exists()
    problem(client.get("/api/inbox"), 404)


def test_a_decision_changed_in_the_database_reads_as_not_intact(
    api_client: Any, member_a: Any, proposal: Any
):
    """A record whose payload was changed so that its date and outcome cannot be read is
    still answered, as not intact and without a date, within the schema."""
    from veche.apps.proposals import services
    from veche.apps.proposals.models import DecisionRecord

    payload = {"outcome": "adopted", "reached_by": "consensus", "at": "2030-01-07T09:05:00+00:00"}
    services.append_to_log(group_id=None, kind="decision", payload=payload, proposal=proposal)
    client = api_client(member_a)
    [item] = client.get("/api/decisions").json()["items"]
    assert item["intact"] and item["at"].startswith("2030-01-07")
    DecisionRecord.objects.filter(chain="federation").update(payload={"outcome": "won"})
    [item] = client.get("/api/decisions").json()["items"]
    assert not item["intact"] and item["at"] is None and item["outcome"] == ""
    assert item["title"] == "Meet on Tuesdays"
