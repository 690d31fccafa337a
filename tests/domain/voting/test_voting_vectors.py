"""Secret ballots as vectors: the tally from summed vectors equals the plain tally."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veche.domain.errors import InvalidBallot, InvalidCharter
from veche.domain.voting import Method, VoteSpec, tally
from veche.domain.voting.vectors import (
    SUMMABLE_METHODS,
    ballot_vector,
    spec_from_dict,
    spec_to_dict,
    tally_totals,
    vector_shape,
)

SEED = b"vector seed"


@st.composite
def specs(draw: st.DrawFn) -> VoteSpec:
    method = draw(st.sampled_from(sorted(SUMMABLE_METHODS)))
    m = draw(st.integers(min_value=2, max_value=6))
    status_quo = draw(st.none() | st.integers(min_value=0, max_value=m - 1))
    if method is Method.SUPERMAJORITY:
        threshold = draw(st.sampled_from([Fraction(1, 2), Fraction(2, 3), Fraction(1)]))
    else:
        threshold = draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(2, 3)]))
    return VoteSpec(
        method,
        tuple(f"option {i}" for i in range(m)),
        status_quo=status_quo,
        threshold=threshold,
        quorum=draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(1)])),
        max_score=draw(st.integers(min_value=1, max_value=4)),
    )


def ballots_for(spec: VoteSpec) -> st.SearchStrategy[object]:
    m = len(spec.options)
    options = st.integers(min_value=0, max_value=m - 1)
    if spec.method in (Method.MAJORITY, Method.SUPERMAJORITY):
        return st.none() | options
    if spec.method is Method.APPROVAL:
        return st.lists(options, unique=True, max_size=m)
    if spec.method is Method.SCORE:
        score = st.integers(min_value=0, max_value=spec.max_score)
        return st.none() | st.lists(score, min_size=m, max_size=m)
    return st.permutations(list(range(m))).flatmap(
        lambda order: st.integers(min_value=0, max_value=m).map(lambda k: list(order[:k]))
    )


@st.composite
def votes(draw: st.DrawFn) -> tuple[VoteSpec, list[object], int]:
    spec = draw(specs())
    ballots = draw(st.lists(ballots_for(spec), max_size=25))
    eligible = len(ballots) + draw(st.integers(min_value=0, max_value=10))
    return spec, ballots, eligible


def summed(vectors: list[tuple[int, ...]], length: int) -> list[int]:
    return [sum(v[i] for v in vectors) for i in range(length)]


@given(votes(), st.integers(min_value=0, max_value=40))
@settings(max_examples=300, deadline=None)
def test_tally_from_summed_vectors_equals_the_plain_tally(
    vote: tuple[VoteSpec, list[object], int], slack: int
) -> None:
    spec, ballots, eligible = vote
    max_ballots = max(1, eligible + slack)
    shape = vector_shape(spec, max_ballots=max_ballots)
    vectors = [ballot_vector(spec, b, max_ballots=max_ballots) for b in ballots]
    for vector in vectors:
        assert len(vector) == len(shape.entries)
        assert all(v in allowed for v, allowed in zip(vector, shape.entries, strict=True))
        for constraint in shape.constraints:
            assert sum(vector[i] * w for i, w in constraint.terms) in constraint.allowed
    totals = summed(vectors, len(shape.entries))
    expected = tally(spec, ballots, eligible=eligible, tie_seed=SEED)
    got = tally_totals(
        spec, totals, cast=len(ballots), eligible=eligible, tie_seed=SEED, max_ballots=max_ballots
    )
    assert got == expected


def test_every_abstention_is_counted_as_one() -> None:
    for method in SUMMABLE_METHODS:
        spec = VoteSpec(method, ("a", "b", "c"))
        abstain = {Method.APPROVAL: [], Method.SCHULZE: []}.get(method)
        vector = ballot_vector(spec, abstain, max_ballots=5)
        result = tally_totals(spec, list(vector), cast=1, eligible=1, tie_seed=SEED, max_ballots=5)
        assert result.abstained == 1, method


def test_schulze_pair_entries_pack_both_directions_of_a_pair() -> None:
    spec = VoteSpec(Method.SCHULZE, ("a", "b", "c"))
    # Pairs in order (a,b), (a,c), (b,c); then first preferences a, b, c.
    assert ballot_vector(spec, [2, 0], max_ballots=9) == (1, 10, 10, 0, 0, 1)
    assert ballot_vector(spec, [1], max_ballots=9) == (10, 0, 1, 0, 1, 0)
    assert ballot_vector(spec, [], max_ballots=9) == (0, 0, 0, 0, 0, 0)


def test_instant_runoff_cannot_be_encoded_for_summing() -> None:
    spec = VoteSpec(Method.IRV, ("a", "b"))
    with pytest.raises(InvalidCharter, match="instant-runoff"):
        vector_shape(spec, max_ballots=3)
    with pytest.raises(InvalidCharter):
        ballot_vector(spec, [0], max_ballots=3)


def test_totals_that_no_ballots_could_give_are_refused() -> None:
    spec = VoteSpec(Method.MAJORITY, ("a", "b"))
    with pytest.raises(InvalidBallot):
        tally_totals(spec, [3, 0], cast=2, eligible=5, tie_seed=SEED, max_ballots=5)
    with pytest.raises(InvalidBallot):
        tally_totals(spec, [1, 1], cast=1, eligible=5, tie_seed=SEED, max_ballots=5)
    with pytest.raises(InvalidBallot):
        tally_totals(spec, [1], cast=1, eligible=5, tie_seed=SEED, max_ballots=5)
    with pytest.raises(InvalidBallot):
        tally_totals(spec, [1, 0], cast=6, eligible=9, tie_seed=SEED, max_ballots=5)
    with pytest.raises(InvalidBallot):
        tally_totals(spec, [1, 0], cast=3, eligible=2, tie_seed=SEED, max_ballots=5)


def test_malformed_ballots_and_limits_are_refused() -> None:
    spec = VoteSpec(Method.APPROVAL, ("a", "b"))
    with pytest.raises(InvalidBallot):
        ballot_vector(spec, [0, 0], max_ballots=3)
    with pytest.raises(InvalidCharter):
        vector_shape(spec, max_ballots=0)
    with pytest.raises(InvalidCharter):
        vector_shape(spec, max_ballots=True)


@given(specs())
def test_a_spec_survives_its_json_form(spec: VoteSpec) -> None:
    assert spec_from_dict(spec_to_dict(spec)) == spec


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"method": "nope"},
        {"method": "majority", "options": "ab"},
        {
            "method": "majority",
            "options": ["a", "b"],
            "status_quo": None,
            "threshold": "1/0",
            "quorum": "0/1",
            "max_score": 5,
        },
    ],
)
def test_a_malformed_spec_is_refused(data: object) -> None:
    with pytest.raises(InvalidCharter):
        spec_from_dict(data)


def test_the_shape_has_a_json_form_with_lists() -> None:
    shape = vector_shape(VoteSpec(Method.SCORE, ("a", "b"), max_score=2), max_ballots=4)
    data = shape.to_dict()
    assert data["entries"] == [[0, 1, 2], [0, 1, 2], [0, 1]]
    assert data["constraints"] == [{"terms": [[0, 1], [1, 1], [2, 4]], "allowed": [0, 1, 2, 3, 4]}]
