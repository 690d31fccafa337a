"""Vote tallies: majority, supermajority, approval, score, instant-runoff and Schulze.

Pure functions over plain ballots (NumPy for speed), with a seeded, recorded lot for
ties, so that any member can recount a vote offline and get the same result.
"""

from veche.domain.voting.ballots import Ballot, validate_ballot
from veche.domain.voting.counting import tally
from veche.domain.voting.results import (
    ApprovalAudit,
    Audit,
    ChoiceAudit,
    IrvAudit,
    SchulzeAudit,
    ScoreAudit,
    TallyResult,
    TieBreak,
)
from veche.domain.voting.spec import Method, VoteSpec

__all__ = [
    "ApprovalAudit",
    "Audit",
    "Ballot",
    "ChoiceAudit",
    "IrvAudit",
    "Method",
    "SchulzeAudit",
    "ScoreAudit",
    "TallyResult",
    "TieBreak",
    "VoteSpec",
    "tally",
    "validate_ballot",
]
