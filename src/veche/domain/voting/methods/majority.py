"""Single-choice votes: simple majority and supermajority, yes/no or among several."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from veche.domain.errors import InvalidBallot, _
from veche.domain.voting.ballots import validate_ballot
from veche.domain.voting.methods.ties import draw_lot
from veche.domain.voting.results import ChoiceAudit, MethodCount, TieBreak
from veche.domain.voting.spec import Method, VoteSpec


def count_choice(spec: VoteSpec, ballots: Sequence[object], tie_seed: bytes) -> MethodCount:
    """Return the count of a majority or supermajority vote.

    A yes/no question (two options, one the status quo) is adopted only when "yes"
    reaches the threshold; an exact tie adopts nothing and elects nobody. Among more
    options the plurality leader must reach the threshold; a tie for first goes to lot.
    """
    m = len(spec.options)
    # Counter would merge True with 1 and 1.0 with 1: check exact types first.
    tallied = Counter(ballots) if set(map(type, ballots)) <= {int, type(None)} else None
    if tallied is None or not all(_is_valid(spec, key) for key in tallied):
        for number, ballot in enumerate(ballots):
            try:
                validate_ballot(spec, ballot)
            except InvalidBallot as error:
                raise InvalidBallot(
                    _("ballot %(number)d: %(error)s"),
                    params={"number": number, "error": error},
                    field="ballot",
                ) from None
        tallied = Counter(ballots)
    counts = tuple(tallied.get(option, 0) for option in range(m))
    return choice_from_counts(spec, counts, tallied.get(None, 0), tie_seed)


def choice_from_counts(
    spec: VoteSpec, counts: tuple[int, ...], abstained: int, tie_seed: bytes
) -> MethodCount:
    """Return the count of a majority or supermajority vote from its per-option counts."""
    m = len(spec.options)
    valid = sum(counts)
    strict = spec.method is Method.MAJORITY
    needed = _needed(spec.threshold, valid, strict=strict) if valid else None
    yes_no = m == 2 and spec.status_quo is not None
    audit = ChoiceAudit(
        counts=counts,
        valid=valid,
        threshold=Fraction(spec.threshold),
        strict=strict,
        needed=needed,
        yes_no=yes_no,
    )
    winner: int | None = None
    cowinners: tuple[int, ...] = ()
    lots: tuple[TieBreak, ...] = ()
    if needed is not None and spec.status_quo is not None and yes_no:
        yes, no = 1 - spec.status_quo, spec.status_quo
        if counts[yes] != counts[no]:
            winner = yes if counts[yes] >= needed else no
            cowinners = (winner,)
    elif needed is not None:
        top = max(counts)
        if top >= needed:
            cowinners = tuple(option for option in range(m) if counts[option] == top)
            if len(cowinners) == 1:
                winner = cowinners[0]
            else:
                lot = draw_lot(cowinners, tie_seed, purpose="winner")
                winner, lots = lot.order[0], (lot,)
    return MethodCount(counts, audit, cowinners, winner, lots, abstained)


def _needed(threshold: Fraction, valid: int, *, strict: bool) -> int:
    """Return the fewest votes that meet ``threshold`` of ``valid`` (more than, if strict)."""
    share = Fraction(threshold) * valid
    return math.floor(share) + 1 if strict else max(math.ceil(share), 1)


def _is_valid(spec: VoteSpec, ballot: object) -> bool:
    try:
        validate_ballot(spec, ballot)
    except InvalidBallot:
        return False
    return True
