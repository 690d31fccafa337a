"""Voting: the urgent fallback vote, and casting ballots in any vote of a proposal.

:func:`fall_back_to_vote` is what happens to an urgent proposal of a kind whose charter
falls back to a vote, when consensus has not been reached at its deadline; the vote
closes at :func:`close_urgent_vote`. The vote choosing a temporary coordinator among
volunteers shares the ballot handling here and closes in ``mandate``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from veche.domain.charter import SpokesWeight, VoteFallback
from veche.domain.errors import InvalidEvent, NotEligible, _
from veche.domain.proposals.common import (
    Situation,
    close,
    own_group_coordinated,
    require_member,
    require_phase,
)
from veche.domain.proposals.events import BallotCast, VoteCounted
from veche.domain.proposals.model import (
    VOTING_PHASES,
    Fold,
    Outcome,
    Phase,
    Proposal,
    ReachedBy,
    VoteState,
)
from veche.domain.voting import TallyResult, VoteSpec, tally, validate_ballot
from veche.domain.voting.vectors import SUMMABLE_METHODS, tally_totals


def is_group_ballot(s: Situation) -> bool:
    """Return whether ballots here are groups' (a spokes-mode urgent vote), not members'."""
    return s.phase is Phase.VOTE and s.proposal.spokes


def voter_key(s: Situation, member: str) -> str | None:
    """Return under whose name ``member``'s ballot counts: theirs, or their group's."""
    if is_group_ballot(s):
        return s.electorate.group_of(member)
    return member


# --- the guard --------------------------------------------------------------------------------


def may_vote(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may cast a ballot now."""
    require_phase(s, *VOTING_PHASES, doing=_("voting"))
    assert s.vote is not None  # noqa: S101 - the vote phases always carry a vote
    if is_group_ballot(s):
        if strict and own_group_coordinated(s, member) is None:
            raise NotEligible(_("only a coordinator of the group casts its ballot"), field="group")
    else:
        require_member(s, member, strict)
    if voter_key(s, member) in s.vote.voters:
        raise InvalidEvent(_("a ballot was already cast; nobody votes twice"), field="ballot")


def on_ballot(fold: Fold, e: BallotCast, strict: bool) -> None:
    require_phase(fold, *VOTING_PHASES, doing=_("voting"))
    assert fold.vote is not None  # noqa: S101 - the vote phases always carry a vote
    if is_group_ballot(fold):
        if e.for_group is None or e.for_group not in fold.body_groups:
            raise NotEligible(_("in spokes mode a ballot is cast for a group"), field="group")
        if strict and own_group_coordinated(fold, e.voter) != e.for_group:
            raise NotEligible(_("only a coordinator of the group casts its ballot"), field="group")
        key = e.for_group
    else:
        require_member(fold, e.voter, strict)
        key = e.voter
    if key in fold.vote.voters:
        raise InvalidEvent(_("a ballot was already cast; nobody votes twice"), field="ballot")
    if fold.vote.counted_by_tellers:
        # The ballot is encrypted apart and never replayed: only a new one (checked
        # before it is encrypted) is seen here, and the roll counts it.
        if strict or e.ballot is not None:
            validate_ballot(fold.vote.spec, e.ballot)
    else:
        ballot = validate_ballot(fold.vote.spec, e.ballot)
        fold.ballots.append((key, ballot))
    fold.vote = replace(
        fold.vote, voters=fold.vote.voters | {key}, ballots_cast=fold.vote.ballots_cast + 1
    )


# --- the fallback ------------------------------------------------------------------------------


def fall_back_to_vote(fold: Fold, fallback: VoteFallback, at: datetime) -> None:
    """Open the urgent vote at the consensus deadline, for the charter's voting period."""
    fold.phase = Phase.VOTE
    fold.ballots = []
    fold.vote = VoteState(
        spec=vote_spec(fold.proposal, fallback),
        opens_at=at,
        closes_at=at + fallback.period,
        secret=fallback.secret,
        voters=frozenset(),
        ballots_cast=0,
        eligible=_voting_body_size(fold, fallback),
        counted_by_tellers=counted_by_tellers(fold.proposal, fallback),
    )


def counted_by_tellers(proposal: Proposal, fallback: VoteFallback | None) -> bool:
    """Return whether ``proposal``'s vote is secret and counted by tellers (docs/ballots.md).

    ``fallback`` None: the vote choosing a temporary coordinator, always secret. A
    spokes-mode vote is open (a coordinator casts the group's ballot as they carry its
    position, decision 0031).
    """
    if not proposal.sealed_ballots:
        return False
    if fallback is None:
        return True
    return fallback.secret and not proposal.spokes and fallback.method in SUMMABLE_METHODS


