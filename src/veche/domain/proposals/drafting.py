"""Drafting: making a proposal, publishing it, amending it, withdrawing it.

Publishing (or creating a proposal that is not a draft) opens consensus and fixes the
deciding body: who belongs at that instant (docs/decisions/0051).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from veche.domain.charter import DecisionKind, MandateFallback, Power, Scope
from veche.domain.errors import InvalidEvent, NotEligible, _
from veche.domain.proposals.common import Situation, close, require_author, require_phase
from veche.domain.proposals.events import Amended, Published, Withdrawn
from veche.domain.proposals.model import (
    MAX_LABEL,
    MAX_MATTERS,
    MAX_OPTIONS,
    MIN_SEED_BYTES,
    OPEN_PHASES,
    Electorate,
    Fold,
    Outcome,
    Phase,
    Proposal,
    ReachedBy,
    aware,
    body_at,
)


def create(
    *,
    proposal_id: str,
    kind: DecisionKind,
    author: str,
    electorate: Electorate,
    at: datetime,
    seed: bytes,
    group: str | None = None,
    urgent: bool = False,
    deadline: datetime | None = None,
    options: Sequence[str] = (),
    mandate_scope: Sequence[str] = (),
    draft: bool = False,
    from_meeting: bool = False,
    concerns: str | None = None,
) -> Proposal:
    """Return a new proposal after checking the author may make it; raise DomainError.

    ``from_meeting``: the proposal records a decision already taken at an in-person
    meeting (its record, ``MeetingRecorded``, is its first event); ``concerns``: the
    member a removal is about (kinds with the power to remove a member).
    """
    aware(at, "at")
    electorate = electorate.at(at)
    author_group = electorate.group_of(author)
    if author_group is None:
        raise NotEligible(_("only a member of a group can propose"), field="author")
    if kind.scope is Scope.GROUP:
        group = author_group if group is None else group
        if group != author_group:
            raise NotEligible(
                _("a group matter can only be proposed by a member of that group"), field="group"
            )
    else:
        group = author_group
    if from_meeting:
        _check_from_meeting(kind, urgent=urgent, draft=draft, deadline=deadline)
    concerns = _check_concerns(kind, author, group, electorate, concerns)
    if urgent and not kind.urgent_allowed:
        raise InvalidEvent(
            _("the charter does not allow urgent proposals of the kind %(kind)r"),
            params={"kind": kind.name},
            field="urgent",
        )
    if deadline is not None:
        aware(deadline, "deadline")
        if not draft:
            check_deadline(kind, at, deadline)
    clean_options = tuple(o.strip() for o in options)
    if any(not o for o in clean_options):
        raise InvalidEvent(_("an option cannot be empty"), field="options")
    if len(set(clean_options)) != len(clean_options):
        raise InvalidEvent(_("options must differ from each other"), field="options")
    if len(clean_options) == 1:
        raise InvalidEvent(
            _("give at least two alternatives, or none for a yes/no question"), field="options"
        )
    if len(clean_options) > MAX_OPTIONS:
        raise InvalidEvent(
            _("at most %(n)d alternatives"), params={"n": MAX_OPTIONS}, field="options"
        )
    clean_scope = tuple(dict.fromkeys(m.strip() for m in mandate_scope if m.strip()))
    if len(clean_scope) > MAX_MATTERS:
        raise InvalidEvent(
            _("at most %(n)d matters"), params={"n": MAX_MATTERS}, field="mandate_scope"
        )
    for field_name, labels in (("options", clean_options), ("mandate_scope", clean_scope)):
        if any(len(label) > MAX_LABEL for label in labels):
            raise InvalidEvent(
                _("each line has at most %(n)d characters"),
                params={"n": MAX_LABEL},
                field=field_name,
            )
    if urgent and isinstance(kind.fallback, MandateFallback) and not clean_scope:
        raise InvalidEvent(
            _("say which matters a temporary coordinator may decide"), field="mandate_scope"
        )
    if len(seed) < MIN_SEED_BYTES:
        raise InvalidEvent(_("the proposal's seed is too short"), field="seed")
    return Proposal(
        id=proposal_id,
        kind=kind,
        author=author,
        group=group,
        created_at=at,
        urgent=urgent,
        deadline=deadline,
        options=clean_options,
        mandate_scope=clean_scope,
        seed=seed,
        draft=draft,
        from_meeting=from_meeting,
        concerns=concerns,
    )


def _check_from_meeting(
    kind: DecisionKind, *, urgent: bool, draft: bool, deadline: datetime | None
) -> None:
    if kind.scope is not Scope.GROUP:
        # A meeting is one group's: it cannot speak for the federation.
        raise InvalidEvent(
            _("a federation matter is decided by the federation together, not at one meeting"),
            field="kind",
        )
    if urgent or draft or deadline is not None:
        raise InvalidEvent(
            _("a decision taken at a meeting has no deadline, urgency or draft"), field="kind"
        )


def _check_concerns(
    kind: DecisionKind, author: str, group: str, electorate: Electorate, concerns: str | None
) -> str | None:
    """Return the member a removal names, after checking it names one it may."""
    if kind.power is not Power.REMOVE_MEMBER:
        if concerns is not None:
            raise InvalidEvent(_("only a removal names a member to remove"), field="concerns")
        return None
    if concerns is None:
        raise InvalidEvent(_("say which member to remove"), field="concerns")
    if concerns == author:
        raise InvalidEvent(
            _("you cannot propose your own removal"),
            field="concerns",
        )
    if concerns not in electorate.groups.get(group, frozenset()):
        raise NotEligible(
            _("only a member of the same group can be named for removal"), field="concerns"
        )
    return concerns


def check_deadline(kind: DecisionKind, opens: datetime, deadline: datetime) -> None:
    """Raise unless ``deadline`` is one the charter allows for a proposal opening at ``opens``."""
    if deadline <= opens:
        raise InvalidEvent(_("the deadline must be in the future"), field="deadline")
    if deadline - opens < kind.consensus.min_period:
        minutes = kind.consensus.min_period / timedelta(minutes=1)
        raise InvalidEvent(
            _("the charter gives members at least %(minutes)g minutes to respond"),
            params={"minutes": minutes},
            field="deadline",
        )
    if deadline - opens > kind.consensus.period:
        days = kind.consensus.period / timedelta(days=1)
        raise InvalidEvent(
            _("the charter allows at most %(days)g days for consensus on this kind"),
            params={"days": days},
            field="deadline",
        )


def open_consensus(fold: Fold, at: datetime, deadline: datetime | None) -> None:
    """Open consensus at ``at``: fix the deciding body and the deadline."""
    fold.phase = Phase.CONSENSUS
    fold.opened_at = at
    fold.body = body_at(fold.proposal, fold.electorate)
    period = fold.proposal.kind.consensus.period
    fold.consensus_closes_at = deadline if deadline is not None else at + period


# --- guards ------------------------------------------------------------------------------------


def may_publish(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may publish the draft now."""
    require_phase(s, Phase.DRAFT, doing=_("publishing"))
    require_author(s, member)


