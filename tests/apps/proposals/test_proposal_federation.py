"""Compartments, spokes and the organisation's own decisions (admitting a group,
choosing a coordinator), through HTTP."""

from __future__ import annotations

import re

import pytest
import time_machine
from proposal_steps import T0, action, at, page, propose, respond, text

from veche.apps.federation.models import Group
from veche.apps.federation.selectors import is_coordinator
from veche.apps.proposals.models import DecisionRecord

pytestmark = pytest.mark.django_db

JOIN = re.compile(r"http://testserver/join/([\w-]+)/")
POST_ACTIONS = [
    "respond",
    "carry",
    "amend",
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


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


# --- 5. compartments -------------------------------------------------------------------------


def test_a_member_of_one_group_finds_nothing_of_another_groups_own_matters(
    group_a, group_b, make_member, client_for, clock
):
    ada = make_member(group_a, "ada")
    b_members = [make_member(group_b, n) for n in ("bertolucci", "bogumila")]
    b_clients = [client_for(m) for m in b_members]
    closed = propose(b_clients[0], kind="group-practice", title="Beta keeps the keys")
    for c in b_clients:
        respond(c, closed, "agree")
    open_ = propose(
        b_clients[0],
        kind="group-quick-response",
        title="Beta answers the landlord",
        urgent=True,
        deadline=at(hours=1),
        mandate_scope=["the reply"],
    )
    draft = propose(b_clients[0], kind="group-practice", title="Beta secret draft", draft=True)
    assert DecisionRecord.objects.filter(proposal_id=closed).exists()

    a = client_for(ada)
    for pid in (closed, open_, draft):
        assert a.get(f"/proposals/{pid}/").status_code == 404
        assert a.get(f"/proposals/{pid}/amend/").status_code == 404
        for what in POST_ACTIONS:
            response = action(a, pid, what, {"position": "block", "reason": "x", "version": 1})
            assert response.status_code == 404, (pid, what, response.status_code)
    for when in (at(), at(hours=1, minutes=1)):
        clock.move_to(when)
        for url in ("/proposals/", "/inbox/", "/decisions/"):
            body = text(a.get(url))
            for secret in ("Beta keeps", "Beta answers", "Beta secret", "bertolucci", "bogumila"):
                assert secret not in body, (url, secret)
    assert a.get(f"/decisions/group-{group_b.pk}.jsonl").status_code == 404
    assert a.get("/decisions/group-999999.jsonl").status_code == 404
    assert a.get(f"/decisions/group-{group_a.pk}.jsonl").status_code == 200
    assert a.get("/decisions/federation.jsonl").status_code == 200
    # B's own members do see it all.
    assert "Beta keeps the keys" in text(b_clients[1].get("/decisions/"))


# --- 6. spokes: admitting a group ----------------------------------------------------------


def test_groups_admit_a_new_group_through_their_coordinators_and_its_founder_is_invited_once(
    group_a, group_b, coordinator_a, coordinator_b, member_a, client_for, clock
):
    author = client_for(member_a)
    pid = propose(author, kind="admit-group", title="Admit Gamma", new_group_name="Gamma")
    body = page(client_for(coordinator_a), pid)
    assert "Carry your group&#x27;s position" in body or "Carry your group's position" in body

    refused = action(author, pid, "carry", {"position": "agree", "version": 1})
    assert refused.status_code == 400
    assert "only a coordinator" in text(refused)
    blank = action(client_for(coordinator_a), pid, "carry", {"position": "block", "version": 1})
    assert blank.status_code == 400  # a block needs a reason

    clock.move_to(at(minutes=5))
    ok = action(client_for(coordinator_a), pid, "carry", {"position": "agree", "version": 1})
    assert ok.status_code == 302, text(ok)
    assert "Seeking consensus" in page(author, pid)
    clock.move_to(at(minutes=10))
    ok = action(client_for(coordinator_b), pid, "carry", {"position": "agree", "version": 1})
    assert ok.status_code == 302, text(ok)

    gamma = Group.objects.get(name="Gamma")
    body = page(author, pid)
    assert "Adopted" in body and "by consensus" in body
    assert "Issue the founding invitation" in body
    assert DecisionRecord.objects.get(proposal_id=pid).payload["effect"]["applied"] is True

    assert action(client_for(coordinator_b), pid, "founding-invitation").status_code == 400
    issued = action(author, pid, "founding-invitation")
    assert issued.status_code == 200
    secret = JOIN.search(text(issued)).group(1)
    again = action(author, pid, "founding-invitation")
    assert again.status_code == 400
    assert "already issued" in text(again)
    assert "Issue the founding invitation" not in page(author, pid)

    # Later, with Gamma in the federation, the decision still stands as it was taken.
    clock.move_to(at(days=1))
    body = page(client_for(coordinator_b), pid)
    assert "Adopted" in body and "Seeking consensus" not in body

    from django.test import Client

    visitor = Client()
    joining = visitor.get(f"/join/{secret}/")
    assert joining.status_code == 200
    assert "Gamma" in text(joining)
    joined = visitor.post(
        f"/join/{secret}/",
        {
            "pseudonym": "gideon",
            "passphrase": "a long enough passphrase",
            "passphrase_again": "a long enough passphrase",
        },
    )
    assert joined.status_code == 302, text(joined)
    from veche.apps.accounts.models import Member

    founder = Member.objects.get(pseudonym="gideon")
    assert founder.group_id == gamma.pk
    assert is_coordinator(member=founder, group=gamma)


# --- 7. choosing a coordinator -------------------------------------------------------------


def test_a_group_chooses_its_coordinator_who_can_then_invite(group_a, make_member, client_for):
    members = [make_member(group_a, n) for n in ("ada", "ben", "cleo")]
    clients = [client_for(m) for m in members]
    chosen = members[2]
    assert clients[2].get(f"/groups/{group_a.pk}/invite/").status_code in (403, 404)

    pid = propose(
        clients[0], kind="group-coordinator", title="Cleo coordinates", coordinator=chosen.pk
    )
    for c in clients:
        assert respond(c, pid, "agree").status_code == 302
    body = page(clients[1], pid)
    assert "Adopted" in body and "by consensus" in body
    assert is_coordinator(member=chosen, group=group_a)
    assert clients[2].get(f"/groups/{group_a.pk}/invite/").status_code == 200


def test_a_coordinator_from_another_group_cannot_be_proposed(
    group_a, group_b, member_a, member_b, client_for
):
    from proposal_steps import counts

    before = counts()
    response = client_for(member_a).post(
        "/proposals/new/",
        {"kind": "group-coordinator", "title": "Bruno?", "body": "x", "coordinator": member_b.pk},
    )
    assert response.status_code == 400
    assert counts() == before
