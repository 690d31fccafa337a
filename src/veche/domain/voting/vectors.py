"""What a secret ballot means as a vector of small integers, and the tally from their sums.

A threshold-encrypted vote never decrypts a ballot: it adds the ballots' vectors entry by
entry (on ciphertexts) and decrypts only the totals. So each summable method needs an
encoding whose sums are enough for ``tally``'s whole result, abstentions included, and a
shape (the allowed values of each entry, and constraints on weighted sums of entries)
that the ballot's zero-knowledge proofs enforce. docs/ballots.md, section 8, and
docs/decisions/0061-ballot-vectors.md explain each encoding.

With ``m`` options:

- majority, supermajority: ``m`` entries in {0, 1}; their sum is in {0, 1}. An
  abstention is all zeros, so abstentions = ballots - sum of totals.
- approval: ``m`` entries in {0, 1}, then an abstention entry ``a`` in {0, 1};
  ``sum(x) + m*a`` is in 1..m (so ``a = 1`` exactly when nothing is approved).
- score: ``m`` entries in 0..max_score, then ``a`` in {0, 1};
  ``sum(s) + m*max_score*a`` is in 0..m*max_score (so an abstention scores nothing).
- Schulze: one entry per pair ``i < j`` (row by row) in {0, 1, W}: 1 when ``i`` is
  ranked above ``j``, ``W`` when ``j`` is above ``i``, 0 when both are unranked; then
  ``m`` first-preference entries in {0, 1} whose sum is in {0, 1}. ``W = max_ballots + 1``
  exceeds any count, so a pair's total ``T`` splits into ``T mod W`` ballots for ``i``
  over ``j`` and ``T div W`` for ``j`` over ``i`` (Cramer, Gennaro and Schoenmakers'
  packing of several counters in one ciphertext): half the ciphertexts and proofs of a
  0/1 matrix, with each pair still counted at most once per ballot.
- instant-runoff cannot be summed: it is for open votes only
  (docs/decisions/0062-irv-open-ballots-only.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from veche.domain.errors import InvalidBallot, InvalidCharter, _
from veche.domain.voting.ballots import validate_ballot
from veche.domain.voting.counting import apply_rules, check_turnout
from veche.domain.voting.methods.approval import approval_from_counts
from veche.domain.voting.methods.majority import choice_from_counts
from veche.domain.voting.methods.schulze import schulze_from_pairwise
from veche.domain.voting.methods.score import score_from_sums
from veche.domain.voting.results import MethodCount, TallyResult
from veche.domain.voting.spec import CHOICE_METHODS, Method, VoteSpec

SUMMABLE_METHODS = frozenset(
    {Method.MAJORITY, Method.SUPERMAJORITY, Method.APPROVAL, Method.SCORE, Method.SCHULZE}
)


@dataclass(frozen=True)
class Constraint:
    """``sum(weight * vector[index] for index, weight in terms)`` is one of ``allowed``."""

    terms: tuple[tuple[int, int], ...]
    allowed: tuple[int, ...]


@dataclass(frozen=True)
class VectorShape:
    """Which vectors are ballots: allowed values of each entry, and constraints."""

    entries: tuple[tuple[int, ...], ...]
    constraints: tuple[Constraint, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the shape as JSON data (the layout ``veche.crypto.election.Shape`` reads)."""
        return {
            "entries": [list(allowed) for allowed in self.entries],
            "constraints": [
                {"terms": [list(term) for term in c.terms], "allowed": list(c.allowed)}
                for c in self.constraints
            ],
        }


def _require_summable(spec: VoteSpec, max_ballots: int) -> None:
    if spec.method not in SUMMABLE_METHODS:
        raise InvalidCharter(
            _("an instant-runoff vote cannot be secret: its ballots cannot be summed"),
            field="method",
        )
    # At least 1: Schulze's packing base W = max_ballots + 1 must differ from 1.
    if not isinstance(max_ballots, int) or isinstance(max_ballots, bool) or max_ballots < 1:
        raise InvalidCharter(_("the most ballots a vote can hold must be >= 1"), field="ballots")


def _pairs(m: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(m) for j in range(i + 1, m)]


def vector_shape(spec: VoteSpec, *, max_ballots: int) -> VectorShape:
    """Return the shape of ``spec``'s ballot vectors; InvalidCharter for instant-runoff.

    ``max_ballots`` is the most ballots the vote can hold (Schulze's packing needs it).
    """
    _require_summable(spec, max_ballots)
    m = len(spec.options)
    binary = (0, 1)
    if spec.method in CHOICE_METHODS:
        return VectorShape((binary,) * m, (Constraint(_ones(range(m)), binary),))
    if spec.method is Method.APPROVAL:
        terms = (*_ones(range(m)), (m, m))
        return VectorShape((binary,) * (m + 1), (Constraint(terms, tuple(range(1, m + 1))),))
    if spec.method is Method.SCORE:
        top = m * spec.max_score
        scores = tuple(range(spec.max_score + 1))
        terms = (*_ones(range(m)), (m, top))
        return VectorShape((scores,) * m + (binary,), (Constraint(terms, tuple(range(top + 1))),))
    pairs = len(_pairs(m))
    packed = (0, 1, max_ballots + 1)
    firsts = Constraint(_ones(range(pairs, pairs + m)), binary)
    return VectorShape((packed,) * pairs + (binary,) * m, (firsts,))


