"""Domain errors: every rule the core refuses to bend raises one of these.

Each error carries a machine-readable ``code`` (stable, for the web layer and the API)
and a human sentence. Views translate them into a 4xx with the sentence beside the
field; they never become a 500.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: an action the rules do not allow."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidCharter(DomainError):
    """A charter whose parameters are impossible or contradict each other."""

    code = "invalid_charter"


class NotEligible(DomainError):
    """The actor may not take part in this decision (wrong group, not a member, ...)."""

    code = "not_eligible"


class ProposalClosed(DomainError):
    """The proposal is closed (or not in the phase the action needs)."""

    code = "proposal_closed"


class InvalidEvent(DomainError):
    """An event that does not fit the proposal's state or is malformed."""

    code = "invalid_event"


class InvalidBallot(DomainError):
    """A ballot that does not fit the vote's method or options."""

    code = "invalid_ballot"


class MandateError(DomainError):
    """A mandate rule was broken: rotation, scope, expiry, recall."""

    code = "mandate_error"


class LedgerError(DomainError):
    """A ledger rule was broken: unbalanced, negative, unknown currency, ..."""

    code = "ledger_error"


class ChainError(DomainError):
    """A hash-chained log that does not verify."""

    code = "chain_error"
