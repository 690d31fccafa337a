"""Who counts a secret vote: its tellers, drawn by the vote's recorded lot (decision 0130).

Pure: the caller passes the deciding body, its coordinators and the seed. The defaults
of issue 9: a group's vote is told by its coordinator plus members drawn by lot; a
federation vote by coordinators of different groups drawn by lot. When the body is
smaller than the charter asks, there are fewer tellers, and the threshold is lowered to
at most the number of tellers (never below one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Tellers:
    """The tellers of one vote, in order (teller i is ``members[i - 1]``), and k."""

    members: tuple[str, ...]
    threshold: int


def _by_lot(candidates: Iterable[str], seed: bytes, purpose: bytes) -> list[str]:
    # The same tickets as mandates.draw_lot: SHA-256(seed ":" candidate), lowest first,
    # on a seed of its own so that this draw tells nothing of any other.
    drawn = hashlib.sha256(seed + b":tellers:" + purpose).digest()

    def ticket(candidate: str) -> bytes:
        return hashlib.sha256(drawn + b":" + candidate.encode()).digest()

    return sorted(set(candidates), key=ticket)


def choose_tellers(
    *,
    body: Iterable[str],
    coordinators: Mapping[str, Iterable[str]],
    group_of: Mapping[str, str],
    federation: bool,
    seed: bytes,
    wanted: int,
    needed: int,
) -> Tellers:
    """Return the vote's tellers among ``body`` (members who may vote) and its threshold.

    ``coordinators``: each group's coordinators; ``group_of``: each member's group.
    Group vote: the group's coordinator (one, by lot, if several) then members by lot.
    Federation vote: one coordinator from each of as many groups as wanted, groups and
    coordinators by lot; if there are too few, members of groups not yet told, then
    any members, by lot. Only members of ``body`` are ever chosen.
    """
    members = set(body)
    chosen: list[str] = []

    def take(candidates: Iterable[str]) -> None:
        for member in candidates:
            if len(chosen) < wanted and member in members and member not in chosen:
                chosen.append(member)

    in_body = {g: [m for m in ms if m in members] for g, ms in coordinators.items()}
    if federation:
        groups = _by_lot([g for g, ms in in_body.items() if ms], seed, b"groups")
        for group in groups:
            take(_by_lot(in_body[group], seed, group.encode())[:1])
        told = {group_of.get(m) for m in chosen}
        take(m for m in _by_lot(members, seed, b"members") if group_of.get(m) not in told)
    else:
        for group_coordinators in in_body.values():
            take(_by_lot(group_coordinators, seed, b"coordinator")[:1])
    take(_by_lot(members, seed, b"members"))
    return Tellers(members=tuple(chosen), threshold=max(1, min(needed, len(chosen))))
