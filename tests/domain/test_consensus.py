"""Consensus arithmetic: exact shares, counts, blocks, unanimity, a group's position."""

from __future__ import annotations

from fractions import Fraction

import pytest

from veche.domain.charter import ConsensusRule
from veche.domain.consensus import (
    NEEDS_REASON,
    Position,
    count,
    group_position,
    needed_for,
    share_reached,
)

A, S, OBJ, B = Position.AGREE, Position.STAND_ASIDE, Position.OBJECT, Position.BLOCK


@pytest.mark.parametrize(
    ("n", "total", "share", "reached"),
    [
        (1, 2, Fraction(1, 2), True),
        (0, 2, Fraction(1, 2), False),
        (2, 3, Fraction(2, 3), True),
        (1, 3, Fraction(1, 3), True),
        (199, 300, Fraction(2, 3), False),
        (200, 300, Fraction(2, 3), True),
        (3, 3, Fraction(1), True),
        (2, 3, Fraction(1), False),
        (0, 5, Fraction(0), True),
        (5, 0, Fraction(1, 2), False),
        (0, -1, Fraction(1, 2), False),
    ],
)
def test_share_reached_is_exact_at_the_boundary(
    n: int, total: int, share: Fraction, reached: bool
) -> None:
    assert share_reached(n, total, share) is reached


@pytest.mark.parametrize(
    ("total", "share", "needed"),
    [
        (2, Fraction(1, 2), 1),
        (3, Fraction(1, 2), 2),
        (3, Fraction(2, 3), 2),
        (4, Fraction(2, 3), 3),
        (300, Fraction(2, 3), 200),
        (301, Fraction(2, 3), 201),
        (10, Fraction(1), 10),
        (10, Fraction(0), 1),
        (0, Fraction(1, 2), 1),
    ],
)
def test_needed_for_is_the_smallest_count_reaching_the_share(
    total: int, share: Fraction, needed: int
) -> None:
    assert needed_for(total, share) == needed


@pytest.mark.parametrize("total", range(1, 40))
@pytest.mark.parametrize("share", [Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)])
def test_needed_for_agrees_with_share_reached(total: int, share: Fraction) -> None:
    needed = needed_for(total, share)
    assert share_reached(needed, total, share)
    assert needed == 1 or not share_reached(needed - 1, total, share)


def test_count_tallies_positions_and_quorum() -> None:
    tally = count([A, A, S, OBJ], eligible=7, rule=ConsensusRule(quorum=Fraction(1, 2)))
    assert tally.responded == 4
    assert tally.quorum_needed == 4
    assert tally.quorum_met
    assert tally.by_position == {A: 2, S: 1, OBJ: 1, B: 0}
    assert tally.blocks == 0
    assert not tally.blocked
    assert tally.reached
    assert not tally.unanimous


def test_count_one_short_of_quorum_is_not_reached() -> None:
    tally = count([A, A, A], eligible=7, rule=ConsensusRule(quorum=Fraction(1, 2)))
    assert not tally.quorum_met
    assert not tally.reached


def test_a_single_block_stops_by_default() -> None:
    tally = count([A, A, B], eligible=3, rule=ConsensusRule())
    assert tally.blocked
    assert not tally.reached


def test_blocks_below_the_charter_number_do_not_stop() -> None:
    rule = ConsensusRule(blocks_to_stop=2)
    one = count([A, A, B], eligible=3, rule=rule)
    two = count([A, B, B], eligible=3, rule=rule)
    assert one.reached and not one.blocked
    assert two.blocked and not two.reached


def test_unanimous_needs_everyone_without_block_or_objection() -> None:
    rule = ConsensusRule()
    assert count([A, A, S], 3, rule).unanimous
    assert not count([A, A], 3, rule).unanimous
    assert not count([A, A, OBJ], 3, rule).unanimous
    assert not count([A, A, B], 3, ConsensusRule(blocks_to_stop=2)).unanimous


def test_nobody_eligible_is_never_quorate_nor_unanimous() -> None:
    tally = count([], eligible=0, rule=ConsensusRule())
    assert not tally.quorum_met
    assert not tally.unanimous
    assert not tally.reached


def test_count_to_dict_lists_every_position() -> None:
    data = count([A, B], 4, ConsensusRule()).to_dict()
    assert data == {
        "eligible": 4,
        "responded": 2,
        "quorum_needed": 2,
        "blocks_to_stop": 1,
        "positions": {"agree": 1, "stand_aside": 0, "object": 0, "block": 1},
    }


def test_group_position_blocks_when_enough_members_block() -> None:
    assert group_position([B], eligible=5, rule=ConsensusRule()) is B


def test_group_position_agrees_when_quorate_without_standing_block() -> None:
    assert group_position([A, OBJ, S], eligible=5, rule=ConsensusRule()) is A
    assert group_position([A, A, B], 5, ConsensusRule(blocks_to_stop=2)) is A


def test_group_position_is_none_without_quorum() -> None:
    assert group_position([A, A], eligible=5, rule=ConsensusRule()) is None
    assert group_position([], eligible=0, rule=ConsensusRule()) is None


def test_reasons_are_needed_for_all_but_agreement() -> None:
    assert frozenset({S, OBJ, B}) == NEEDS_REASON
