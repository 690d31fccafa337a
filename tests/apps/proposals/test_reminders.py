"""Who has not responded yet, within one's own group, and reminders that reach the inbox."""

from __future__ import annotations

import pytest
import time_machine
from proposal_steps import T0, action, at, page, propose, respond, text

from veche.apps.proposals.models import Awaiting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def crew(group_a, make_member, client_for):
    members = [make_member(group_a, n) for n in ("ada", "ben", "cleo")]
    return members, [client_for(m) for m in members]


def reminded(member) -> set[int]:
    return set(
        Awaiting.objects.filter(member=member, reminded_at__isnull=False).values_list(
            "proposal_id", flat=True
        )
    )


def test_a_member_sees_who_has_not_responded_and_reminds_them_into_their_inbox(crew, clock):
    members, clients = crew
    pid = propose(clients[0], kind="group-practice", title="Fix the gate")
    other = propose(clients[0], kind="group-practice", title="Another matter")
    assert respond(clients[1], pid, "agree").status_code == 302
    body = page(clients[0], pid)
    section = body.split('id="pending-h"', 1)[1].split("</section>", 1)[0]
    assert "cleo" in section and "ada" in section and "ben" not in section
    assert "Remind them" in section

    response = action(clients[0], pid, "remind")
    assert response.status_code == 302
    assert reminded(members[2]) == {pid}
    assert reminded(members[0]) == set()  # never oneself
    inbox = text(clients[2].get("/inbox/"))
    assert "Reminder from a member of your group" in inbox
    assert inbox.index("Fix the gate") < inbox.index("Another matter")  # reminders first
    assert other

    # Reminding again the same day changes nothing.
    first = Awaiting.objects.get(member=members[2], proposal_id=pid).reminded_at
    clock.move_to(at(hours=3))
    again = clients[0].post(f"/proposals/{pid}/remind/", follow=True)
    assert "Nobody was reminded" in text(again)
    assert Awaiting.objects.get(member=members[2], proposal_id=pid).reminded_at == first
    clock.move_to(at(days=1, minutes=1))
    assert action(clients[0], pid, "remind").status_code == 302
    assert Awaiting.objects.get(member=members[2], proposal_id=pid).reminded_at > first

    # Once they respond, the item and its reminder are gone.
    assert respond(clients[2], pid, "agree").status_code == 302
    assert reminded(members[2]) == set()
    assert "Reminder from a member" not in text(clients[2].get("/inbox/"))


def test_on_a_federation_proposal_each_member_sees_and_reminds_their_own_group_only(
    crew, group_b, make_member, client_for
):
    members, clients = crew
    beta = [make_member(group_b, n) for n in ("bruno", "bianca")]
    beta_client = client_for(beta[0])
    pid = propose(clients[0], kind="common-policy", title="One press for all")
    alpha_page = page(clients[0], pid)
    assert "bruno" not in alpha_page and "bianca" not in alpha_page
    beta_page = page(beta_client, pid)
    section = beta_page.split('id="pending-h"', 1)[1].split("</section>", 1)[0]
    assert "bianca" in section
    for name in ("ada", "ben", "cleo"):
        assert name not in section
    assert action(beta_client, pid, "remind").status_code == 302
    assert reminded(beta[1]) == {pid}
    assert all(reminded(m) == set() for m in members)


def test_another_groups_member_cannot_remind_on_a_groups_proposal(crew, member_b, client_for):
    members, clients = crew
    pid = propose(clients[0], kind="group-practice", title="Fix the gate")
    assert action(client_for(member_b), pid, "remind").status_code == 404
    assert all(reminded(m) == set() for m in members)


def test_a_closed_proposal_has_nobody_to_remind(crew):
    _members, clients = crew
    pid = propose(clients[0], kind="group-practice", title="Fix the gate")
    action(clients[0], pid, "withdraw")
    response = action(clients[1], pid, "remind")
    assert response.status_code == 400
    assert "nothing to remind of" in text(response)
    assert 'id="pending-h"' not in page(clients[1], pid)