def vote_spec(proposal: Proposal, fallback: VoteFallback) -> VoteSpec:
    """Return what the urgent vote asks: the alternatives (or adopt / do not adopt)."""
    if proposal.options:
        options = (*proposal.options, "none of these")
    else:
        options = ("adopt", "do not adopt")
    return VoteSpec(
        method=fallback.method,
        options=options,
        status_quo=len(options) - 1,
        threshold=fallback.threshold,
        quorum=fallback.quorum,
        max_score=fallback.max_score,
    )


def _voting_body_size(fold: Fold, fallback: VoteFallback) -> int:
    if not fold.proposal.spokes:
        return len(fold.eligible)
    if fallback.spokes_weight is SpokesWeight.BY_SIZE:
        return sum(len(fold.group_members(g)) for g in fold.body_groups)
    return len(fold.body_groups)


def seed(fold: Fold, purpose: bytes) -> bytes:
    """Return the seed for one draw (a tie, a lot) derived from the proposal's seed."""
    return seed_of(fold.proposal, purpose)


def seed_of(proposal: Proposal, purpose: bytes) -> bytes:
    """Return the seed for one of ``proposal``'s draws (a tie, a lot, its tellers)."""
    # One recorded seed serves several draws; each purpose gets its own derived seed so
    # that knowing one draw's outcome tells nothing about another's.
    return hashlib.sha256(proposal.seed + b":" + purpose).digest()


def count_ballots(fold: Fold) -> TallyResult:
    """Return the tally of the open vote's ballots (weighted by size where the charter says)."""
    assert fold.vote is not None  # noqa: S101 - called only while voting
    ballots = _weighted_ballots(fold)
    eligible = max(fold.vote.eligible, len(ballots))
    return tally(fold.vote.spec, ballots, eligible=eligible, tie_seed=seed(fold, b"vote"))


def _weighted_ballots(fold: Fold) -> list[Any]:
    fallback = fold.proposal.kind.fallback
    if (
        is_group_ballot(fold)
        and isinstance(fallback, VoteFallback)
        and fallback.spokes_weight is SpokesWeight.BY_SIZE
    ):
        # Weighting by size repeats each group's ballot once per member of the group,
        # which keeps every method's tally exact (no fractional weights).
        sizes = {g: len(fold.group_members(g)) for g in fold.body_groups}
        return [b for g, b in fold.ballots for _ in range(sizes.get(g, 0))]
    return [b for _, b in fold.ballots]


def goes_to_tellers(fold: Fold) -> bool:
    """Return whether the closing vote waits for its tellers (COUNTING) before deciding.

    A vote without a ballot needs no teller: its totals are all zero.
    """
    assert fold.vote is not None  # noqa: S101 - called only while voting
    if fold.vote.counted_by_tellers and fold.vote.ballots_cast > 0:
        fold.phase = Phase.COUNTING
        return True
    return False


def may_count(s: Situation, teller: str, strict: bool = True) -> None:
    """Raise unless the vote is waiting to be counted (who is a teller is the web layer's)."""
    require_phase(s, Phase.COUNTING, doing=_("counting a secret vote"))


def on_counted(fold: Fold, e: VoteCounted, strict: bool) -> None:
    """Decide the vote from its decrypted totals, by the method's rule."""
    may_count(fold, e.teller, strict)
    assert fold.vote is not None  # noqa: S101 - counting always carries its vote
    if e.cast != fold.vote.ballots_cast:
        raise InvalidEvent(
            _("the board holds %(board)d ballots but the roll %(roll)d"),
            params={"board": e.cast, "roll": fold.vote.ballots_cast},
            field="cast",
        )
    result = tally_totals(
        fold.vote.spec,
        e.totals,
        cast=e.cast,
        eligible=max(fold.vote.eligible, e.cast),
        tie_seed=seed(fold, b"vote"),
        max_ballots=fold.vote.max_ballots,
    )
    fold.vote = replace(fold.vote, result=result)
    if fold.mandate is not None:
        from veche.domain.proposals.mandate import choose_by_result

        choose_by_result(fold, result, e.at)
    else:
        decide_by_result(fold, result, e.at)


def close_urgent_vote(fold: Fold, at: datetime) -> None:
    """Close the urgent vote at its end: the tally adopts the proposal or does not.

    A secret vote counted by tellers goes to COUNTING instead, until they sign in.
    """
    assert fold.vote is not None  # noqa: S101 - called only while voting
    if goes_to_tellers(fold):
        return
    decide_by_result(fold, count_ballots(fold), at)


def decide_by_result(fold: Fold, result: TallyResult, at: datetime) -> None:
    """Close the proposal by the urgent vote's result."""
    assert fold.vote is not None  # noqa: S101 - called only once voted
    fold.vote = replace(fold.vote, result=result)
    outcome = Outcome.ADOPTED if result.adopted else Outcome.NOT_ADOPTED
    close(fold, outcome, ReachedBy.VOTE, at)


def closes_at(fold: Fold) -> datetime | None:
    """Return when the open vote closes."""
    return fold.vote.closes_at if fold.vote is not None else None
