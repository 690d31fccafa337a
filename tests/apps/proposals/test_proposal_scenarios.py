"""Proposals from first post to decision, through HTTP, as members live them.

The clock is frozen at T0 (time_machine) and moved on to cross deadlines; the pages
compute every state from stored events and that instant, so travelling is enough.
"""

from __future__ import annotations

import html

import pytest
import time_machine
from proposal_steps import T0, action, at, count_by_tellers, page, propose, respond, text

from veche.apps.proposals.models import (
    BallotBox,
    DecisionRecord,
    Proposal,
    ProposalEvent,
    SealedBallot,
)
from veche.domain.decisions_log import records_from_jsonl, verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


# --- 1. consensus ---------------------------------------------------------------------------


def test_group_proposal_is_adopted_by_consensus_once_everyone_has_responded(
    group_a, make_member, client_for
):
    author, second, third = (make_member(group_a, n) for n in ("ada", "ben", "cleo"))
    pid = propose(client_for(author), kind="group-practice", title="Meet on Tuesdays")

    assert respond(client_for(author), pid, "agree").status_code == 302
    assert respond(client_for(second), pid, "stand_aside", "I work Tuesdays").status_code == 302
    body = page(client_for(third), pid)
    assert "Seeking consensus" in body
    assert "I work Tuesdays" in body  # own group's reasons are shown, with names
    assert respond(client_for(third), pid, "agree").status_code == 302

    body = page(client_for(author), pid)
    assert "Adopted" in body
    assert "by consensus" in body
    decisions = client_for(third).get("/decisions/")
    assert decisions.status_code == 200
    assert "Meet on Tuesdays" in text(decisions)
    assert "intact" in text(decisions)

    export = client_for(second).get(f"/decisions/group-{group_a.pk}.jsonl")
    assert export.status_code == 200
    records = records_from_jsonl(export.content.decode())
    assert len(records) == 1
    assert records[0].payload["outcome"] == "adopted"
    assert records[0].payload["reached_by"] == "consensus"
    assert verify(records).ok


def test_a_new_member_joining_later_does_not_reopen_an_adopted_proposal(
    group_a, make_member, client_for, clock
):
    author, second = make_member(group_a, "ada"), make_member(group_a, "ben")
    pid = propose(client_for(author), kind="group-practice", title="Meet on Tuesdays")
    respond(client_for(author), pid, "agree")
    respond(client_for(second), pid, "agree")
    assert "Adopted" in page(client_for(author), pid)

    clock.move_to(at(hours=1))
    newcomer = make_member(group_a, "newcomer")
    body = page(client_for(newcomer), pid)
    assert "Adopted" in body
    assert "Seeking consensus" not in body
    assert respond(client_for(newcomer), pid, "block", "too late").status_code == 400
    assert Proposal.objects.get(pk=pid).outcome == "adopted"


# --- 2. federation assembly, blocked ------------------------------------------------------


def test_federation_proposal_with_two_blocks_is_not_adopted_and_other_groups_stay_unnamed(
    group_a, group_b, make_member, client_for, clock
):
    ada, ben = make_member(group_a, "ada"), make_member(group_a, "ben")
    zora, yuri = make_member(group_b, "zoravel"), make_member(group_b, "yurkovic")
    pid = propose(client_for(ada), kind="common-policy", title="Share the van", deadline=at(days=3))

    assert respond(client_for(ada), pid, "agree").status_code == 302
    assert respond(client_for(ben), pid, "block", "The van is ours").status_code == 302
    assert respond(client_for(zora), pid, "block", "We need it weekly").status_code == 302
    assert respond(client_for(yuri), pid, "stand_aside", "No opinion").status_code == 302
    assert "Seeking consensus" in page(client_for(ada), pid)

    clock.move_to(at(days=3, minutes=1))
    body = page(client_for(ada), pid)
    assert "Not adopted" in body
    assert "by consensus" in body
    # Own group by name, other groups counted (their reasons shown without names).
    assert "ada" in body and "ben" in body
    assert "Responses from other groups (counted, not named)" in body
    assert "zoravel" not in body and "yurkovic" not in body
    body_b = page(client_for(zora), pid)
    assert "zoravel" in body_b and "yurkovic" in body_b
    assert ">ada<" not in body_b and ">ben<" not in body_b
    assert "Not adopted" in body_b
    assert DecisionRecord.objects.get(proposal_id=pid).chain == "federation"


