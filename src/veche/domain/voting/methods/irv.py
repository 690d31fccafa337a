"""Instant-runoff voting over truncated rankings, counted on NumPy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from veche.domain.voting.ballots import encode_rankings
from veche.domain.voting.methods.ties import draw_lot
from veche.domain.voting.results import IrvAudit, MethodCount, TieBreak
from veche.domain.voting.spec import VoteSpec


def count_irv(spec: VoteSpec, ballots: Sequence[object], tie_seed: bytes) -> MethodCount:
    """Return the count of an instant-runoff vote.

    Each round every ballot counts for its highest-ranked continuing option; an option
    with more than half of the continuing (non-exhausted) ballots wins, otherwise the
    option with the fewest votes is eliminated, a tie for fewest being settled by lot
    (the option drawn last is eliminated).
    """
    m = len(spec.options)
    arrays = encode_rankings(spec, ballots)
    ranks = arrays.ranks
    n, width = ranks.shape
    audit_empty = IrvAudit(rounds=(), eliminated=(), exhausted=(), tie_breaks=(), valid=0)
    if n == 0:
        return MethodCount((0,) * m, audit_empty, (), None, (), arrays.abstained)

    # Only ballots whose current option was just eliminated move on, so each round
    # touches a few ballots rather than re-reading the whole array.
    top = ranks[:, 0].astype(np.int64)
    pointer = np.zeros(n, dtype=np.int64)
    continuing = np.ones(m + 1, dtype=bool)  # index m stands for "exhausted" (-1)
    continuing[m] = False
    rounds: list[tuple[int, ...]] = []
    exhausted: list[int] = []
    eliminated: list[int] = []
    lots: list[TieBreak] = []
    while True:
        live = top >= 0
        votes = np.bincount(top[live], minlength=m)
        live_count = int(np.count_nonzero(live))
        rounds.append(tuple(int(v) for v in votes))
        exhausted.append(n - live_count)
        standing = np.flatnonzero(continuing[:m])
        leader = int(standing[np.argmax(votes[standing])])
        if standing.size == 1 or 2 * int(votes[leader]) > live_count:
            winner = leader
            break
        fewest = votes[standing].min()
        tied = [int(option) for option in standing if votes[option] == fewest]
        if len(tied) == 1:
            loser = tied[0]
        else:
            lot = draw_lot(tied, tie_seed, purpose=f"elimination after round {len(rounds)}")
            lots.append(lot)
            loser = lot.order[-1]
        continuing[loser] = False
        eliminated.append(loser)
        moving = np.flatnonzero(top == loser)
        while moving.size:
            pointer[moving] += 1
            place = pointer[moving]
            inside = place < width
            following = np.full(moving.size, -1, dtype=np.int64)
            following[inside] = ranks[moving[inside], place[inside]]
            top[moving] = following
            # -1 maps to index m (exhausted, stops); eliminated options keep moving.
            moving = moving[(following >= 0) & ~continuing[following]]
    audit = IrvAudit(
        rounds=tuple(rounds),
        eliminated=tuple(eliminated),
        exhausted=tuple(exhausted),
        tie_breaks=tuple(lots),
        valid=n,
    )
    return MethodCount(rounds[0], audit, (winner,), winner, tuple(lots), arrays.abstained)
