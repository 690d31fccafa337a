"""The lot: a deterministic, re-checkable order of tied options drawn from a seed.

The seed is fixed and recorded before the vote opens, so nobody can steer the draw
after seeing the ballots, and anyone can redo it with ``sha256`` by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from veche.domain.voting.results import TieBreak


def lot_key(tie_seed: bytes, option: int) -> bytes:
    """Return the sort key of ``option`` in a draw from ``tie_seed``."""
    return hashlib.sha256(tie_seed + b":" + str(option).encode()).digest()


def draw_lot(tied: Iterable[int], tie_seed: bytes, *, purpose: str) -> TieBreak:
    """Return the recorded draw ordering ``tied``; the first option in ``order`` wins."""
    options = tuple(sorted(set(tied)))
    order = tuple(sorted(options, key=lambda option: lot_key(tie_seed, option)))
    return TieBreak(tied=options, seed_hex=tie_seed.hex(), order=order, purpose=purpose)


def pick_top(
    totals: tuple[int, ...], tie_seed: bytes, *, has_votes: bool
) -> tuple[tuple[int, ...], int | None, tuple[TieBreak, ...]]:
    """Return (co-winners with the highest total, the winner, the lot drawn if any)."""
    if not has_votes:
        return (), None, ()
    top = max(totals)
    cowinners = tuple(option for option, total in enumerate(totals) if total == top)
    if len(cowinners) == 1:
        return cowinners, cowinners[0], ()
    lot = draw_lot(cowinners, tie_seed, purpose="winner")
    return cowinners, lot.order[0], (lot,)