def may_amend(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may put a new version now."""
    require_phase(s, Phase.DRAFT, Phase.CONSENSUS, doing=_("amending"))
    require_author(s, member)


def may_withdraw(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may withdraw the proposal now."""
    require_phase(s, *OPEN_PHASES, doing=_("withdrawing"))
    require_author(s, member)


# --- handlers ----------------------------------------------------------------------------------


def on_published(fold: Fold, e: Published, strict: bool) -> None:
    may_publish(fold, e.actor, strict)
    deadline = e.deadline
    if deadline is None and fold.proposal.deadline is not None and fold.proposal.deadline > e.at:
        # A deadline set on a draft holds if it is still ahead; one that has passed while
        # the draft waited gives way to the charter's period.
        deadline = fold.proposal.deadline
    if deadline is not None:
        aware(deadline, "deadline")
        check_deadline(fold.proposal.kind, e.at, deadline)
    open_consensus(fold, e.at, deadline)


def on_amended(fold: Fold, e: Amended, strict: bool) -> None:
    may_amend(fold, e.actor, strict)
    if e.version != fold.version + 1:
        raise InvalidEvent(_("versions follow each other one by one"), field="version")
    fold.version = e.version
    # Agreement was given to the old text: everyone responds to the new one afresh.
    fold.responses.clear()
    fold.carried.clear()
    # A meeting record awaiting confirmation was about the old text: it lapses too.
    fold.meeting = None


def on_withdrawn(fold: Fold, e: Withdrawn, strict: bool) -> None:
    may_withdraw(fold, e.actor, strict)
    close(fold, Outcome.WITHDRAWN, ReachedBy.WITHDRAWAL, e.at)
