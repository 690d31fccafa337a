"""Bad input through HTTP: a clear refusal (400, 404, 405), never a 500, nothing stored."""

from __future__ import annotations

import pytest
import time_machine
from proposal_steps import T0, action, at, counts, local, propose, respond, text

pytestmark = pytest.mark.django_db

GOOD = {"kind": "group-practice", "title": "Meet on Tuesdays", "body": "Weekly."}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ada(member_a, client_for):
    return client_for(member_a)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "required"),
        ({"title": "   "}, "required"),
        ({"body": ""}, "required"),
        ({"kind": "no-such-kind"}, "valid choice"),
        ({"kind": ""}, "required"),
        ({"deadline": local(at(hours=-1))}, "the deadline must be in the future"),
        ({"deadline": local(at(days=8))}, "deadline"),
        ({"deadline": "next tuesday"}, "valid date"),
        ({"deadline": "2030-02-30T10:00"}, "valid date"),
        ({"kind": "group-coordinator", "urgent": "on", "coordinator": ""}, "urgent"),
        ({"kind": "admit-group", "urgent": "on", "new_group_name": "Gamma"}, "urgent"),
        ({"options": "Only Monday"}, "at least two alternatives"),
        ({"options": "Monday\nMonday"}, "differ"),
        ({"options": "\n".join(f"Day {i}" for i in range(21))}, "at most 20"),
        ({"kind": "group-quick-response", "urgent": "on"}, "temporary coordinator"),
        ({"kind": "admit-group", "new_group_name": ""}, "cannot be empty"),
        ({"kind": "admit-group", "new_group_name": "Alpha"}, "already exists"),
        ({"kind": "group-coordinator"}, "say who should coordinate"),
        ({"kind": "group-coordinator", "coordinator": "999999"}, "valid choice"),
        ({"title": "x" * 201}, "200 characters"),
    ],
)
def test_a_bad_proposal_is_refused_with_a_reason_and_nothing_is_stored(ada, change, message):
    before = counts()
    response = ada.post("/proposals/new/", {**GOOD, **change})
    assert response.status_code == 400
    assert message in text(response)
    assert counts() == before


def test_the_longest_deadline_the_charter_allows_is_accepted(ada):
    pid = propose(ada, kind="group-practice", title="Meet", deadline=at(days=7))
    assert pid > 0


@pytest.fixture
def proposal(ada):
    return propose(ada, **{k: v for k, v in GOOD.items() if k != "body"})


@pytest.mark.parametrize(
    "data",
    [
        {"position": "block", "reason": "", "version": 1},
        {"position": "block", "reason": "   ", "version": 1},
        {"position": "stand_aside", "version": 1},
        {"position": "object", "reason": "", "version": 1},
        {"position": "veto", "reason": "x", "version": 1},
        {"position": "agree", "version": "one"},
        {"position": "agree", "version": 0},
        {"position": "agree", "version": 2},
        {"position": "agree"},
        {},
        {"position": "agree", "reason": "x" * 4001, "version": 1},
    ],
)
def test_a_bad_response_is_refused_and_nothing_is_stored(ada, proposal, data):
    before = counts()
    response = action(ada, proposal, "respond", data)
    assert response.status_code == 400
    assert 'role="alert"' in text(response)
    assert counts() == before


def test_a_block_without_a_reason_says_a_reason_is_needed(ada, proposal):
    response = respond(ada, proposal, "block")
    assert response.status_code == 400
    assert "need a reason" in text(response)


@pytest.fixture
def vote_open(group_a, make_member, client_for, clock):
    members = [make_member(group_a, n) for n in ("ada", "ben", "cleo")]
    clients = [client_for(m) for m in members]
    pid = propose(
        clients[0],
        kind="group-practice",
        title="Which day",
        urgent=True,
        deadline=at(hours=1),
        options=["Monday", "Wednesday"],
    )
    respond(clients[1], pid, "block", "Ask the others first")
    clock.move_to(at(hours=1, minutes=1))
    return pid, clients


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ({"rank-0": "4"}, "Ranks go from 1 to 3"),
        ({"rank-0": "0"}, "Ranks go from 1 to 3"),
        ({"rank-0": "-1"}, "Ranks go from 1 to 3"),
        ({"rank-0": "1", "rank-1": "1"}, "Give each rank to one option only"),
        ({"rank-0": "first"}, "Ranks are whole numbers"),
        ({"rank-0": "1.5"}, "Ranks are whole numbers"),
    ],
)
def test_a_malformed_ballot_is_refused_and_the_voter_may_vote_again(vote_open, ballot, message):
    pid, clients = vote_open
    before = counts()
    response = action(clients[2], pid, "vote", ballot)
    assert response.status_code == 400
    assert message in text(response)
    assert counts() == before
    # A secret ballot is acknowledged with its receipt (200).
    assert action(clients[2], pid, "vote", {"rank-1": "1"}).status_code == 200


def test_voting_where_no_vote_is_open_is_refused(ada, proposal):
    before = counts()
    response = action(ada, proposal, "vote", {"rank-0": "1"})
    assert response.status_code == 400
    assert "There is no vote open." in text(response)
    assert counts() == before


POST_ONLY = [
    "respond",
    "carry",
    "withdraw",
    "publish",
    "vote",
    "volunteer",
    "mandate/decide",
    "mandate/recall",
    "meeting",
    "meeting/confirm",
    "comment",
    "founding-invitation",
]


@pytest.mark.parametrize("what", POST_ONLY)
def test_get_on_a_post_only_url_leads_back_to_the_proposal(ada, proposal, what):
    before = counts()
    response = ada.get(f"/proposals/{proposal}/{what}/")
    assert response.status_code == 302
    assert response["Location"] == f"/proposals/{proposal}/"
    assert ada.put(f"/proposals/{proposal}/{what}/").status_code == 405
    assert counts() == before


@pytest.mark.parametrize("what", ["", "amend/", *(f"{w}/" for w in POST_ONLY)])
def test_a_proposal_that_does_not_exist_is_404(ada, proposal, what):
    before = counts()
    assert ada.get(f"/proposals/999999/{what}").status_code == 404
    data = {"position": "agree", "version": 1, "matter": "x", "text": "x", "body": "x"}
    expected = 405 if what == "" else 404  # the detail page only answers GET
    assert ada.post(f"/proposals/999999/{what}", data).status_code == expected
    assert counts() == before


@pytest.mark.parametrize(
    "url", ["/proposals/abc/", "/proposals/-1/", "/proposals/1e3/", "/decisions/nope.jsonl"]
)
def test_malformed_urls_are_404(ada, url):
    assert ada.get(url).status_code == 404


def test_pages_need_a_login(client, proposal):
    for url in ("/proposals/", "/inbox/", "/decisions/", f"/proposals/{proposal}/"):
        assert client.get(url).status_code in (302, 403)
    before = counts()
    assert action(client, proposal, "respond", {"position": "agree", "version": 1}).status_code in (
        302,
        403,
    )
    assert counts() == before
