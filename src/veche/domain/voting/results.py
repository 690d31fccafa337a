"""What a tally returns: the outcome, the counts behind it and an audit trail.

Every value here is immutable and plain (ints, strings, tuples), so a result can be
stored in a decision record as JSON (``to_dict``) and re-checked offline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any

from veche.domain.voting.spec import Method


@dataclass(frozen=True)
class TieBreak:
    """A lot that was drawn: which options were tied and the order the seed gave them.

    ``order`` sorts ``tied`` by ``sha256(seed + b":" + str(index))``; its first option is
    favoured (it wins a tie for first, or survives a tie for elimination).
    """

    tied: tuple[int, ...]
    seed_hex: str
    order: tuple[int, ...]
    purpose: str


@dataclass(frozen=True)
class ChoiceAudit:
    """How a single-choice (majority / supermajority) vote was decided."""

    counts: tuple[int, ...]
    valid: int
    threshold: Fraction
    strict: bool  # True: more than threshold is needed; False: threshold is enough
    needed: int | None  # votes the winner needed; None when nobody voted
    yes_no: bool


@dataclass(frozen=True)
class ApprovalAudit:
    """Approvals per option and how many ballots approved something."""

    approvals: tuple[int, ...]
    valid: int


@dataclass(frozen=True)
class ScoreAudit:
    """Score sums per option and the scale they were given on."""

    sums: tuple[int, ...]
    max_score: int
    valid: int


@dataclass(frozen=True)
class IrvAudit:
    """Each round of an instant-runoff count.

    ``rounds[r][i]`` is option ``i``'s votes in round ``r`` (0 once eliminated);
    ``eliminated[r]`` is the option dropped after round ``r``; ``exhausted[r]`` the
    ballots with no continuing option left in round ``r``; ``tie_breaks`` the lots drawn
    for eliminations.
    """

    rounds: tuple[tuple[int, ...], ...]
    eliminated: tuple[int, ...]
    exhausted: tuple[int, ...]
    tie_breaks: tuple[TieBreak, ...]
    valid: int


@dataclass(frozen=True)
class SchulzeAudit:
    """The pairwise and strongest-path matrices of a Schulze count.

    ``pairwise[i][j]`` is the number of ballots preferring ``i`` to ``j`` (an unranked
    option is below every ranked one); ``strongest_paths[i][j]`` the strength (winning
    votes) of the strongest path from ``i`` to ``j``; ``ranking`` the options in tiers,
    best first, options in one tier unbeaten by each other; ``cowinners`` the first tier.
    """

    pairwise: tuple[tuple[int, ...], ...]
    strongest_paths: tuple[tuple[int, ...], ...]
    ranking: tuple[tuple[int, ...], ...]
    cowinners: tuple[int, ...]
    valid: int


Audit = ChoiceAudit | ApprovalAudit | ScoreAudit | IrvAudit | SchulzeAudit


@dataclass(frozen=True)
class TallyResult:
    """The outcome of a vote.

    ``winner`` is None when the quorum was missed, nobody expressed a choice, nobody
    reached the threshold, or a yes/no question tied. ``adopted`` is True iff the quorum
    was met and the winner is not the status quo. ``tied`` lists the co-winners before a
    lot (just the winner when there was no tie). ``tie_break`` is the first lot drawn, if
    any (IRV may draw several: all are in ``audit.tie_breaks``).
    """

    method: Method
    options: tuple[str, ...]
    winner: int | None
    adopted: bool
    quorum_met: bool
    cast: int
    abstained: int
    eligible: int
    counts: tuple[int, ...]
    audit: Audit
    tie_break: TieBreak | None
    tied: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-serialisable data (fractions as "p/q" strings)."""
        data = _plain(self)
        assert isinstance(data, dict)  # noqa: S101 - a dataclass always becomes a dict
        data["audit_kind"] = type(self.audit).__name__
        return data


def _plain(value: object) -> object:
    """Return ``value`` with dataclasses, enums, fractions and tuples made JSON-plain."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class MethodCount:
    """What a counting method hands back before quorum and status quo are applied.

    ``cowinners`` are the options tied for the win before any lot (empty when nobody
    wins); ``winner`` is the one the lot (if any) picked.
    """

    counts: tuple[int, ...]
    audit: Audit
    cowinners: tuple[int, ...]
    winner: int | None
    tie_breaks: tuple[TieBreak, ...]
    abstained: int
