"""What every phase shares: the situation a guard judges, closing, and the consensus count.

A guard is ``guard(situation, member, strict=True) -> None``: it returns when the member
may take the action now and raises the :class:`~veche.domain.errors.DomainError` that
says why not otherwise. Handlers call it before applying an event; ``actions()`` calls
it to decide what a page offers. With ``strict=False`` (replaying stored history) a guard
checks only *what* and *when*, not *who*: a member who has left, or a coordinator whose
term has ended, keeps the events they made while they could.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from veche.domain.charter import Scope
from veche.domain.consensus import ConsensusCount, Position, count, group_position
from veche.domain.errors import NotEligible, Phrase, ProposalClosed, _
from veche.domain.proposals.model import (
    PHASE_NAMES,
    Context,
    Decision,
    Electorate,
    Fold,
    MandateState,
    MeetingState,
    Outcome,
    Phase,
    Proposal,
    ReachedBy,
    VoteState,
)


class Situation(Protocol):
    """What a guard reads: a replay in progress (Fold) or a finished ProposalState."""

    @property
    def proposal(self) -> Proposal: ...
    @property
    def phase(self) -> Phase: ...
    @property
    def version(self) -> int: ...
    @property
    def eligible(self) -> frozenset[str]: ...
    @property
    def electorate(self) -> Electorate: ...
    @property
    def body_groups(self) -> frozenset[str]: ...
    @property
    def responses(self) -> Mapping[str, Position]: ...
    @property
    def vote(self) -> VoteState | None: ...
    @property
    def mandate(self) -> MandateState | None: ...
    @property
    def meeting(self) -> MeetingState | None: ...
    @property
    def context(self) -> Context: ...


def instant(s: Situation) -> datetime:
    """Return the instant a situation describes."""
    at = getattr(s, "clock", None) or getattr(s, "at", None)
    assert isinstance(at, datetime)  # noqa: S101 - both kinds of situation carry one
    return at


# --- the parts of a guard -------------------------------------------------------------------


def require_phase(s: Situation, *phases: Phase, doing: str) -> None:
    """Raise unless the proposal is in one of ``phases``."""
    if s.phase in phases:
        return
    if s.phase is Phase.CLOSED:
        raise ProposalClosed(
            _("the proposal is closed: %(doing)s is no longer possible"),
            params={"doing": Phrase(doing)},
        )
    raise ProposalClosed(
        _("%(doing)s is not possible while the proposal is in %(phase)s"),
        params={
            "doing": Phrase(doing),
            "phase": Phrase(PHASE_NAMES.get(s.phase, s.phase.value)),
        },
    )


def require_author(s: Situation, actor: str) -> None:
    """Raise unless ``actor`` wrote the proposal."""
    if actor != s.proposal.author:
        raise NotEligible(_("only the proposal's author can do this"), field="actor")


def require_member(s: Situation, member: str, strict: bool) -> None:
    """Raise (when strict) unless ``member`` belongs to the deciding body now."""
    if not strict or member in s.eligible:
        return
    if s.proposal.scope is Scope.GROUP:
        raise NotEligible(_("only members of the proposal's group can take part"), field="member")
    raise NotEligible(_("only members of the federation's groups can take part"), field="member")


def own_group_coordinated(s: Situation, member: str) -> str | None:
    """Return the body group ``member`` coordinates now, or None."""
    group = s.electorate.group_of(member)
    if group is None or group not in s.body_groups:
        return None
    return group if s.electorate.is_coordinator(member, group) else None


# --- consensus views -------------------------------------------------------------------------


def group_positions(fold: Fold) -> dict[str, Position | None]:
    """Return each body group's position: carried by its coordinator, else its members' own."""
    rule = fold.proposal.kind.consensus
    positions: dict[str, Position | None] = {}
    for group in sorted(fold.body_groups):
        if group in fold.carried:
            positions[group] = fold.carried[group]
        else:
            members = fold.group_members(group)
            own = [p for m, p in fold.responses.items() if m in members]
            positions[group] = group_position(own, len(members), rule)
    return positions


def consensus_count(fold: Fold) -> ConsensusCount:
    """Return where consensus stands: members' responses, or groups' positions (spokes)."""
    rule = fold.proposal.kind.consensus
    if fold.proposal.spokes:
        positions = [p for p in group_positions(fold).values() if p is not None]
        return count(positions, len(fold.body_groups), rule)
    eligible = fold.eligible
    current = [p for m, p in fold.responses.items() if m in eligible]
    return count(current, len(eligible), rule)


# --- closing ------------------------------------------------------------------------------------


def close(fold: Fold, outcome: Outcome, reached_by: ReachedBy, at: datetime) -> None:
    """Close the proposal with its decision."""
    fold.phase = Phase.CLOSED
    fold.decision = Decision(
        proposal_id=fold.proposal.id,
        kind=fold.proposal.kind.key,
        scope=fold.proposal.scope,
        group=fold.proposal.group,
        outcome=outcome,
        reached_by=reached_by,
        at=at,
        version=fold.version,
        tally=_decision_tally(fold, reached_by),
    )


def _decision_tally(fold: Fold, reached_by: ReachedBy) -> dict[str, Any]:
    if reached_by is ReachedBy.VOTE and fold.vote is not None and fold.vote.result is not None:
        return {"vote": fold.vote.result.to_dict()}
    if reached_by is ReachedBy.MEETING and fold.meeting is not None:
        meeting: dict[str, Any] = {
            "attendance": fold.meeting.attendance,
            "reached_by": fold.meeting.reached_by.value,
            "confirmations": len(fold.meeting.confirmations) + 1,
        }
        if fold.meeting.held_on is not None:
            meeting["held_on"] = fold.meeting.held_on.isoformat()
        return {"meeting": meeting}
    if reached_by is ReachedBy.MANDATE and fold.mandate is not None:
        m = fold.mandate
        return {
            "mandate": {
                "volunteers": len(m.volunteers),
                "candidates": len(m.candidates),
                "chosen_by": "lot" if m.lot else ("vote" if m.holder else None),
                "lot_seed": m.lot.seed_hex if m.lot else None,
                "starts_at": m.starts_at.isoformat() if m.starts_at else None,
                "expires_at": m.expires_at.isoformat() if m.expires_at else None,
                "decisions": len(m.decisions),
                "recalled": m.recalled_at is not None,
            }
        }
    consensus = consensus_count(fold).to_dict()
    if fold.proposal.spokes:
        positions = group_positions(fold)
        consensus["groups"] = {
            p.value: sum(1 for q in positions.values() if q is p) for p in Position
        }
    return {"consensus": consensus}
