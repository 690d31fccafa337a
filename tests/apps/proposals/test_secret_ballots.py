"""A secret vote counted by tellers: one sealed row per ballot, closed by nobody, counted by k.

docs/ballots.md is the protocol; these tests hold the web integration to it: dealing when
the vote opens, one row per cast (equal lengths, no voter, no time), a receipt, the close
by ``settle`` with no key at all, tellers' shares (once each, non-tellers refused), the
decision with the board's digest, and the board checked by ``veche verify-vote``.
"""

from __future__ import annotations

import datetime as dt
import html
import json

import pytest
from django.utils import timezone

from veche.apps.proposals import services as s
from veche.apps.proposals.models import (
    Awaiting,
    BallotBox,
    DecisionRecord,
    ProposalEvent,
    SealedBallot,
    SecretVote,
    Teller,
)
from veche.crypto.election import Record
from veche.domain.errors import DomainError, NotEligible
from veche.domain.proposals import Phase
from veche.verify_vote import check

pytestmark = pytest.mark.django_db(transaction=True)

H = dt.timedelta(hours=1)
# Schulze over north, south, east (+ "none of these"): rankings, one an abstention.
BALLOTS = [[2, 0, 1], [0, 1, 2], [1, 2, 0], [0, 2, 1], [0], []]


def _vote(make_member, group, *, ballots=BALLOTS, coordinator=True):
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import CoordinatorTerm, Group

    now = timezone.now()
    voters = [
        make_member(group, f"voter{i}", coordinator=coordinator and i == 0)
        for i in range(len(ballots))
    ]
    Member.objects.update(joined_at=now - 100 * H)
    Group.objects.update(created_at=now - 100 * H)
    CoordinatorTerm.objects.update(starts_at=now - 100 * H)
    row = s.create_proposal(
        author=voters[0], kind_key="group-practice", title="Where", body="Choose.",
        urgent=True, deadline=now - 10 * H, options=["north", "south", "east"],
        now=now - 11 * H,
    )  # fmt: skip
    receipts = []
    for i, (voter, ballot) in enumerate(zip(voters, ballots, strict=True)):
        loaded = s.cast_ballot(row=row, voter=voter, ballot=ballot, now=now - 9 * H + i * H)
        receipts.append(loaded.receipt)
    return row, voters, receipts


def later():
    return timezone.now() + dt.timedelta(days=2)


def _close(row):
    # The command line holds no key at all: it closes the vote all the same.
    s.settle_due(now=later(), scopes=frozenset())
    row.refresh_from_db()


def _tellers(row, test_keys):
    from veche.apps.accounts.models import Member

    seats = Teller.objects.filter(vote__proposal=row).order_by("index")
    return [(Member.objects.get(pk=t.member_id), test_keys.private[t.member_id]) for t in seats]


def test_each_cast_is_one_sealed_row_of_one_length_and_the_box_is_never_written(
    make_member, group_a
):
    row, _voters, receipts = _vote(make_member, group_a)
    assert not BallotBox.objects.exists()
    stored = list(SealedBallot.objects.all())
    assert len(stored) == len(BALLOTS)
    assert len({len(bytes(b.ciphertext)) for b in stored}) == 1  # abstention included
    # The row says nothing of who or when: a random id, the vote, the ciphertext.
    assert {f.column for f in SealedBallot._meta.concrete_fields} == {"id", "vote_id", "ciphertext"}
    assert len({b.id for b in stored}) == len(BALLOTS)
    # The roll carries no ballot.
    for event in ProposalEvent.objects.filter(proposal=row, type="ballot_cast"):
        assert event.data == {}
        assert not bytes(event.text_ct)
    # A receipt each, all different, four groups of five.
    assert len(set(receipts)) == len(BALLOTS)
    assert all(len(r) == 23 and r.count("-") == 3 for r in receipts)


