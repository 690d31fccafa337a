"""Temporary coordinators: who may be chosen (rotation) and the reproducible lot.

Rotation is enforced here, not advised: :func:`eligible_volunteers` removes whoever the
charter's rotation rule excludes, and the lifecycle only ever chooses among what it
returns. The lot is a pure function of the candidates and a recorded seed, so any
member can re-draw it and get the same holder.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veche.domain.charter import Rotation
from veche.domain.errors import MandateError, _


@dataclass(frozen=True)
class Lot:
    """A drawn lot: the candidates in draw order (first is chosen) and the seed used."""

    seed_hex: str
    order: tuple[str, ...]

    @property
    def chosen(self) -> str:
        """Return the member the lot chose."""
        return self.order[0]


def eligible_volunteers(
    volunteers: Iterable[str], previous_holders: Sequence[str], rotation: Rotation
) -> tuple[str, ...]:
    """Return the volunteers the rotation rule allows, in a stable (sorted) order.

    ``previous_holders`` lists the holders of this body's earlier mandates, oldest
    first. The last holder is always excluded. Under ``UNTIL_ALL_SERVED`` only the
    volunteers who have served least often remain, so nobody serves twice while another
    volunteer has not served yet.
    """
    candidates = sorted(set(volunteers))
    if previous_holders:
        last = previous_holders[-1]
        candidates = [c for c in candidates if c != last]
    if rotation is Rotation.UNTIL_ALL_SERVED and candidates:
        served = Counter(previous_holders)
        fewest = min(served[c] for c in candidates)
        candidates = [c for c in candidates if served[c] == fewest]
    return tuple(candidates)


def draw_lot(candidates: Iterable[str], seed: bytes) -> Lot:
    """Return the lot drawn among ``candidates`` with ``seed``; raise if there are none.

    Each candidate's ticket is SHA-256(seed ":" candidate); the lowest ticket wins. The
    order does not depend on how the candidates are listed, and nobody can choose a
    ticket without knowing the seed, which the server keeps until the draw.
    """
    unique = sorted(set(candidates))
    if not unique:
        raise MandateError(_("there is no eligible volunteer to draw from"), field="volunteers")
    if not seed:
        raise MandateError(_("a lot needs a seed"), field="seed")

    def ticket(candidate: str) -> bytes:
        return hashlib.sha256(seed + b":" + candidate.encode()).digest()

    return Lot(seed_hex=seed.hex(), order=tuple(sorted(unique, key=ticket)))
