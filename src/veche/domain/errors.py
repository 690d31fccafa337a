"""Domain errors: every rule the core refuses to bend raises one of these.

Each error carries a machine-readable ``code`` (stable, for the web layer and the API)
and a human sentence. Views translate them into a 4xx with the sentence beside the
field; they never become a 500.

The core does not import Django, so it cannot translate. It marks each sentence with
:func:`_` (a no-op that ``makemessages`` still finds) and keeps it a fixed template:
the changing parts (a number, a key) travel in ``params``. The web layer looks the
template up in the member's language and fills the params in
(``veche.apps.core.errors.translated``); ``message`` is the English sentence.
"""

from __future__ import annotations

from collections.abc import Mapping


def _(message: str) -> str:
    """Mark ``message`` for translation; return it unchanged (the core stays English)."""
    return message


class Phrase(str):
    """A fixed English phrase used as a param: the web layer translates it too.

    ``Phrase(_("voting"))`` inside ``params`` is looked up in the catalogue like the
    template, whereas a plain ``str`` param (a key, a name a member typed) is shown as is.
    """

    __slots__ = ()


class DomainError(Exception):
    """Base class: an action the rules do not allow."""

    code = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.template = message
        self.params: dict[str, object] = dict(params or {})
        self.message = message % self.params if self.params else message
        self.field = field
        super().__init__(self.message)


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
