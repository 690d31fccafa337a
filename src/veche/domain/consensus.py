"""Consensus arithmetic: responses by position, quorum, standing blocks, a group's position.

Quorum uses exact integer arithmetic: ``responded / eligible >= quorum`` is computed as
``responded * denominator >= numerator * eligible`` so that no float rounding can let a
proposal pass (or fail) by a hair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from veche.domain.charter import ConsensusRule
from veche.domain.errors import InvalidEvent, _


class Position(StrEnum):
    """A member's (or, in spokes mode, a group's) response to a proposal."""

    AGREE = "agree"
    # Does not stop the proposal; the member lets the others go ahead.
    STAND_ASIDE = "stand_aside"
    # A concern to resolve; does not stop the proposal on its own.
    OBJECT = "object"
    # A principled objection; enough of them stop the proposal.
    BLOCK = "block"


#: Positions that must come with a reason, so others can respond to it.
NEEDS_REASON = frozenset({Position.STAND_ASIDE, Position.OBJECT, Position.BLOCK})


def share_reached(count: int, total: int, share: Fraction) -> bool:
    """Return whether ``count`` out of ``total`` reaches ``share`` (exactly, no floats)."""
    if total <= 0:
        return False
    return count * share.denominator >= share.numerator * total


def needed_for(total: int, share: Fraction) -> int:
    """Return the smallest count that reaches ``share`` of ``total`` (at least 1)."""
    if total <= 0:
        return 1
    # Ceiling division: the fewest responses with count/total >= share.
    return max(1, -(-share.numerator * total // share.denominator))


@dataclass(frozen=True)
class ConsensusCount:
    """Where consensus stands: responses by position against the charter's rule."""

    eligible: int
    responded: int
    by_position: Mapping[Position, int]
    quorum_needed: int
    blocks_to_stop: int

    @property
    def quorum_met(self) -> bool:
        """Return whether enough have responded."""
        return self.eligible > 0 and self.responded >= self.quorum_needed

    @property
    def blocks(self) -> int:
        """Return the number of standing blocks."""
        return self.by_position.get(Position.BLOCK, 0)

    @property
    def blocked(self) -> bool:
        """Return whether the standing blocks stop the proposal."""
        return self.blocks >= self.blocks_to_stop

    @property
    def reached(self) -> bool:
        """Return whether consensus is reached: quorum met and no standing block."""
        return self.quorum_met and not self.blocked

    @property
    def unanimous(self) -> bool:
        """Return whether everyone eligible has responded with no block and no objection.

        Only then can consensus close before its deadline: nobody is left who could
        still block, and no concern is left unresolved.
        """
        return (
            self.eligible > 0
            and self.responded == self.eligible
            and self.blocks == 0
            and self.by_position.get(Position.OBJECT, 0) == 0
        )

    def to_dict(self) -> dict[str, object]:
        """Return the count as plain data for a decision record."""
        return {
            "eligible": self.eligible,
            "responded": self.responded,
            "quorum_needed": self.quorum_needed,
            "blocks_to_stop": self.blocks_to_stop,
            "positions": {p.value: self.by_position.get(p, 0) for p in Position},
        }


def count(positions: Iterable[Position], eligible: int, rule: ConsensusRule) -> ConsensusCount:
    """Return the consensus count of these current positions under ``rule``."""
    by_position = Counter(positions)
    return ConsensusCount(
        eligible=eligible,
        responded=sum(by_position.values()),
        by_position={p: by_position.get(p, 0) for p in Position},
        quorum_needed=needed_for(eligible, rule.quorum),
        blocks_to_stop=rule.blocks_to_stop,
    )


def group_position(
    positions: Iterable[Position], eligible: int, rule: ConsensusRule
) -> Position | None:
    """Return the position a group's own responses reach, or None if they reach none.

    Used in spokes mode when a group's coordinator has not carried a position by the
    deadline: the group's internal process speaks for it. Enough blocks make the group
    block; otherwise a met quorum makes it agree; otherwise the group has no position.
    """
    tally = count(positions, eligible, rule)
    if tally.blocked:
        return Position.BLOCK
    if tally.quorum_met:
        return Position.AGREE
    return None


def require_reason(position: Position, reason: str) -> None:
    """Raise unless a position that needs a reason comes with one."""
    if position in NEEDS_REASON and not reason.strip():
        raise InvalidEvent(
            _("standing aside, objecting and blocking need a reason others can respond to"),
            field="reason",
        )
