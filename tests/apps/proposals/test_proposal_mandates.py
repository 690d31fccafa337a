"""Urgent proposals that fall to a temporary coordinator: volunteering, the lot with
rotation, decisions under the mandate, expiry and recall, through HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from proposal_steps import T0, action, at, page, propose, text

from veche.apps.proposals.models import DecisionRecord, Proposal
from veche.apps.proposals.selectors import load

pytestmark = pytest.mark.django_db

SCOPE = ["Where to hold the vigil", "What the banner says"]
VOLUNTEERING = {"hours": 6}  # default charter: volunteer period of the quick-response kind
MANDATE_DAYS = 3


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def crew(group_a, make_member, client_for):
    members = [make_member(group_a, n) for n in ("ada", "ben", "cleo", "dmitri")]
    return members, [client_for(m) for m in members]


def quick_response(client, title, start):
    return propose(
        client,
        kind="group-quick-response",
        title=title,
        urgent=True,
        deadline=start + dt.timedelta(hours=1),
        mandate_scope=SCOPE,
    )


def holder_of(pid):
    st = load(Proposal.objects.get(pk=pid)).state
    return st.mandate.holder if st.mandate else None


def test_a_whole_mandate_runs_then_rotation_never_picks_the_previous_holder_again(crew, clock):
    members, clients = crew
    ids = {str(m.pk): i for i, m in enumerate(members)}

    # First mandate: a single volunteer is chosen, decides, and the mandate runs out.
    first = quick_response(clients[0], "Respond to the eviction", T0)
    clock.move_to(at(hours=1, minutes=1))
    assert "Volunteers for a temporary coordinator" in page(clients[1], first)
    assert action(clients[1], first, "volunteer").status_code == 302
    clock.move_to(at(hours=7, minutes=2))
    body = page(clients[1], first)
    assert "Under a mandate" in body and "Record a decision under your mandate" in body
    assert holder_of(first) == str(members[1].pk)
    decided = action(
        clients[1], first, "mandate/decide", {"matter": SCOPE[0], "text": "At the square, 6pm."}
    )
    assert decided.status_code == 302, text(decided)
    clock.move_to(at(days=4))
    body = page(clients[0], first)
    assert "<strong>Decided</strong>" in body and "At the square, 6pm." in body
    previous = members[1]

    # Second mandate: the previous holder is told why they may not volunteer; two others
    # do, and one of them is drawn.
    start = at(days=4, hours=1)
    clock.move_to(start)
    second = quick_response(clients[0], "Respond to the second eviction", start)
    clock.move_to(at(days=4, hours=2, minutes=1))
    barred = page(clients[1], second)
    assert "You held the last mandate of this body" in barred
    assert f'action="/proposals/{second}/volunteer/"' not in barred
    refused = action(clients[1], second, "volunteer")
    assert refused.status_code == 400
    assert "rotates temporary coordinators" in text(refused)
    for i in (2, 3):
        assert action(clients[i], second, "volunteer").status_code == 302
    assert action(clients[2], second, "volunteer").status_code == 400  # only once
    clock.move_to(at(days=4, hours=8, minutes=2))
    body = page(clients[0], second)
    assert "chosen by lot among" in body and "2 eligible volunteers" in body
    holder_id = holder_of(second)
    assert holder_id is not None and holder_id != str(previous.pk)
    holder, holder_client = members[ids[holder_id]], clients[ids[holder_id]]
    bystander = clients[({0, 2, 3} - {ids[holder_id]}).pop()]

    ok = action(holder_client, second, "mandate/decide", {"matter": SCOPE[1], "text": "No names."})
    assert ok.status_code == 302, text(ok)
    refused = action(bystander, second, "mandate/decide", {"matter": SCOPE[1], "text": "Mine."})
    assert refused.status_code == 400
    assert "only the temporary coordinator" in text(refused)
    outside = action(
        holder_client, second, "mandate/decide", {"matter": "Sell the van", "text": "Sold."}
    )
    assert outside.status_code == 400
    # Not recorded: it is only in the form, kept for the holder to correct.
    assert text(outside).count("Sold.") == 1 and "Sold.</textarea>" in text(outside)

    clock.move_to(at(days=4 + MANDATE_DAYS, hours=8, minutes=3))
    late = action(holder_client, second, "mandate/decide", {"matter": SCOPE[0], "text": "Late."})
    assert late.status_code == 400
    assert "expired" in text(late)
    body = page(clients[0], second)
    assert "<strong>Decided</strong>" in body and "No names." in body and "Late." not in body
    assert DecisionRecord.objects.get(proposal_id=second).payload["outcome"] == "decided"
    assert holder.pk != previous.pk


def test_members_recall_the_temporary_coordinator_before_expiry(crew, clock):
    members, clients = crew
    pid = quick_response(clients[0], "Respond to the raid", T0)
    clock.move_to(at(hours=1, minutes=1))
    action(clients[3], pid, "volunteer")
    clock.move_to(at(hours=7, minutes=1))
    assert holder_of(pid) == str(members[3].pk)

    # Recall needs half of the 4 members (the default charter's recall share).
    assert action(clients[0], pid, "mandate/recall").status_code == 302
    assert action(clients[0], pid, "mandate/recall").status_code == 400  # only once
    assert "Under a mandate" in page(clients[1], pid)
    assert action(clients[1], pid, "mandate/recall").status_code == 302

    body = page(clients[2], pid)
    assert "Temporary coordinator recalled" in body
    assert "The coordinator was recalled." in body
    late = action(clients[3], pid, "mandate/decide", {"matter": SCOPE[0], "text": "Still me."})
    assert late.status_code == 400
    assert "recalled" in text(late)
    assert DecisionRecord.objects.get(proposal_id=pid).payload["outcome"] == "recalled"


def test_nobody_volunteering_leaves_the_urgent_proposal_not_adopted(crew, clock):
    _members, clients = crew
    pid = quick_response(clients[0], "Respond to the storm", T0)
    clock.move_to(at(hours=7, minutes=1))
    body = page(clients[0], pid)
    assert "Not adopted" in body
    assert action(clients[1], pid, "volunteer").status_code == 400
