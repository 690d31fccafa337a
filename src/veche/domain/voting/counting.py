"""The tally: validate every ballot, count by the vote's method, apply quorum and status quo."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from veche.domain.errors import InvalidBallot, _
from veche.domain.voting.methods.approval import count_approval
from veche.domain.voting.methods.irv import count_irv
from veche.domain.voting.methods.majority import count_choice
from veche.domain.voting.methods.schulze import count_schulze
from veche.domain.voting.methods.score import count_score
from veche.domain.voting.results import MethodCount, TallyResult
from veche.domain.voting.spec import Method, VoteSpec

Counter = Callable[[VoteSpec, Sequence[object], bytes], MethodCount]

COUNTERS: dict[Method, Counter] = {
    Method.MAJORITY: count_choice,
    Method.SUPERMAJORITY: count_choice,
    Method.APPROVAL: count_approval,
    Method.SCORE: count_score,
    Method.IRV: count_irv,
    Method.SCHULZE: count_schulze,
}


def tally(
    spec: VoteSpec, ballots: Sequence[object], *, eligible: int, tie_seed: bytes
) -> TallyResult:
    """Return the result of a vote; raise InvalidBallot if any ballot is malformed.

    ``eligible`` is the number of voters who could vote; the quorum is met when
    ``len(ballots) >= quorum * eligible`` (abstentions count). ``tie_seed`` was fixed
    and recorded before the vote opened; every lot is drawn from it.
    """
    cast = len(ballots)
    check_turnout(cast, eligible=eligible, tie_seed=tie_seed)
    return apply_rules(
        spec, COUNTERS[spec.method](spec, ballots, tie_seed), cast=cast, eligible=eligible
    )


def check_turnout(cast: int, *, eligible: int, tie_seed: bytes) -> None:
    """Raise InvalidBallot unless ``eligible`` and ``tie_seed`` are sound and cast <= eligible."""
    if not isinstance(eligible, int) or isinstance(eligible, bool) or eligible < 0:
        raise InvalidBallot(_("the number of eligible voters must be >= 0"), field="eligible")
    if not isinstance(tie_seed, bytes):
        raise InvalidBallot(_("the tie seed must be bytes"), field="tie_seed")
    if cast > eligible:
        raise InvalidBallot(
            _("%(cast)d ballots were cast but only %(eligible)d voters are eligible"),
            params={"cast": cast, "eligible": eligible},
            field="ballots",
        )


def apply_rules(spec: VoteSpec, count: MethodCount, *, cast: int, eligible: int) -> TallyResult:
    """Return the result of a method's count once quorum and status quo are applied."""
    quorum_met = cast >= spec.quorum * eligible
    # With the quorum missed nothing is decided, so no lot decided anything either.
    winner = count.winner if quorum_met else None
    lots = count.tie_breaks if quorum_met else ()
    return TallyResult(
        method=spec.method,
        options=spec.options,
        winner=winner,
        adopted=winner is not None and winner != spec.status_quo,
        quorum_met=quorum_met,
        cast=cast,
        abstained=count.abstained,
        eligible=eligible,
        counts=count.counts,
        audit=count.audit,
        tie_break=lots[0] if lots else None,
        tied=count.cowinners if quorum_met else (),
    )
