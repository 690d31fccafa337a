"""Ballot checks, and the encoding of many ballots into NumPy arrays for counting.

Ballots arrive as a database returns them (plain Python):

- majority / supermajority: an option index, or None to abstain;
- approval: a collection of option indices, empty to abstain;
- score: one int in ``0..max_score`` per option, or None to abstain;
- IRV / Schulze: option indices, most preferred first, possibly only some of them
  (unranked options come below every ranked one), empty to abstain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from veche.domain.errors import InvalidBallot, Phrase, _
from veche.domain.voting.spec import CHOICE_METHODS, RANKED_METHODS, Method, VoteSpec

Ballot = int | None | frozenset[int] | tuple[int, ...]
"""A normalised ballot: choice (int | None), approvals (frozenset), scores or ranking
(tuple; a ranking is empty when abstaining, scores are None when abstaining)."""

IntArray = npt.NDArray[np.int64]
SmallIntArray = npt.NDArray[np.signedinteger[Any]]


def validate_ballot(spec: VoteSpec, ballot: object) -> Ballot:
    """Return ``ballot`` normalised for ``spec``'s method; raise InvalidBallot if malformed."""
    if spec.method in CHOICE_METHODS:
        return _choice(spec, ballot)
    if spec.method is Method.APPROVAL:
        return _approval(spec, ballot)
    if spec.method is Method.SCORE:
        return _scores(spec, ballot)
    if spec.method in RANKED_METHODS:
        return _ranking(spec, ballot)
    raise InvalidBallot(
        _("unknown voting method %(method)r"), params={"method": spec.method}, field="ballot"
    )


def is_abstention(ballot: Ballot) -> bool:
    """Return True if a normalised ballot expresses no choice."""
    return ballot is None or (isinstance(ballot, tuple | frozenset) and len(ballot) == 0)


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True as an option index is always a caller bug.
    return isinstance(value, int) and not isinstance(value, bool)


def _option(spec: VoteSpec, value: object) -> int:
    if not _is_int(value):
        raise InvalidBallot(
            _("%(value)r is not an option number"), params={"value": value}, field="ballot"
        )
    assert isinstance(value, int)  # noqa: S101 - narrowing for mypy
    if not 0 <= value < len(spec.options):
        raise InvalidBallot(
            _("option %(option)d is not one of the %(count)d options"),
            params={"option": value, "count": len(spec.options)},
            field="ballot",
        )
    return int(value)


def _choice(spec: VoteSpec, ballot: object) -> int | None:
    return None if ballot is None else _option(spec, ballot)


def _sequence(ballot: object, what: str) -> Sequence[object]:
    # Strings and bytes are sequences too, but never a ballot.
    if not isinstance(ballot, list | tuple):
        raise InvalidBallot(
            _("%(what)s must be a list, not %(type)s"),
            params={"what": Phrase(what), "type": type(ballot).__name__},
            field="ballot",
        )
    return ballot


def _approval(spec: VoteSpec, ballot: object) -> frozenset[int]:
    if isinstance(ballot, set | frozenset):
        items: Sequence[object] = list(ballot)
    else:
        items = _sequence(ballot, _("an approval ballot"))
    approved = frozenset(_option(spec, item) for item in items)
    if len(approved) != len(items):
        raise InvalidBallot(_("an option is approved twice"), field="ballot")
    return approved


def _scores(spec: VoteSpec, ballot: object) -> tuple[int, ...] | None:
    if ballot is None:
        return None
    items = _sequence(ballot, _("a score ballot"))
    if len(items) != len(spec.options):
        raise InvalidBallot(
            _("a score ballot gives %(expected)d scores, not %(given)d"),
            params={"expected": len(spec.options), "given": len(items)},
            field="ballot",
        )
    scores = []
    for item in items:
        if not _is_int(item):
            raise InvalidBallot(
                _("score %(score)r is not a whole number"), params={"score": item}, field="ballot"
            )
        assert isinstance(item, int)  # noqa: S101 - narrowing for mypy
        if not 0 <= item <= spec.max_score:
            raise InvalidBallot(
                _("score %(score)d is outside 0..%(max)d"),
                params={"score": item, "max": spec.max_score},
                field="ballot",
            )
        scores.append(int(item))
    return tuple(scores)


