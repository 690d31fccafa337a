"""A secret vote counted by tellers: it closes into COUNTING and a VoteCounted decides it.

The replay never sees such a ballot: the roll counts it, the tellers' decrypted totals
decide, by the same rule as a plain count of the same ballots (hypothesis).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.builders import T0, History, group_electorate, group_kind, propose
from veche.domain.charter import (
    Charter,
    InvalidCharter,
    MandateFallback,
    VoteFallback,
    default_charter,
    validate,
)
from veche.domain.consensus import Position
from veche.domain.errors import DomainError, InvalidEvent
from veche.domain.proposals import (
    BallotCast,
    Outcome,
    Phase,
    Responded,
    VoteCounted,
    summarise,
)
from veche.domain.proposals.vote import seed_of
from veche.domain.voting import Method, tally
from veche.domain.voting.tellers import choose_tellers
from veche.domain.voting.vectors import ballot_vector

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
DEADLINE = T0 + timedelta(days=7)


def _history(method: Method = Method.SCHULZE, n: int = 5) -> History:
    kind = group_kind(fallback=VoteFallback(method=method))
    electorate = group_electorate(n)
    proposal = dataclasses.replace(
        propose(kind, electorate, urgent=True, options=("x", "y")), sealed_ballots=True
    )
    h = History.of(proposal, electorate)
    h.do(Responded("m5", Position.BLOCK, T0 + HOUR, version=1))
    return h


def _cast(h: History, ballots: list[object]) -> None:
    for i, ballot in enumerate(ballots, start=1):
        h.do(BallotCast(f"m{i}", ballot, DEADLINE + i * HOUR / 10))


def _totals(h: History, ballots: list[object]) -> tuple[int, ...]:
    vote = h.at(DEADLINE).vote
    assert vote is not None
    vectors = [ballot_vector(vote.spec, b, max_ballots=vote.max_ballots) for b in ballots]
    return tuple(sum(column) for column in zip(*vectors, strict=True))


def test_the_replay_counts_the_roll_but_keeps_no_ballot() -> None:
    h = _history()
    _cast(h, [[0, 1], [1]])
    st_ = h.at(DEADLINE + HOUR)
    assert st_.vote is not None and st_.vote.counted_by_tellers
    assert st_.vote.ballots_cast == 2
    # What is stored for the replay carries no ballot: the events decode with None.
    h.events = [
        dataclasses.replace(e, ballot=None) if isinstance(e, BallotCast) else e for e in h.events
    ]
    assert h.at(DEADLINE + HOUR).vote.ballots_cast == 2  # type: ignore[union-attr]


def test_a_malformed_new_ballot_is_refused() -> None:
    h = _history()
    with pytest.raises(DomainError):
        h.do(BallotCast("m1", [7], DEADLINE + HOUR))


def test_at_the_deadline_it_waits_for_tellers_and_nothing_is_due() -> None:
    h = _history()
    _cast(h, [[0, 1], [1]])
    st_ = h.at(DEADLINE + 2 * DAY)
    assert st_.phase is Phase.COUNTING
    assert st_.decision is None
    assert st_.next is None
    summary = summarise(st_)
    assert summary.due_at is None and not summary.due_reads_ballots


def test_without_a_ballot_it_closes_at_once_needing_no_teller() -> None:
    h = _history()
    st_ = h.at(DEADLINE + 2 * DAY)
    assert st_.phase is Phase.CLOSED
    assert st_.decision is not None and st_.decision.outcome is Outcome.NOT_ADOPTED


def test_vote_counted_decides_by_the_method_rule() -> None:
    h = _history()
    ballots: list[object] = [[0, 1], [1, 0], [0], [0, 2]]
    _cast(h, ballots)
    at = DEADLINE + 2 * DAY
    st_ = h.do(VoteCounted("m2", _totals(h, ballots), 4, at))
    assert st_.phase is Phase.CLOSED
    assert st_.vote is not None and st_.vote.result is not None
    assert st_.vote.result.winner == 0
    assert st_.decision is not None and st_.decision.outcome is Outcome.ADOPTED


def test_a_count_that_disagrees_with_the_roll_or_comes_early_is_refused() -> None:
    h = _history()
    ballots: list[object] = [[0, 1], [1, 0]]
    _cast(h, ballots)
    with pytest.raises(InvalidEvent):
        h.do(VoteCounted("m2", _totals(h, ballots), 3, DEADLINE + 2 * DAY))
    with pytest.raises(DomainError):
        h.do(VoteCounted("m2", _totals(h, ballots), 2, DEADLINE + 2 * HOUR))
    with pytest.raises(DomainError):
        h.do(VoteCounted("m2", (999,) * 4, 2, DEADLINE + 2 * DAY))


rankings = st.lists(st.permutations([0, 1, 2]).map(lambda p: p[:2]), min_size=1, max_size=5)


@settings(max_examples=30, deadline=None)
@given(rankings)
def test_the_tellers_count_equals_the_plain_count(ballots) -> None:
    h = _history()
    _cast(h, list(ballots))
    vote = h.at(DEADLINE).vote
    assert vote is not None
    st_ = h.do(VoteCounted("m1", _totals(h, list(ballots)), len(ballots), DEADLINE + 2 * DAY))
    plain = tally(
        vote.spec,
        [tuple(b) for b in ballots],
        eligible=vote.eligible,
        tie_seed=seed_of(h.proposal, b"vote"),
    )
    assert st_.vote is not None and st_.vote.result is not None
    assert st_.vote.result.to_dict() == plain.to_dict()


# --- the charter and the tellers ----------------------------------------------------------


def test_a_secret_instant_runoff_vote_is_refused_by_the_charter_saying_why() -> None:
    kind = dataclasses.replace(
        default_charter().kind("group-practice"), fallback=VoteFallback(method=Method.IRV)
    )
    charter = dataclasses.replace(
        default_charter(),
        kinds=tuple(kind if k.key == kind.key else k for k in default_charter().kinds),
    )
    with pytest.raises(InvalidCharter, match="Schulze"):
        validate(charter)


@pytest.mark.parametrize(("tellers", "needed"), [(0, 1), (3, 0), (3, 4), (16, 2)])
def test_tellers_and_threshold_are_validated(tellers: int, needed: int) -> None:
    for fallback in (
        VoteFallback(tellers=tellers, tellers_needed=needed),
        MandateFallback(tellers=tellers, tellers_needed=needed),
    ):
        kind = dataclasses.replace(default_charter().kind("group-practice"), fallback=fallback)
        kinds = tuple(kind if k.key == kind.key else k for k in default_charter().kinds)
        with pytest.raises(InvalidCharter):
            validate(dataclasses.replace(default_charter(), kinds=kinds))


def test_a_charter_without_teller_fields_reads_the_defaults_and_keeps_its_json() -> None:
    charter = default_charter()
    data = charter.to_dict()
    assert "tellers" not in str(data)
    back = Charter.from_dict(data)
    kind = back.kind("group-practice")
    assert isinstance(kind.fallback, VoteFallback)
    assert (kind.fallback.tellers, kind.fallback.tellers_needed) == (3, 2)
    changed = dataclasses.replace(
        kind, fallback=dataclasses.replace(kind.fallback, tellers=5, tellers_needed=3)
    )
    kinds = tuple(changed if k.key == kind.key else k for k in back.kinds)
    again = Charter.from_dict(dataclasses.replace(back, kinds=kinds).to_dict())
    assert again.kind("group-practice").fallback.tellers == 5  # type: ignore[union-attr]


def test_a_group_vote_is_told_by_its_coordinator_and_members_drawn_by_lot() -> None:
    body = [f"m{i}" for i in range(1, 8)]
    chosen = choose_tellers(
        body=body, coordinators={"g": ["m4"]}, group_of=dict.fromkeys(body, "g"),
        federation=False, seed=b"s" * 32, wanted=3, needed=2,
    )  # fmt: skip
    assert chosen.members[0] == "m4" and len(set(chosen.members)) == 3
    assert chosen.threshold == 2
    again = choose_tellers(
        body=list(reversed(body)), coordinators={"g": ["m4"]}, group_of=dict.fromkeys(body, "g"),
        federation=False, seed=b"s" * 32, wanted=3, needed=2,
    )  # fmt: skip
    assert again == chosen  # the lot, not the listing, decides


def test_a_federation_vote_is_told_by_coordinators_of_different_groups() -> None:
    group_of = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "c1": "c", "d1": "d"}
    chosen = choose_tellers(
        body=list(group_of),
        coordinators={"a": ["a1", "a2"], "b": ["b1"], "c": ["c1"], "d": ["d1"]},
        group_of=group_of, federation=True, seed=b"t" * 32, wanted=3, needed=2,
    )  # fmt: skip
    assert len({group_of[m] for m in chosen.members}) == 3


def test_a_small_body_has_fewer_tellers_and_a_reachable_threshold() -> None:
    chosen = choose_tellers(
        body=["m1", "m2"], coordinators={}, group_of={"m1": "g", "m2": "g"},
        federation=False, seed=b"u" * 32, wanted=3, needed=2,
    )  # fmt: skip
    assert len(chosen.members) == 2 and chosen.threshold == 2
    alone = choose_tellers(
        body=["m1"], coordinators={}, group_of={"m1": "g"},
        federation=False, seed=b"u" * 32, wanted=3, needed=2,
    )  # fmt: skip
    assert alone.members == ("m1",) and alone.threshold == 1
