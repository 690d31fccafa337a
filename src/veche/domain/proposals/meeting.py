"""Meetings: a decision reached face to face, recorded by one member present and confirmed
by others present, as the charter says, stands in the record like any other.

A meeting is one group's: it decides only a group's matter, and only with a quorum of
the group present (no more people than the group has).
"""

from __future__ import annotations

from dataclasses import replace

from veche.domain.charter import Scope
from veche.domain.consensus import needed_for
from veche.domain.errors import InvalidEvent, _
from veche.domain.proposals.common import Situation, close, require_member, require_phase
from veche.domain.proposals.events import MeetingConfirmed, MeetingRecorded
from veche.domain.proposals.model import (
    Fold,
    MeetingState,
    Outcome,
    Phase,
    ReachedBy,
    member_of,
)

MEETING_PHASES = (Phase.CONSENSUS, Phase.VOTE)


def may_record_meeting(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may record a decision reached at a meeting now."""
    require_phase(s, *MEETING_PHASES, doing=_("recording a meeting's decision"))
    if s.proposal.scope is Scope.FEDERATION:
        # A meeting is one group's: it cannot speak for the federation, whose matters
        # every group (or its coordinator, in spokes mode) decides together.
        raise InvalidEvent(
            _("a federation matter is decided by the federation together, not at one meeting"),
            field="meeting",
        )
    require_member(s, member, strict)
    if s.meeting is not None:
        raise InvalidEvent(_("a meeting record already awaits confirmation"), field="meeting")
    needed = s.proposal.kind.meeting_confirmations
    if strict and len(s.eligible) < needed + 1:
        raise InvalidEvent(
            _(
                "a meeting record needs %(needed)d others present to confirm it, and the "
                "group has only %(members)d members"
            ),
            params={"needed": needed, "members": len(s.eligible)},
            field="meeting",
        )


def on_meeting(fold: Fold, e: MeetingRecorded, strict: bool) -> None:
    may_record_meeting(fold, e.recorder, strict)
    if member_of(Outcome, e.outcome, "outcome") not in (Outcome.ADOPTED, Outcome.NOT_ADOPTED):
        raise InvalidEvent(_("a meeting adopts the proposal or does not"), field="outcome")
    if member_of(ReachedBy, e.reached_by, "how") not in (ReachedBy.CONSENSUS, ReachedBy.VOTE):
        raise InvalidEvent(_("a meeting reaches its decision by consensus or vote"), field="how")
    needed = fold.proposal.kind.meeting_confirmations
    if isinstance(e.attendance, bool) or not isinstance(e.attendance, int):
        raise InvalidEvent(_("attendance is a whole number of members"), field="attendance")
    if e.attendance < needed + 1:
        raise InvalidEvent(
            _(
                "the record needs %(needed)d others present to confirm it, so at least "
                "%(attended)d attended"
            ),
            params={"needed": needed, "attended": needed + 1},
            field="attendance",
        )
    body = len(fold.eligible)
    if strict and e.attendance > body:
        raise InvalidEvent(
            _("the group has %(members)d members: no more can have attended"),
            params={"members": body},
            field="attendance",
        )
    quorum = needed_for(body, fold.proposal.kind.consensus.quorum)
    if strict and e.attendance < quorum:
        raise InvalidEvent(
            _("a meeting decides only with a quorum: at least %(quorum)d members present"),
            params={"quorum": quorum},
            field="attendance",
        )
    fold.meeting = MeetingState(
        recorder=e.recorder,
        outcome=Outcome(e.outcome),
        attendance=e.attendance,
        reached_by=ReachedBy(e.reached_by),
        recorded_at=e.at,
        confirmations=frozenset(),
        needed=needed,
    )


def may_confirm_meeting(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may confirm the meeting record now."""
    if s.meeting is None:
        raise InvalidEvent(_("there is no meeting record to confirm"), field="meeting")
    require_phase(s, *MEETING_PHASES, doing=_("confirming a meeting record"))
    require_member(s, member, strict)
    if member == s.meeting.recorder:
        raise InvalidEvent(_("the recorder cannot confirm their own record"), field="member")
    if member in s.meeting.confirmations:
        raise InvalidEvent(_("you have already confirmed this record"), field="member")


def on_meeting_confirmed(fold: Fold, e: MeetingConfirmed, strict: bool) -> None:
    may_confirm_meeting(fold, e.member, strict)
    assert fold.meeting is not None  # noqa: S101 - checked by the guard
    fold.meeting = replace(fold.meeting, confirmations=fold.meeting.confirmations | {e.member})
    if len(fold.meeting.confirmations) >= fold.meeting.needed:
        close(fold, fold.meeting.outcome, ReachedBy.MEETING, e.at)
