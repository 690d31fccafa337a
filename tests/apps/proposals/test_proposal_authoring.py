"""Meetings in person, amending, withdrawing and drafts, through HTTP."""

from __future__ import annotations

import pytest
import time_machine
from proposal_steps import T0, action, at, page, propose, respond, text

from veche.apps.proposals.models import Proposal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def four(group_a, make_member, client_for):
    members = [make_member(group_a, n) for n in ("ada", "ben", "cleo", "dmitri")]
    return members, [client_for(m) for m in members]


MEETING = {"outcome": "adopted", "reached_by": "consensus", "attendance": 3, "notes": "Hall B"}


def test_a_meeting_record_confirmed_by_two_others_closes_the_proposal(four, clock):
    _members, clients = four
    pid = propose(clients[0], kind="group-practice", title="Paint the hall")
    respond(clients[3], pid, "object", "Which colour?")
    assert action(clients[1], pid, "meeting", MEETING).status_code == 302
    assert action(clients[2], pid, "meeting", MEETING).status_code == 400  # one at a time
    own = action(clients[1], pid, "meeting/confirm")
    assert own.status_code == 400
    assert "the recorder cannot confirm their own record" in text(own)

    clock.move_to(at(minutes=1))
    assert action(clients[2], pid, "meeting/confirm").status_code == 302
    assert "Seeking consensus" in page(clients[0], pid)
    assert action(clients[2], pid, "meeting/confirm").status_code == 400  # once each
    assert action(clients[3], pid, "meeting/confirm").status_code == 302
    body = page(clients[0], pid)
    assert "Adopted" in body and "at an in-person meeting" in body
    assert Proposal.objects.get(pk=pid).outcome == "adopted"


def test_a_meeting_record_needs_enough_attendance_and_a_valid_outcome(four):
    _members, clients = four
    pid = propose(clients[0], kind="group-practice", title="Paint the hall")
    for bad in (
        {**MEETING, "attendance": 2},
        {**MEETING, "attendance": "many"},
        {**MEETING, "outcome": "withdrawn"},
        {**MEETING, "reached_by": "mandate"},
    ):
        assert action(clients[1], pid, "meeting", bad).status_code == 400, bad
    assert "Seeking consensus" in page(clients[0], pid)


def test_amending_resets_responses_and_a_response_to_the_old_version_is_refused(four, clock):
    _members, clients = four
    pid = propose(clients[0], kind="group-practice", title="Paint the hall")
    assert respond(clients[1], pid, "agree").status_code == 302
    assert respond(clients[2], pid, "agree").status_code == 302

    clock.move_to(at(hours=1))
    assert clients[1].get(f"/proposals/{pid}/amend/").status_code == 404  # not the author
    assert action(clients[1], pid, "amend", {"title": "Mine", "body": "x"}).status_code == 404
    amended = action(clients[0], pid, "amend", {"title": "Paint the hall green", "body": "Green."})
    assert amended.status_code == 302
    body = page(clients[1], pid)
    assert "Paint the hall green" in body
    assert "0 of 4 have responded" in body

    stale = respond(clients[3], pid, "agree", version=1)
    assert stale.status_code == 400
    assert "amended" in text(stale)
    assert respond(clients[3], pid, "agree", version=2).status_code == 302
    inbox = text(clients[1].get("/inbox/"))
    assert "Amended: respond to the new version" in inbox


def test_only_the_author_withdraws(four):
    _members, clients = four
    pid = propose(clients[0], kind="group-practice", title="Paint the hall")
    refused = action(clients[1], pid, "withdraw")
    assert refused.status_code in (400, 404)
    assert "Seeking consensus" in page(clients[0], pid)
    assert action(clients[0], pid, "withdraw").status_code == 302
    body = page(clients[1], pid)
    assert "Withdrawn" in body and "by withdrawal" in body
    assert respond(clients[1], pid, "agree").status_code == 400
    assert action(clients[0], pid, "withdraw").status_code == 400


def test_a_draft_is_invisible_to_other_members_until_published(four, clock):
    _members, clients = four
    pid = propose(clients[0], kind="group-practice", title="Half-baked idea", draft=True)
    assert "Draft" in page(clients[0], pid)
    assert clients[1].get(f"/proposals/{pid}/").status_code == 404
    assert "Half-baked idea" not in text(clients[1].get("/proposals/"))
    assert "Half-baked idea" not in text(clients[1].get("/inbox/"))
    assert respond(clients[1], pid, "agree").status_code == 404
    assert action(clients[1], pid, "publish").status_code == 404
    assert "Your draft is not published yet" in text(clients[0].get("/inbox/"))

    clock.move_to(at(hours=2))
    assert action(clients[0], pid, "publish").status_code == 302
    body = page(clients[1], pid)
    assert "Half-baked idea" in body and "Seeking consensus" in body
    assert "Half-baked idea" in text(clients[1].get("/proposals/"))
    assert respond(clients[1], pid, "agree").status_code == 302
    assert action(clients[0], pid, "publish").status_code == 400  # already published
