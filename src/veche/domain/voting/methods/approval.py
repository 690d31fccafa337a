"""Approval voting: the option approved on the most ballots wins."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from veche.domain.errors import InvalidBallot, _
from veche.domain.voting.ballots import validate_ballot
from veche.domain.voting.methods.ties import pick_top
from veche.domain.voting.results import ApprovalAudit, MethodCount
from veche.domain.voting.spec import VoteSpec


def count_approval(spec: VoteSpec, ballots: Sequence[object], tie_seed: bytes) -> MethodCount:
    """Return the count of an approval vote; a tie for most approvals goes to lot."""
    approvals: list[frozenset[int]] = []
    for number, ballot in enumerate(ballots):
        try:
            normalised = validate_ballot(spec, ballot)
        except InvalidBallot as error:
            raise InvalidBallot(
                _("ballot %(number)d: %(error)s"),
                params={"number": number, "error": error},
                field="ballot",
            ) from None
        assert isinstance(normalised, frozenset)  # noqa: S101 - narrowing for mypy
        approvals.append(normalised)
    valid = sum(1 for approved in approvals if approved)
    flat = np.fromiter(chain.from_iterable(approvals), dtype=np.int64)
    counts = tuple(int(c) for c in np.bincount(flat, minlength=len(spec.options)))
    return approval_from_counts(counts, valid, len(ballots) - valid, tie_seed)


def approval_from_counts(
    counts: tuple[int, ...], valid: int, abstained: int, tie_seed: bytes
) -> MethodCount:
    """Return the count of an approval vote from approvals per option."""
    cowinners, winner, lots = pick_top(counts, tie_seed, has_votes=valid > 0)
    audit = ApprovalAudit(approvals=counts, valid=valid)
    return MethodCount(counts, audit, cowinners, winner, lots, abstained)