def test_opening_deals_three_tellers_with_the_coordinator_and_stores_no_secret(
    make_member, group_a
):
    row, voters, _ = _vote(make_member, group_a)
    vote = SecretVote.objects.get(proposal=row)
    tellers = list(Teller.objects.filter(vote=vote).order_by("index"))
    assert len(tellers) == 3
    assert vote.manifest["threshold"] == 2
    assert voters[0].pk in {t.member_id for t in tellers}  # the coordinator tells
    assert len({t.member_id for t in tellers}) == 3
    assert set(vote.manifest) >= {"public_key", "commitments", "verification_keys", "shape"}
    assert not any(t.share for t in tellers)


def test_a_second_ballot_a_non_voter_and_a_malformed_ballot_are_refused_and_change_nothing(
    make_member, group_a, group_b
):
    row, voters, _ = _vote(make_member, group_a, ballots=BALLOTS[:3])
    outsider = make_member(group_b, "outsider")
    count = SealedBallot.objects.count()
    events = ProposalEvent.objects.filter(proposal=row).count()
    now = timezone.now() - 2 * H
    for voter, ballot in [(voters[0], [1, 0]), (outsider, [0]), (voters[0], "north")]:
        with pytest.raises(DomainError):
            s.cast_ballot(row=row, voter=voter, ballot=ballot, now=now)
    late = make_member(group_a, "late")
    with pytest.raises(DomainError):
        s.cast_ballot(row=row, voter=late, ballot=[9, 9], now=now)
    assert SealedBallot.objects.count() == count
    assert ProposalEvent.objects.filter(proposal=row).count() == events


def test_settle_closes_the_vote_into_counting_and_the_tellers_inboxes_say_so(make_member, group_a):
    row, _voters, _ = _vote(make_member, group_a)
    _close(row)
    assert row.phase == Phase.COUNTING.value
    assert row.closed_at is None
    vote = SecretVote.objects.get(proposal=row)
    assert len(bytes(vote.sums)) == 128 * len(vote.manifest["shape"]["entries"])
    tellers = set(Teller.objects.filter(vote=vote).values_list("member_id", flat=True))
    counting = set(
        Awaiting.objects.filter(proposal=row, wait="count").values_list("member_id", flat=True)
    )
    assert counting == tellers


def test_k_tellers_count_it_once_each_and_the_decision_names_the_board(
    make_member, group_a, test_keys, tmp_path
):
    row, voters, receipts = _vote(make_member, group_a)
    _close(row)
    (t1, k1), (t2, k2), (t3, _k3) = _tellers(row, test_keys)
    outsider = next(v for v in voters if v.pk not in {t1.pk, t2.pk, t3.pk})
    with pytest.raises(NotEligible):
        s.give_share(
            row=row, teller=outsider, private_key=test_keys.private[outsider.pk], now=later()
        )
    # A teller's key does not open another's seat: each share opens only with its own key.
    assert s.give_share(row=row, teller=t1, private_key=k1, now=later()) is s.ShareResult.GIVEN
    assert s.give_share(row=row, teller=t1, private_key=k1, now=later()) is s.ShareResult.ALREADY
    row.refresh_from_db()
    assert row.phase == Phase.COUNTING.value  # k - 1 shares decide nothing
    assert s.give_share(row=row, teller=t2, private_key=k2, now=later()) is s.ShareResult.COUNTED
    row.refresh_from_db()
    assert row.closed_at is not None
    assert s.give_share(row=row, teller=t3, private_key=test_keys.private[t3.pk], now=later()) is (
        s.ShareResult.ALREADY
    )
    assert Teller.objects.exclude(share=b"").count() == 2
    assert not Awaiting.objects.filter(proposal=row).exists()

    record = DecisionRecord.objects.get(proposal=row)
    vote = SecretVote.objects.get(proposal=row)
    assert record.payload["board"] == vote.board_digest
    # The same result a plain count of these ballots gives: Schulze picks north.
    assert record.payload["tally"]["vote"]["winner"] == 0
    board = s.counting.board(s.selectors.load(row))
    assert board is not None and board.digest == vote.board_digest
    report = check(Record.from_json(board.to_json()), receipt=receipts[2], processes=1)
    assert report.problems == ()
    assert report.receipt_found is not None
    assert json.loads(board.to_json())["outcome"]["result"]["winner"] == 0
    # The command members run on the downloaded file finds a receipt, and only a real one.
    from veche.cli import main

    path = tmp_path / "vote.json"
    path.write_bytes(s.vote_record(row).to_json())  # type: ignore[union-attr]
    assert (
        main(["verify-vote", str(path), "--receipt", receipts[0].lower(), "--processes", "1"]) == 0
    )
    assert (
        main(["verify-vote", str(path), "--receipt", "AAAAA-AAAAA-AAAAA-AAAAA", "--processes", "1"])
        == 1
    )


