"""The Schulze method (widest paths, winning votes) over truncated rankings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from veche.domain.voting.ballots import SmallIntArray, encode_rankings
from veche.domain.voting.methods.ties import draw_lot
from veche.domain.voting.results import MethodCount, SchulzeAudit, TieBreak
from veche.domain.voting.spec import VoteSpec

Matrix = npt.NDArray[np.int64]


def count_schulze(spec: VoteSpec, ballots: Sequence[object], tie_seed: bytes) -> MethodCount:
    """Return the count of a Schulze vote; co-winners (unbeaten by strongest paths) go to lot.

    An option left unranked counts below every ranked one, tied with the other unranked.
    A path's strength is its weakest link, a link's the number of voters on the winning
    side (winning votes, as in Schulze's paper and Debian's constitution).
    """
    m = len(spec.options)
    arrays = encode_rankings(spec, ballots)
    n = arrays.ranks.shape[0]
    pairwise = pairwise_counts(arrays.positions)
    first = np.bincount(arrays.ranks[:, 0].astype(np.int64), minlength=m) if n else [0] * m
    counts = tuple(int(c) for c in first)
    return schulze_from_pairwise(pairwise, counts, n, arrays.abstained, tie_seed)


def schulze_from_pairwise(
    pairwise: Matrix, counts: tuple[int, ...], n: int, abstained: int, tie_seed: bytes
) -> MethodCount:
    """Return the count of a Schulze vote from its pairwise matrix.

    ``counts`` are first preferences, ``n`` the non-empty rankings.
    """
    paths = strongest_paths(pairwise)
    tiers = ranking_tiers(paths)
    cowinners = tiers[0] if n else ()
    winner: int | None = None
    lots: tuple[TieBreak, ...] = ()
    if len(cowinners) == 1:
        winner = cowinners[0]
    elif cowinners:
        lot = draw_lot(cowinners, tie_seed, purpose="winner")
        winner, lots = lot.order[0], (lot,)
    audit = SchulzeAudit(
        pairwise=_rows(pairwise),
        strongest_paths=_rows(paths),
        ranking=tiers,
        cowinners=cowinners,
        valid=n,
    )
    return MethodCount(counts, audit, cowinners, winner, lots, abstained)


def pairwise_counts(positions: SmallIntArray) -> Matrix:
    """Return d with d[i, j] = number of ballots ranking option i above option j."""
    m = positions.shape[0]
    pairwise = np.zeros((m, m), dtype=np.int64)
    # One contiguous row per option: m*m comparisons of narrow ints, no n x m temporaries.
    for i in range(m):
        for j in range(m):
            if i != j:
                pairwise[i, j] = np.count_nonzero(positions[i] < positions[j])
    return pairwise


def strongest_paths(pairwise: Matrix) -> Matrix:
    """Return p with p[i, j] = strength of the strongest path from i to j (0 if none)."""
    paths = np.where(pairwise > pairwise.T, pairwise, 0)
    for k in range(paths.shape[0]):
        # Rows or columns through k itself never improve (p[k, k] is 0): no masking needed.
        paths = np.maximum(paths, np.minimum(paths[:, k : k + 1], paths[k : k + 1, :]))
    np.fill_diagonal(paths, 0)
    return paths


def ranking_tiers(paths: Matrix) -> tuple[tuple[int, ...], ...]:
    """Return the options in tiers, best first: each tier is unbeaten among those left."""
    beats = paths > paths.T
    remaining = list(range(paths.shape[0]))
    tiers: list[tuple[int, ...]] = []
    while remaining:
        tier = tuple(i for i in remaining if not any(beats[j, i] for j in remaining))
        # Schulze's relation is transitive, so a tier is never empty; guard anyway.
        tier = tier or tuple(remaining)
        tiers.append(tier)
        remaining = [i for i in remaining if i not in tier]
    return tuple(tiers)


def _rows(matrix: Matrix) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(value) for value in row) for row in matrix)
