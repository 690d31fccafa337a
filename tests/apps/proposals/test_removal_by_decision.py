"""Removing a member is the group's decision unless the charter lets a coordinator act alone.

Through HTTP: the group page offers "propose the removal" (or "Remove", where the charter
allows it); the proposal names the member by id; the member concerned sees it but does not
decide it; adopted, it removes them (sessions, keys) and the group's log says so.
"""

from __future__ import annotations

import html
import re

import pytest
import time_machine
from proposal_steps import T0, action, at, count_by_tellers, page, propose, respond, text

from veche.apps.accounts.models import KeyGrant
from veche.apps.proposals.models import DecisionRecord, Proposal
from veche.crypto import group_scope

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def crew(group_a, coordinator_a, make_member, client_for):
    members = [coordinator_a, *(make_member(group_a, n) for n in ("ada", "ben", "cleo"))]
    return members, [client_for(m) for m in members]


def test_the_group_page_offers_to_propose_a_removal_and_the_coordinator_cannot_act_alone(
    crew, group_a
):
    members, clients = crew
    body = text(clients[0].get(f"/groups/{group_a.pk}/"))
    assert "/remove/" not in body
    link = f"/proposals/new/?kind=remove-member&amp;member={members[1].pk}"
    assert link in body
    assert "propose the removal" in body
    refused = clients[0].post(
        f"/groups/{group_a.pk}/members/{members[1].pk}/remove/", {"confirm": "yes"}, follow=True
    )
    assert "Propose the removal to the group instead" in text(refused)
    members[1].refresh_from_db()
    assert members[1].is_active


def test_where_the_charter_allows_it_a_coordinator_still_removes_alone(
    crew, group_a, coordinators_remove_alone
):
    members, clients = crew
    body = text(clients[0].get(f"/groups/{group_a.pk}/"))
    assert f"/groups/{group_a.pk}/members/{members[1].pk}/remove/" in body
    assert text(clients[1].get(f"/groups/{group_a.pk}/")).count("/remove/") == 0
    clients[0].post(f"/groups/{group_a.pk}/members/{members[1].pk}/remove/", {"confirm": "yes"})
    members[1].refresh_from_db()
    assert not members[1].is_active


def test_an_adopted_removal_removes_the_member_who_did_not_take_part_in_deciding_it(crew, group_a):
    members, clients = crew
    target = members[3]
    form = text(clients[1].get(f"/proposals/new/?kind=remove-member&member={target.pk}"))
    assert re.search(rf'<option value="{target.pk}" selected>', form)
    assert f'<option value="{members[1].pk}"' not in form.split('name="member"', 1)[1]
    pid = propose(
        clients[1], kind="remove-member", title="Remove cleo",
        body="Cleo passed our list to the landlord.", member=str(target.pk),
    )  # fmt: skip
    assert Proposal.objects.get(pk=pid).effect == {"member": target.pk}

    concerned = page(clients[3], pid)
    assert "Cleo passed our list" in concerned  # they see what is said about them
    assert "does not take part in deciding their own removal" in concerned
    assert f'action="/proposals/{pid}/respond/"' not in concerned
    assert respond(clients[3], pid, "block", "It is not true.").status_code == 400
    assert "0 of 3 have responded" in page(clients[0], pid)  # four members, one concerned

    for client in clients[:3]:
        assert respond(client, pid, "agree").status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert not KeyGrant.objects.filter(member=target).exists()
    assert KeyGrant.objects.filter(member=members[0], scope=group_scope(group_a.pk), epoch=2)
    assert clients[3].get("/inbox/").status_code == 302  # their sessions ended

    chain = list(DecisionRecord.objects.filter(chain=f"group-{group_a.pk}").order_by("seq"))
    assert [r.kind for r in chain] == ["removal", "decision"]
    assert chain[0].payload["decision"] == pid and chain[0].payload["by"] is None
    assert chain[1].payload["effect"] == {
        "power": "remove_member", "member": target.pk, "applied": True
    }  # fmt: skip
    log = text(clients[0].get("/decisions/"))
    assert f"By the group's decision, {target.pseudonym} left the group" in html.unescape(log)


def test_a_removal_names_a_member_of_the_authors_group_and_never_the_author(crew, member_b):
    members, clients = crew
    data = {"kind": "remove-member", "title": "Remove", "body": "Why."}
    for named, message in (
        ("", "say which member to remove"),
        (str(member_b.pk), "Select a valid choice"),
        (str(members[1].pk), "Select a valid choice"),  # the author themselves
    ):
        response = clients[1].post("/proposals/new/", {**data, "member": named})
        assert response.status_code == 400
        assert message in text(response)
    assert not Proposal.objects.exists()


def test_an_urgent_removal_without_consensus_goes_to_a_two_thirds_vote(crew, clock):
    members, clients = crew
    row = re.search(
        r'<div class="kind-rule" id="kind-remove-member">(.*?)</div>',
        text(clients[1].get("/proposals/new/")),
        re.S,
    ).group(1)
    assert "supermajority" in row and "at least 2/3 of the ballots" in row
    pid = propose(
        clients[1], kind="remove-member", title="Remove cleo now", urgent=True,
        deadline=at(hours=1), member=str(members[3].pk),
    )  # fmt: skip
    assert "it goes to a vote" in page(clients[0], pid)
    assert respond(clients[2], pid, "block", "Hear her first.").status_code == 302
    clock.move_to(at(hours=1, minutes=1))
    body = page(clients[0], pid)
    assert "Urgent vote" in body and "supermajority" in body
    assert action(clients[3], pid, "vote", {"choice": "0"}).status_code == 400  # concerned
    for client, choice in zip(clients[:3], ("0", "0", "1"), strict=True):
        assert action(client, pid, "vote", {"choice": choice}).status_code == 200  # receipt
    clock.move_to(at(days=1, hours=1, minutes=2))
    # The member concerned is not in the body, so never one of its tellers.
    count_by_tellers(pid, members[:3], clients[:3])
    body = page(clients[0], pid)
    assert "<strong>Adopted</strong> by vote" in body
    members[3].refresh_from_db()
    assert not members[3].is_active
