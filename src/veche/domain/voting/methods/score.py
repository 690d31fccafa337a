"""Score voting: every option gets 0..max_score from each voter; the highest sum wins."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from veche.domain.errors import InvalidBallot, _
from veche.domain.voting.ballots import validate_ballot
from veche.domain.voting.methods.ties import pick_top
from veche.domain.voting.results import MethodCount, ScoreAudit
from veche.domain.voting.spec import VoteSpec


def count_score(spec: VoteSpec, ballots: Sequence[object], tie_seed: bytes) -> MethodCount:
    """Return the count of a score vote; a tie for the highest sum goes to lot."""
    scored: list[tuple[int, ...]] = []
    for number, ballot in enumerate(ballots):
        try:
            normalised = validate_ballot(spec, ballot)
        except InvalidBallot as error:
            raise InvalidBallot(
                _("ballot %(number)d: %(error)s"),
                params={"number": number, "error": error},
                field="ballot",
            ) from None
        if normalised is not None:
            assert isinstance(normalised, tuple)  # noqa: S101 - narrowing for mypy
            scored.append(normalised)
    m = len(spec.options)
    matrix = np.array(scored, dtype=np.int64).reshape(len(scored), m)
    counts = tuple(int(total) for total in matrix.sum(axis=0))
    return score_from_sums(spec, counts, len(scored), len(ballots) - len(scored), tie_seed)


def score_from_sums(
    spec: VoteSpec, counts: tuple[int, ...], valid: int, abstained: int, tie_seed: bytes
) -> MethodCount:
    """Return the count of a score vote from the score sums per option."""
    cowinners, winner, lots = pick_top(counts, tie_seed, has_votes=valid > 0)
    audit = ScoreAudit(sums=counts, max_score=spec.max_score, valid=valid)
    return MethodCount(counts, audit, cowinners, winner, lots, abstained)
