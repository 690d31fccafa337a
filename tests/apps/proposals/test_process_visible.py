"""Every step of the urgent process is said before it happens, through HTTP.

The new-proposal form shows each kind's shortest deadline and fallback before anything is
submitted; a proposal's page says what happens at its deadline and when; a temporary
coordinator's matters are shown from the start; a selection that fails says why; and a
coordinator chosen by vote among volunteers is named as chosen by that vote.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from proposal_steps import T0, action, at, page, propose, text

from veche.apps.federation.selectors import get_charter
from veche.apps.federation.services import put_charter
from veche.apps.proposals.models import Proposal, Teller
from veche.apps.proposals.selectors import load
from veche.domain.charter import Charter

pytestmark = pytest.mark.django_db

SCOPE = ["Where to hold the vigil", "What the banner says"]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def crew(group_a, make_member, client_for):
    members = [make_member(group_a, n) for n in ("ada", "ben", "cleo", "dmitri")]
    return members, [client_for(m) for m in members]


def set_kind(federation, key: str, **changes) -> None:
    """Put in force a charter with one kind changed (what an adopted amendment would do)."""
    charter = get_charter().to_dict()
    kinds = []
    for kind in charter["kinds"]:
        if kind["key"] == key:
            kind = {**kind, **{k: v for k, v in changes.items() if k != "fallback"}}
            if "fallback" in changes:
                kind["fallback"] = {**kind["fallback"], **changes["fallback"]}
        kinds.append(kind)
    charter["kinds"] = kinds
    put_charter(charter=Charter.from_dict(charter), at=timezone.now())


def test_the_form_shows_every_kinds_shortest_deadline_and_fallback_before_submitting(
    crew, federation
):
    set_kind(federation, "group-practice", consensus={
        "quorum": "1/2", "blocks_to_stop": 1, "period_seconds": 7 * 86400,
        "min_period_seconds": 90 * 60,
    })  # fmt: skip
    _members, clients = crew
    response = clients[0].get("/proposals/new/")
    assert response.status_code == 200
    body = text(response)
    row = re.search(
        r'<div class="kind-rule" id="kind-group-practice">(.*?)</div>', body, re.S
    ).group(1)
    assert "1 hour 30 minutes" in row  # read from the charter, not a constant
    assert "Schulze (Condorcet)" in row and "open for 1 day" in row
    assert "1/3 of those who may vote" in row
    quick = re.search(
        r'<div class="kind-rule" id="kind-group-quick-response">(.*?)</div>', body, re.S
    ).group(1)
    assert "volunteer for 6 hours" in quick and "by lot" in quick
    assert "The mandate lasts 3 days" in quick
    assert "whoever held the previous mandate sits this one out" in quick
    coordinator = re.search(
        r'<div class="kind-rule" id="kind-group-coordinator">(.*?)</div>', body, re.S
    ).group(1)
    assert "This kind cannot be urgent." in coordinator
    removal = re.search(
        r'<div class="kind-rule" id="kind-remove-member">(.*?)</div>', body, re.S
    ).group(1)
    assert "supermajority" in removal and "at least 2/3 of the ballots" in removal


def test_an_urgent_proposal_says_what_happens_at_its_deadline_and_when(crew):
    _members, clients = crew
    pid = propose(
        clients[0], kind="group-practice", title="Rent strike", urgent=True,
        deadline=at(hours=2), options=["Now", "Next month"],
    )  # fmt: skip
    body = page(clients[1], pid)
    section = body.split('id="deadline-h"', 1)[1].split("</section>", 1)[0]
    assert "2030-01-07T11:00" in section  # the deadline
    assert "it goes to a vote" in section
    assert "2030-01-08T11:00" in section  # and the vote, a day later
    assert "Schulze (Condorcet)" in section and "secret vote" in section


def test_a_plain_proposal_says_it_is_not_adopted_without_consensus(crew):
    _members, clients = crew
    pid = propose(clients[0], kind="group-practice", title="Paint the door")
    body = page(clients[0], pid)
    assert "Without consensus by the deadline, the proposal is not adopted." in body


def test_a_temporary_coordinators_matters_show_from_the_start(crew, clock):
    _members, clients = crew
    pid = propose(
        clients[0], kind="group-quick-response", title="The vigil", urgent=True,
        deadline=at(hours=1), mandate_scope=SCOPE,
    )  # fmt: skip
    body = page(clients[2], pid)
    section = body.split('id="deadline-h"', 1)[1].split("</section>", 1)[0]
    assert "a temporary coordinator is chosen" in section
    assert "2030-01-07T16:00" in section  # volunteering closes 6 hours after the deadline
    for matter in SCOPE:
        assert matter in section
    clock.move_to(at(hours=1, minutes=1))
    volunteering = page(clients[2], pid)
    assert "The temporary coordinator will decide only these matters" in volunteering
    for matter in SCOPE:
        assert matter in volunteering


def test_a_selection_without_volunteers_says_nobody_volunteered(crew, clock):
    _members, clients = crew
    pid = propose(
        clients[0], kind="group-quick-response", title="The storm", urgent=True,
        deadline=at(hours=1), mandate_scope=SCOPE,
    )  # fmt: skip
    clock.move_to(at(hours=7, minutes=2))
    body = page(clients[0], pid)
    assert "No eligible volunteer: nobody volunteered" in body
    assert SCOPE[0] in body


def test_a_selection_whose_only_volunteer_is_barred_by_rotation_says_so(crew, clock):
    members, clients = crew
    # Ben holds a first mandate; he volunteers for a second proposal before it starts.
    first = propose(
        clients[0], kind="group-quick-response", title="First", urgent=True,
        deadline=at(hours=2), mandate_scope=SCOPE,
    )  # fmt: skip
    second = propose(
        clients[0], kind="group-quick-response", title="Second", urgent=True,
        deadline=at(hours=1), mandate_scope=SCOPE,
    )  # fmt: skip
    clock.move_to(at(hours=1, minutes=1))
    assert action(clients[1], second, "volunteer").status_code == 302
    clock.move_to(at(hours=2, minutes=1))
    assert action(clients[1], first, "volunteer").status_code == 302
    clock.move_to(at(hours=7, minutes=2))  # second's volunteering has closed: ben alone
    st_first = load(Proposal.objects.get(pk=first)).state
    assert st_first.phase.value == "volunteering"
    # First closes later with ben, who by then holds the second's mandate: barred.
    clock.move_to(at(hours=8, minutes=2))
    body = page(clients[0], first)
    assert "No eligible volunteer" in body and "rotation rule" in body
    assert members[1].pseudonym in page(clients[0], second)


def test_a_coordinator_chosen_by_vote_among_volunteers_is_named_as_chosen_by_it(
    crew, federation, clock
):
    set_kind(federation, "group-quick-response", fallback={"selection": "vote"})
    members, clients = crew
    pid = propose(
        clients[0], kind="group-quick-response", title="The press", urgent=True,
        deadline=at(hours=1), mandate_scope=SCOPE,
    )  # fmt: skip
    form_row = text(clients[0].get("/proposals/new/"))
    assert "by a vote, open for 6 hours" in form_row
    clock.move_to(at(hours=1, minutes=1))
    for i in (1, 2):
        assert action(clients[i], pid, "volunteer").status_code == 302
    clock.move_to(at(hours=7, minutes=2))
    body = page(clients[3], pid)
    assert "Choosing the temporary coordinator" in body
    assert "The temporary coordinator will decide only these matters" in body
    # The ballot names the volunteers (own group: by pseudonym).
    assert members[1].pseudonym in body and members[2].pseudonym in body
    st = load(Proposal.objects.get(pk=pid)).state
    cleo = st.vote.spec.options.index(str(members[2].pk))
    for i in (0, 2, 3):
        response = action(clients[i], pid, "vote", {"approve": [str(cleo)]})
        assert response.status_code == 200, text(response)  # the receipt
    assert action(clients[1], pid, "vote", {"approve": []}).status_code == 200
    clock.move_to(at(hours=13, minutes=3))
    # The secret vote waits for its tellers; two of them count it.
    assert "tellers have signed in" in page(clients[0], pid)
    tellers = set(Teller.objects.filter(vote__proposal_id=pid).values_list("member_id", flat=True))
    for client in [c for m, c in zip(members, clients, strict=True) if m.pk in tellers][:2]:
        assert action(client, pid, "count").status_code == 302
    body = page(clients[0], pid)
    assert "Under a mandate" in body
    assert f"Holder: <strong>{members[2].pseudonym}</strong>" in body
    assert "chosen by the vote among the volunteers" in body
    assert f"Winner: <strong>{members[2].pseudonym}</strong>" in body
    assert "chosen by lot" not in body
    assert load(Proposal.objects.get(pk=pid)).state.mandate.holder == str(members[2].pk)
    assert dt.timedelta(days=3) == (
        load(Proposal.objects.get(pk=pid)).state.mandate.expires_at
        - load(Proposal.objects.get(pk=pid)).state.mandate.starts_at
    )


def test_the_rotation_rule_members_read_is_the_charters(crew, federation, clock):
    set_kind(federation, "group-quick-response", fallback={"rotation": "until_all_served"})
    _members, clients = crew
    pid = propose(
        clients[0], kind="group-quick-response", title="The march", urgent=True,
        deadline=at(hours=1), mandate_scope=SCOPE,
    )  # fmt: skip
    clock.move_to(at(hours=1, minutes=1))
    body = page(clients[1], pid)
    assert "nobody serves again until every volunteer has served" in body
