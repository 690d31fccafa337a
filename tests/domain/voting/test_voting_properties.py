"""Properties every tally must keep, checked on generated profiles (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from veche.domain.voting import Method, VoteSpec, tally
from veche.domain.voting.methods.ties import draw_lot

SEED = b"property seed"


@st.composite
def ranked_profiles(draw: st.DrawFn) -> tuple[int, list[list[int]]]:
    m = draw(st.integers(min_value=2, max_value=6))
    ranking = st.permutations(list(range(m))).flatmap(
        lambda order: st.integers(min_value=0, max_value=m).map(lambda k: list(order[:k]))
    )
    return m, draw(st.lists(ranking, min_size=1, max_size=30))


def condorcet_winner(m: int, ballots: list[list[int]]) -> int | None:
    def prefers(ballot: list[int], a: int, b: int) -> bool:
        if a not in ballot:
            return False
        return b not in ballot or ballot.index(a) < ballot.index(b)

    for a in range(m):
        if all(
            sum(prefers(x, a, b) for x in ballots) > sum(prefers(x, b, a) for x in ballots)
            for b in range(m)
            if b != a
        ):
            return a
    return None


def spec_for(method: Method, m: int) -> VoteSpec:
    return VoteSpec(method, tuple(f"option {i}" for i in range(m)))


@given(ranked_profiles())
def test_schulze_elects_the_condorcet_winner_when_there_is_one(
    profile: tuple[int, list[list[int]]],
) -> None:
    m, ballots = profile
    expected = condorcet_winner(m, ballots)

    result = tally(spec_for(Method.SCHULZE, m), ballots, eligible=len(ballots), tie_seed=SEED)

    if expected is not None:
        assert result.winner == expected
        assert result.tie_break is None


@given(ranked_profiles())
def test_irv_elects_an_option_with_a_majority_of_first_preferences(
    profile: tuple[int, list[list[int]]],
) -> None:
    m, ballots = profile
    firsts = [ballot[0] for ballot in ballots if ballot]
    leaders = [i for i in range(m) if 2 * firsts.count(i) > len(firsts)]

    result = tally(spec_for(Method.IRV, m), ballots, eligible=len(ballots), tie_seed=SEED)

    if leaders:
        assert result.winner == leaders[0]
        assert len(result.audit.rounds) == 1  # type: ignore[union-attr]


@given(ranked_profiles(), st.randoms(use_true_random=False), st.sampled_from(Method))
@settings(max_examples=150)
def test_reordering_ballots_never_changes_the_result(
    profile: tuple[int, list[list[int]]], random: object, method: Method
) -> None:
    m, rankings = profile
    ballots: list[object]
    if method in {Method.IRV, Method.SCHULZE}:
        ballots = list(rankings)
    elif method is Method.APPROVAL:
        ballots = [set(r) for r in rankings]
    elif method is Method.SCORE:
        ballots = [[min(5, r.count(i) * (i + 1)) for i in range(m)] for r in rankings]
    else:
        ballots = [r[0] if r else None for r in rankings]
    shuffled = list(ballots)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    spec = spec_for(method, m)

    assert tally(spec, shuffled, eligible=len(ballots), tie_seed=SEED) == tally(
        spec, ballots, eligible=len(ballots), tie_seed=SEED
    )


@given(st.sets(st.integers(min_value=0, max_value=50), min_size=2), st.binary(max_size=32))
def test_the_tie_draw_is_a_deterministic_permutation_of_the_tied(
    tied: set[int], seed: bytes
) -> None:
    first = draw_lot(tied, seed, purpose="winner")
    again = draw_lot(sorted(tied, reverse=True), seed, purpose="winner")

    assert first == again
    assert sorted(first.order) == sorted(tied)
    assert first.seed_hex == seed.hex()


@given(st.integers(0, 20), st.integers(0, 20), st.integers(0, 5))
def test_yes_no_majority_adopts_iff_yes_outnumbers_no(yes: int, no: int, abstain: int) -> None:
    spec = VoteSpec(Method.MAJORITY, ("no", "yes"), status_quo=0)
    ballots = [1] * yes + [0] * no + [None] * abstain

    result = tally(spec, ballots, eligible=len(ballots), tie_seed=SEED)

    assert result.adopted == (yes > no)
    assert (result.winner is None) == (yes == no)
