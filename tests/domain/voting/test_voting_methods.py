"""Hand-checked tallies for each method, the tie rule, the quorum and ballot checks."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction

import pytest

from veche.domain.errors import DomainError, InvalidBallot, InvalidCharter
from veche.domain.voting import (
    ChoiceAudit,
    IrvAudit,
    Method,
    SchulzeAudit,
    VoteSpec,
    tally,
    validate_ballot,
)

SEED = b"seed fixed before the vote opened"


def yes_no(method: Method = Method.MAJORITY, **kwargs: object) -> VoteSpec:
    return VoteSpec(method, ("reject", "accept"), status_quo=0, **kwargs)  # type: ignore[arg-type]


def lot_order(options: list[int], seed: bytes = SEED) -> list[int]:
    return sorted(options, key=lambda i: hashlib.sha256(seed + b":" + str(i).encode()).digest())


# --- majority and supermajority ------------------------------------------------------


def test_yes_no_majority_is_adopted_with_more_than_half_of_non_abstaining() -> None:
    result = tally(yes_no(), [1, 1, 0, None, None], eligible=10, tie_seed=SEED)

    assert result.winner == 1
    assert result.adopted
    assert (result.cast, result.abstained, result.counts) == (5, 2, (1, 2))
    assert isinstance(result.audit, ChoiceAudit)
    assert result.audit.needed == 2


def test_yes_no_tie_is_not_adopted_and_has_no_winner() -> None:
    result = tally(yes_no(), [1, 0, 1, 0], eligible=4, tie_seed=SEED)

    assert result.winner is None
    assert not result.adopted
    assert result.tie_break is None


def test_yes_no_rejection_makes_the_status_quo_the_winner() -> None:
    result = tally(yes_no(), [1, 0, 0], eligible=3, tie_seed=SEED)

    assert result.winner == 0
    assert not result.adopted


def test_supermajority_of_two_thirds_is_met_at_exactly_two_thirds() -> None:
    spec = yes_no(Method.SUPERMAJORITY, threshold=Fraction(2, 3))

    exactly = tally(spec, [1, 1, 0], eligible=3, tie_seed=SEED)
    short = tally(spec, [1, 1, 0, 0, 1], eligible=5, tie_seed=SEED)

    assert exactly.adopted
    assert not short.adopted
    assert short.winner == 0


def test_majority_needs_strictly_more_than_the_threshold() -> None:
    spec = yes_no(threshold=Fraction(3, 5))

    assert not tally(spec, [1, 1, 1, 0, 0], eligible=5, tie_seed=SEED).adopted
    assert tally(spec, [1, 1, 1, 1, 0], eligible=5, tie_seed=SEED).adopted


def test_plurality_leader_below_threshold_wins_nothing() -> None:
    spec = VoteSpec(Method.MAJORITY, ("a", "b", "c"))

    result = tally(spec, [0, 0, 1, 1, 2], eligible=5, tie_seed=SEED)

    assert result.winner is None
    assert not result.adopted
    assert result.tied == ()


def test_plurality_tie_among_several_options_goes_to_the_recorded_lot() -> None:
    spec = VoteSpec(Method.MAJORITY, ("a", "b", "c"), threshold=Fraction(1, 3))

    result = tally(spec, [0, 0, 1, 1, 2], eligible=5, tie_seed=SEED)

    assert result.tied == (0, 1)
    assert result.tie_break is not None
    assert result.tie_break.order == tuple(lot_order([0, 1]))
    assert result.winner == result.tie_break.order[0]
    assert result.tie_break.seed_hex == SEED.hex()


def test_all_abstaining_gives_no_winner() -> None:
    result = tally(yes_no(), [None, None], eligible=2, tie_seed=SEED)

    assert result.winner is None
    assert result.quorum_met


# --- quorum ------------------------------------------------------------------------


def test_quorum_missed_decides_nothing_even_with_a_clear_winner() -> None:
    spec = yes_no(quorum=Fraction(1, 2))

    result = tally(spec, [1, 1, 1, 1], eligible=10, tie_seed=SEED)

    assert not result.quorum_met
    assert result.winner is None
    assert not result.adopted
    assert result.counts == (0, 4)  # still shown, for transparency


def test_abstentions_count_towards_the_quorum() -> None:
    spec = yes_no(quorum=Fraction(1, 2))

    result = tally(spec, [1, 1, None, None, None], eligible=10, tie_seed=SEED)

    assert result.quorum_met
    assert result.adopted


def test_more_ballots_than_eligible_voters_is_refused() -> None:
    with pytest.raises(InvalidBallot, match="only 2 voters"):
        tally(yes_no(), [1, 1, 1], eligible=2, tie_seed=SEED)


# --- approval and score --------------------------------------------------------------


def test_approval_counts_approvals_and_treats_empty_as_abstaining() -> None:
    spec = VoteSpec(Method.APPROVAL, ("a", "b", "c"))

    result = tally(spec, [{0, 1}, [1], (1, 2), set()], eligible=4, tie_seed=SEED)

    assert result.counts == (1, 3, 1)
    assert result.winner == 1
    assert result.abstained == 1


def test_approval_tie_goes_to_lot() -> None:
    spec = VoteSpec(Method.APPROVAL, ("a", "b", "c"))

    result = tally(spec, [[0, 2], [2, 0], [1]], eligible=3, tie_seed=SEED)

    assert result.tied == (0, 2)
    assert result.winner == lot_order([0, 2])[0]


def test_score_sums_scores_and_highest_sum_wins() -> None:
    spec = VoteSpec(Method.SCORE, ("a", "b", "c"), max_score=5)

    result = tally(spec, [[5, 3, 0], [0, 4, 5], None, [1, 5, 0]], eligible=4, tie_seed=SEED)

    assert result.counts == (6, 12, 5)
    assert result.winner == 1
    assert result.abstained == 1


# --- IRV -----------------------------------------------------------------------------


def test_irv_transfers_votes_of_the_eliminated_option() -> None:
    spec = VoteSpec(Method.IRV, ("a", "b", "c"))
    ballots = [[0, 1]] * 4 + [[1, 0]] * 3 + [[2, 1]] * 2 + [[]]

    result = tally(spec, ballots, eligible=20, tie_seed=SEED)

    assert isinstance(result.audit, IrvAudit)
    assert result.audit.rounds == ((4, 3, 2), (4, 5, 0))
    assert result.audit.eliminated == (2,)
    assert result.tie_break is None
    assert result.winner == 1


def test_irv_tie_for_elimination_is_drawn_by_lot_and_recorded() -> None:
    spec = VoteSpec(Method.IRV, ("a", "b", "c"))
    ballots = [[0]] * 4 + [[1, 0]] * 3 + [[2, 1]] * 3

    result = tally(spec, ballots, eligible=10, tie_seed=SEED)

    assert isinstance(result.audit, IrvAudit)
    lot = result.audit.tie_breaks[0]
    assert lot.tied == (1, 2)
    assert result.audit.eliminated[0] == lot.order[-1]
    assert result.tie_break == lot


def test_irv_exhausted_ballots_leave_the_majority_base() -> None:
    spec = VoteSpec(Method.IRV, ("a", "b", "c", "d"))
    ballots = [[0]] * 4 + [[1]] * 3 + [[2]] * 2 + [[3, 2]] * 1

    result = tally(spec, ballots, eligible=10, tie_seed=SEED)

    assert isinstance(result.audit, IrvAudit)
    assert result.audit.eliminated == (3, 2)
    assert result.audit.exhausted == (0, 0, 3)
    assert result.audit.rounds[-1] == (4, 3, 0, 0)
    assert result.winner == 0


# --- Schulze -------------------------------------------------------------------------


def test_schulze_wikipedia_example_elects_e() -> None:
    # The 45-voter example from the Schulze method article; the winner is E.
    groups = [
        (5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"),
        (7, "CAEBD"), (2, "CBADE"), (7, "DCEBA"), (8, "EBADC"),
    ]  # fmt: skip
    ballots = [[ord(c) - ord("A") for c in order] for count, order in groups for _ in range(count)]
    spec = VoteSpec(Method.SCHULZE, tuple("ABCDE"))

    result = tally(spec, ballots, eligible=45, tie_seed=SEED)

    assert isinstance(result.audit, SchulzeAudit)
    assert result.winner == 4
    assert result.audit.ranking == ((4,), (0,), (2,), (1,), (3,))
    assert result.audit.pairwise[0][1] == 20
    assert result.audit.strongest_paths[4][3] == 31


def test_schulze_truncated_ballots_rank_unlisted_options_last() -> None:
    spec = VoteSpec(Method.SCHULZE, ("a", "b", "c"))

    result = tally(spec, [[2], [2], [0, 1], []], eligible=4, tie_seed=SEED)

    assert isinstance(result.audit, SchulzeAudit)
    assert result.audit.pairwise == ((0, 1, 1), (0, 0, 1), (2, 2, 0))
    assert result.winner == 2
    assert result.abstained == 1


def test_schulze_cycle_ties_are_drawn_by_lot() -> None:
    spec = VoteSpec(Method.SCHULZE, ("a", "b", "c"))

    result = tally(spec, [[0, 1, 2], [1, 2, 0], [2, 0, 1]], eligible=3, tie_seed=SEED)

    assert result.tied == (0, 1, 2)
    assert result.tie_break is not None
    assert result.winner == lot_order([0, 1, 2])[0]


def test_the_lot_is_reproducible_from_the_recorded_seed() -> None:
    spec = VoteSpec(Method.SCHULZE, ("a", "b", "c"))
    ballots = [[0, 1, 2], [1, 2, 0], [2, 0, 1]]

    first = tally(spec, ballots, eligible=3, tie_seed=SEED)
    again = tally(spec, ballots, eligible=3, tie_seed=bytes.fromhex(SEED.hex()))

    assert first == again


# --- ballots and results ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "ballot"),
    [
        (Method.MAJORITY, 3),
        (Method.MAJORITY, True),
        (Method.MAJORITY, "1"),
        (Method.APPROVAL, [0, 0]),
        (Method.APPROVAL, [5]),
        (Method.SCORE, [1, 2]),
        (Method.SCORE, [1, 2, 6]),
        (Method.SCORE, [1, 2, 1.5]),
        (Method.IRV, [0, 0]),
        (Method.IRV, [0, -1]),
        (Method.SCHULZE, "012"),
        (Method.SCHULZE, [0, 1.0]),
    ],
)
def test_malformed_ballots_are_refused(method: Method, ballot: object) -> None:
    spec = VoteSpec(method, ("a", "b", "c"))

    with pytest.raises(InvalidBallot):
        validate_ballot(spec, ballot)
    abstention = [] if method in {Method.APPROVAL, Method.IRV, Method.SCHULZE} else None
    with pytest.raises(InvalidBallot, match="ballot 1"):
        tally(spec, [abstention, ballot], eligible=2, tie_seed=SEED)


def test_validate_ballot_normalises() -> None:
    assert validate_ballot(VoteSpec(Method.APPROVAL, ("a", "b")), [1, 0]) == frozenset({0, 1})
    assert validate_ballot(VoteSpec(Method.IRV, ("a", "b")), [1]) == (1,)
    assert validate_ballot(VoteSpec(Method.MAJORITY, ("a", "b")), None) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"options": ("only",)},
        {"options": ("a", "a")},
        {"status_quo": 2},
        {"threshold": 0.5},
        {"quorum": Fraction(3, 2)},
        {"max_score": 0},
    ],
)
def test_impossible_vote_specs_are_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"method": Method.MAJORITY, "options": ("a", "b")} | kwargs
    with pytest.raises(InvalidCharter):
        VoteSpec(**fields)  # type: ignore[arg-type]


def test_result_to_dict_is_json_serialisable() -> None:
    spec = VoteSpec(Method.IRV, ("a", "b", "c"))
    result = tally(spec, [[0]] * 4 + [[1, 0]] * 3 + [[2, 1]] * 3, eligible=10, tie_seed=SEED)

    data = json.loads(json.dumps(result.to_dict()))

    assert data["method"] == "irv"
    assert data["audit_kind"] == "IrvAudit"
    assert data["tie_break"]["seed_hex"] == SEED.hex()
    assert data["audit"]["rounds"][0] == [4, 3, 3]
    assert issubclass(InvalidBallot, DomainError)


def test_choice_result_to_dict_writes_threshold_as_fraction() -> None:
    spec = yes_no(Method.SUPERMAJORITY, threshold=Fraction(2, 3))

    result = tally(spec, [1], eligible=1, tie_seed=SEED)

    assert result.to_dict()["audit"]["threshold"] == "2/3"