# --- 3. urgent vote, Schulze ----------------------------------------------------------------

MON, WED, FRI, NONE = range(4)
# Ranks per voter (option index -> rank); Wednesday beats each other option 3 to 2 while
# Monday and Friday have the most first preferences: Schulze must pick Wednesday.
SCHULZE_BALLOTS = [
    {MON: 1, WED: 2, FRI: 3, NONE: 4},
    {MON: 1, WED: 2, FRI: 3},
    {WED: 1, FRI: 2, MON: 3},
    {FRI: 1, WED: 2, MON: 3, NONE: 4},
    {FRI: 1, WED: 2, MON: 3},
]


def test_urgent_proposal_without_consensus_goes_to_a_secret_schulze_vote(
    group_a, make_member, client_for, clock
):
    members = [make_member(group_a, f"voter{i}") for i in range(5)]
    clients = [client_for(m) for m in members]
    pid = propose(
        clients[0],
        kind="group-practice",
        title="Which day to meet",
        urgent=True,
        deadline=at(hours=12),
        options=["Monday", "Wednesday", "Friday"],
    )
    assert (
        respond(clients[1], pid, "block", "Not without asking the night shift").status_code == 302
    )

    clock.move_to(at(hours=12, minutes=1))
    body = page(clients[0], pid)
    assert "Urgent vote" in body
    for i in range(4):
        assert f'name="rank-{i}"' in body
    assert "none of these" in body

    for client, ranks in zip(clients, SCHULZE_BALLOTS, strict=True):
        response = action(client, pid, "vote", {f"rank-{i}": r for i, r in ranks.items()})
        assert response.status_code == 200, text(response)
        assert "Your receipt" in text(response)
    again = action(clients[0], pid, "vote", {"rank-0": "1"})
    assert again.status_code == 400
    assert "nobody votes twice" in text(again)

    # Secret ballot: what was voted is stored apart from who voted, one sealed row per
    # ballot with no voter and no time; the old box is not written.
    assert {f.column for f in SealedBallot._meta.concrete_fields} == {"id", "vote_id", "ciphertext"}
    assert SealedBallot.objects.filter(vote__proposal_id=pid).count() == 5
    assert not BallotBox.objects.exists()
    roll = ProposalEvent.objects.filter(proposal_id=pid, type="ballot_cast")
    assert roll.count() == 5
    assert all("ballot" not in e.data and not bytes(e.text_ct) for e in roll)

    clock.move_to(at(hours=36, minutes=2))
    assert "tellers have signed in" in page(clients[2], pid)
    count_by_tellers(pid, members, clients)
    body = html.unescape(page(clients[2], pid))
    assert "Adopted" in body and "by vote" in body
    assert "Winner: <strong>Wednesday</strong>" in body
    assert "Download this vote's record" in body
    assert "Pairwise preferences" in body
    assert "Strongest paths (Schulze)" in body
    assert "Ranking: Wednesday &gt;" in page(clients[2], pid)

    from veche.domain.voting import Method, VoteSpec, tally

    spec = VoteSpec(
        method=Method.SCHULZE,
        options=("Monday", "Wednesday", "Friday", "none of these"),
        status_quo=NONE,
    )
    ballots = [[i for i, _r in sorted(b.items(), key=lambda kv: kv[1])] for b in SCHULZE_BALLOTS]
    assert tally(spec, ballots, eligible=5, tie_seed=b"x" * 32).winner == WED
    payload = DecisionRecord.objects.get(proposal_id=pid).payload
    audit = payload["tally"]["vote"]["audit"]
    assert audit["pairwise"][WED][MON] == 3 and audit["pairwise"][MON][WED] == 2
    assert audit["pairwise"][WED][FRI] == 3 and audit["pairwise"][FRI][WED] == 2