def _ranking(spec: VoteSpec, ballot: object) -> tuple[int, ...]:
    items = _sequence(ballot, _("a ranking"))
    ranking = tuple(_option(spec, item) for item in items)
    if len(set(ranking)) != len(ranking):
        raise InvalidBallot(_("an option is ranked twice"), field="ballot")
    return ranking


@dataclass(frozen=True)
class RankingArrays:
    """Non-empty rankings as arrays: ``ranks`` (n x k, padded with -1), ``positions``.

    ``positions[i, b]`` (option-major, so each option's row is contiguous for fast
    pairwise comparisons) is where ballot ``b`` ranks option ``i`` (0 = first), or the
    number of options when ``b`` leaves ``i`` unranked; ``abstained`` counts empty ballots.
    """

    ranks: SmallIntArray
    positions: SmallIntArray
    abstained: int


def encode_rankings(spec: VoteSpec, ballots: Sequence[object]) -> RankingArrays:
    """Return the rankings in ``ballots`` as arrays; raise InvalidBallot on any bad one.

    Valid input takes a vectorised path (a million ballots in a fraction of a second);
    anything odd goes through the one-by-one check, for a precise message.
    """
    if set(map(type, ballots)) <= {list, tuple}:
        arrays = _encode_fast(len(spec.options), cast("Sequence[Sequence[object]]", ballots))
        if arrays is not None:
            return arrays
    clean: list[tuple[int, ...]] = []
    for number, ballot in enumerate(ballots):
        try:
            clean.append(_ranking(spec, ballot))
        except InvalidBallot as error:
            raise InvalidBallot(
                _("ballot %(number)d: %(error)s"),
                params={"number": number, "error": error},
                field="ballot",
            ) from None
    arrays = _encode_fast(len(spec.options), clean)
    assert arrays is not None  # noqa: S101 - clean ballots always encode
    return arrays


def small_int_dtype(m: int) -> type[np.signedinteger[Any]]:
    """Return the narrowest signed dtype holding -1..m (narrow arrays compare faster)."""
    if m < 127:
        return np.int8
    if m < 32_767:
        return np.int16
    return np.int32


def _encode_fast(m: int, ballots: Sequence[Sequence[object]]) -> RankingArrays | None:
    """Return the arrays, or None if some ballot is malformed (the caller finds which)."""
    n = len(ballots)
    lengths = np.fromiter(map(len, ballots), dtype=np.int64, count=n)
    if n and int(lengths.max()) > m:
        return None
    flat_items = list(chain.from_iterable(ballots))
    # One pass over types: np.array would silently accept floats and bools.
    if flat_items and set(map(type, flat_items)) != {int}:
        return None
    flat = np.array(flat_items, dtype=np.int64)
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) >= m):
        return None
    dtype = small_int_dtype(m)
    keep = lengths > 0
    abstained = int(n - np.count_nonzero(keep))
    lengths = lengths[keep]
    width = int(lengths.max()) if lengths.size else 0
    # Row-major order of the mask's True cells is exactly the order of ``flat``.
    filled = np.arange(width) < lengths[:, None]
    ranks = np.full((lengths.size, width), -1, dtype=dtype)
    ranks[filled] = flat
    positions = np.full((m, lengths.size), m, dtype=dtype)
    ballot_ids = np.arange(lengths.size)
    for place in range(width):
        column = ranks[:, place]
        ranked = column >= 0
        positions[column[ranked], ballot_ids[ranked]] = place
    # A ranking that repeats an option fills fewer distinct positions than its length.
    if int(np.count_nonzero(positions < m)) != flat.size:
        return None
    return RankingArrays(ranks=ranks, positions=positions, abstained=abstained)