def _ones(indices: Sequence[int] | range) -> tuple[tuple[int, int], ...]:
    return tuple((index, 1) for index in indices)


def ballot_vector(spec: VoteSpec, ballot: object, *, max_ballots: int) -> tuple[int, ...]:
    """Return the vector encoding ``ballot``; raise InvalidBallot if it is malformed."""
    _require_summable(spec, max_ballots)
    normalised = validate_ballot(spec, ballot)
    m = len(spec.options)
    if spec.method in CHOICE_METHODS:
        return tuple(int(normalised == option) for option in range(m))
    if spec.method is Method.APPROVAL:
        assert isinstance(normalised, frozenset)  # noqa: S101 - narrowing for mypy
        return (*(int(o in normalised) for o in range(m)), int(not normalised))
    if spec.method is Method.SCORE:
        if normalised is None:
            return (0,) * m + (1,)
        assert isinstance(normalised, tuple)  # noqa: S101 - narrowing for mypy
        return (*normalised, 0)
    assert isinstance(normalised, tuple)  # noqa: S101 - a ranking
    position = [m] * m
    for place, option in enumerate(normalised):
        position[option] = place
    pairs = tuple(
        1 if position[i] < position[j] else max_ballots + 1 if position[j] < position[i] else 0
        for i, j in _pairs(m)
    )
    first = normalised[0] if normalised else None
    return pairs + tuple(int(first == option) for option in range(m))


def tally_totals(
    spec: VoteSpec,
    totals: Sequence[int],
    *,
    cast: int,
    eligible: int,
    tie_seed: bytes,
    max_ballots: int,
) -> TallyResult:
    """Return the result ``tally`` gives for ``cast`` ballots whose vectors sum to ``totals``.

    Raises InvalidBallot if the totals cannot come from ``cast`` ballots of this shape.
    """
    _require_summable(spec, max_ballots)
    check_turnout(cast, eligible=eligible, tie_seed=tie_seed)
    shape = vector_shape(spec, max_ballots=max_ballots)
    if not isinstance(cast, int) or cast > max_ballots:
        raise InvalidBallot(_("more ballots than the vote can hold"), field="ballots")
    if len(totals) != len(shape.entries) or not all(
        isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= cast * max(allowed)
        for t, allowed in zip(totals, shape.entries, strict=True)
    ):
        raise InvalidBallot(_("the totals do not fit this vote's ballots"), field="totals")
    count = _count(spec, tuple(totals), cast, tie_seed, max_ballots)
    if count.abstained < 0:
        raise InvalidBallot(_("the totals do not fit this vote's ballots"), field="totals")
    return apply_rules(spec, count, cast=cast, eligible=eligible)


def _count(
    spec: VoteSpec, totals: tuple[int, ...], cast: int, tie_seed: bytes, max_ballots: int
) -> MethodCount:
    m = len(spec.options)
    if spec.method in CHOICE_METHODS:
        return choice_from_counts(spec, totals, cast - sum(totals), tie_seed)
    if spec.method is Method.APPROVAL:
        return approval_from_counts(totals[:m], cast - totals[m], totals[m], tie_seed)
    if spec.method is Method.SCORE:
        return score_from_sums(spec, totals[:m], cast - totals[m], totals[m], tie_seed)
    pairs = _pairs(m)
    width = max_ballots + 1
    pairwise = np.zeros((m, m), dtype=np.int64)
    for (i, j), total in zip(pairs, totals, strict=False):
        pairwise[i, j], pairwise[j, i] = total % width, total // width
    firsts = totals[len(pairs) :]
    valid = sum(firsts)
    return schulze_from_pairwise(pairwise, firsts, valid, cast - valid, tie_seed)


def spec_to_dict(spec: VoteSpec) -> dict[str, Any]:
    """Return ``spec`` as JSON data (fractions as "p/q"), for a vote's record."""
    return {
        "method": spec.method.value,
        "options": list(spec.options),
        "status_quo": spec.status_quo,
        "threshold": _fraction_text(spec.threshold),
        "quorum": _fraction_text(spec.quorum),
        "max_score": spec.max_score,
    }


def _fraction_text(value: Fraction | int) -> str:
    value = Fraction(value)
    return f"{value.numerator}/{value.denominator}"


def spec_from_dict(data: object) -> VoteSpec:
    """Return the VoteSpec ``data`` describes; raise InvalidCharter if it is malformed."""
    try:
        assert isinstance(data, dict)  # noqa: S101 - caught just below
        options = data["options"]
        assert isinstance(options, list) and all(isinstance(o, str) for o in options)  # noqa: S101
        return VoteSpec(
            method=Method(data["method"]),
            options=tuple(options),
            status_quo=data["status_quo"],
            threshold=Fraction(data["threshold"]),
            quorum=Fraction(data["quorum"]),
            max_score=data["max_score"],
        )
    except (AssertionError, KeyError, TypeError, ValueError, ZeroDivisionError):
        raise InvalidCharter(_("the vote's description is malformed"), field="spec") from None
