"""Our Schulze and IRV agree with pref_voting on thousands of random truncated profiles.

pref_voting is a test-only dependency. Ties are compared as sets of co-winners before the
lot: Schulze's co-winners must equal pref_voting's Beat Path winners (winning votes, with
unranked options below ranked ones); our IRV winner must be one of pref_voting's
parallel-universe (PUT) winners, and the only one when we drew no lot.
"""

from __future__ import annotations

import random

from pref_voting.iterative_methods import instant_runoff_put
from pref_voting.margin_based_methods import beat_path
from pref_voting.profiles_with_ties import ProfileWithTies

from veche.domain.voting import IrvAudit, Method, SchulzeAudit, VoteSpec, tally

PROFILES = 2500


def random_profiles(seed: int) -> list[tuple[int, list[list[int]]]]:
    rng = random.Random(seed)
    profiles = []
    for _ in range(PROFILES):
        m = rng.randint(3, 6)
        n = rng.randint(1, 40)
        # A few distinct orders per profile, so ties and Condorcet cycles both occur.
        pool = [rng.sample(range(m), rng.randint(1, m)) for _ in range(rng.randint(1, 6))]
        ballots = [list(rng.choice(pool)) for _ in range(n)]
        profiles.append((m, ballots))
    return profiles


def pref_voting_profile(m: int, ballots: list[list[int]]) -> ProfileWithTies:
    rankings = [{option: place + 1 for place, option in enumerate(b)} for b in ballots]
    return ProfileWithTies(rankings, candidates=list(range(m)))


def test_schulze_cowinners_match_pref_voting_beat_path() -> None:
    for m, ballots in random_profiles(2024):
        spec = VoteSpec(Method.SCHULZE, tuple(str(i) for i in range(m)))
        result = tally(spec, ballots, eligible=len(ballots), tie_seed=b"cmp")
        profile = pref_voting_profile(m, ballots)
        profile.use_extended_strict_preference()

        expected = beat_path(profile, strength_function=profile.support)

        assert isinstance(result.audit, SchulzeAudit)
        assert sorted(result.audit.cowinners) == expected, (m, ballots)
        assert result.winner in expected


def test_irv_winner_is_a_pref_voting_parallel_universe_winner() -> None:
    for m, ballots in random_profiles(7):
        spec = VoteSpec(Method.IRV, tuple(str(i) for i in range(m)))
        result = tally(spec, ballots, eligible=len(ballots), tie_seed=b"cmp")

        expected = instant_runoff_put(pref_voting_profile(m, ballots))

        assert isinstance(result.audit, IrvAudit)
        assert result.winner in expected, (m, ballots)
        if not result.audit.tie_breaks:
            assert expected == [result.winner], (m, ballots)