def test_a_wrong_key_is_refused_with_a_message(make_member, group_a, test_keys):
    row, _voters, _ = _vote(make_member, group_a)
    _close(row)
    (t1, _k1), (_t2, k2), _ = _tellers(row, test_keys)
    with pytest.raises(NotEligible):
        s.give_share(row=row, teller=t1, private_key=k2, now=later())
    assert not Teller.objects.exclude(share=b"").exists()


def test_a_vote_with_no_ballot_closes_without_tellers(make_member, group_a):
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

    now = timezone.now()
    author = make_member(group_a, "alone", coordinator=True)
    Member.objects.update(joined_at=now - 100 * H)
    Group.objects.update(created_at=now - 100 * H)
    row = s.create_proposal(
        author=author, kind_key="group-practice", title="T", body="B", urgent=True,
        deadline=now - 10 * H, now=now - 11 * H,
    )  # fmt: skip
    _close(row)
    assert row.closed_at is not None
    assert row.outcome == "not_adopted"


def test_a_teller_logging_in_gives_their_share(make_member, group_a, test_keys):
    row, _voters, _ = _vote(make_member, group_a)
    _close(row)
    (t1, k1), (t2, k2), _ = _tellers(row, test_keys)
    assert s.give_shares_on_login(member=t1, private_key=k1, now=later()) == 1
    assert s.give_shares_on_login(member=t1, private_key=k1, now=later()) == 0
    assert s.give_shares_on_login(member=t2, private_key=k2, now=later()) == 1
    row.refresh_from_db()
    assert row.closed_at is not None


def test_through_the_pages_a_non_teller_is_refused_and_the_record_waits_for_the_count(
    make_member, group_a, test_keys, client_for
):
    from tests.apps.proposals.proposal_steps import text

    row, voters, _ = _vote(make_member, group_a)
    seats = set(Teller.objects.filter(vote__proposal=row).values_list("member_id", flat=True))
    outsider = next(v for v in voters if v.pk not in seats)
    teller = next(v for v in voters if v.pk in seats)
    import time_machine

    with time_machine.travel(later(), tick=False):
        page = client_for(outsider)
        assert "tellers have signed in" in text(page.get(f"/proposals/{row.pk}/"))
        refused = page.post(f"/proposals/{row.pk}/count/")
        assert refused.status_code == 400
        assert "only this vote's tellers" in html.unescape(text(refused))
        assert page.get(f"/proposals/{row.pk}/vote-record.json").status_code == 404
        own = client_for(teller)
        assert "Give my share of the count" in text(own.get(f"/proposals/{row.pk}/"))
        assert own.post(f"/proposals/{row.pk}/count/").status_code == 302
        assert own.post(f"/proposals/{row.pk}/count/").status_code == 302  # once is enough
        assert Teller.objects.exclude(share=b"").count() == 1
        assert "Your share of the count is given" in text(own.get(f"/proposals/{row.pk}/"))
