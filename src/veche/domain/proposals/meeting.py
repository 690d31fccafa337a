"""Meetings: a decision reached face to face, recorded by one member present and confirmed
by others present, as the charter says, stands in the record like any other.

A meeting is one group's: it decides only a group's matter, and only with a quorum of
the group present (no more people than the group had on the day). A record either
settles a proposal already under discussion online (during consensus or an urgent
vote), or stands alone: a proposal made ``from_meeting`` opens straight into
``Phase.CONFIRMING`` and its first event is the meeting's record
(docs/decisions/0095). A standalone record that not enough others confirm within the
kind's consensus period closes ``unconfirmed``.

Dates: a meeting is held on a day (UTC), not in the future and not before its group
existed; who belonged "on the day" is who belonged by that day's end (or by the moment
of recording, if that is sooner). Only someone who belonged then can have been present:
a member who joined later can neither record nor confirm the meeting.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from veche.domain.charter import Scope
from veche.domain.consensus import needed_for
from veche.domain.errors import InvalidEvent, NotEligible, _
from veche.domain.proposals.common import (
    Situation,
    close,
    require_author,
    require_member,
    require_phase,
)
from veche.domain.proposals.events import MeetingConfirmed, MeetingRecorded
from veche.domain.proposals.model import (
    Fold,
    MeetingState,
    Outcome,
    Phase,
    ReachedBy,
    body_at,
    end_of_day,
    member_of,
)

MEETING_PHASES = (Phase.CONSENSUS, Phase.VOTE)


def held_at(day: date, recorded_at: datetime) -> datetime:
    """Return the instant at which membership "on the day" is judged."""
    return min(end_of_day(day), recorded_at)


def group_size_on(s: Situation, day: date, recorded_at: datetime) -> int:
    """Return how many members the proposal's group had on ``day``."""
    electorate = s.context.electorate.at(held_at(day, recorded_at))
    return len(electorate.groups.get(s.proposal.group, frozenset()))


def _joined_after(s: Situation, member: str, day: date, recorded_at: datetime) -> bool:
    joined = s.context.electorate.joined.get(member)
    return joined is not None and joined > held_at(day, recorded_at)


# --- a standalone record ----------------------------------------------------------------------


def open_confirming(fold: Fold, at: datetime) -> None:
    """Open a standalone meeting record at ``at``: who may confirm is fixed now."""
    fold.phase = Phase.CONFIRMING
    fold.opened_at = at
    fold.body = body_at(fold.proposal, fold.electorate)


def confirming_closes_at(fold: Fold) -> datetime | None:
    """Return when a standalone record lapses unless confirmed: the kind's consensus period."""
    if fold.opened_at is None:  # pragma: no cover - opened at creation
        return None
    return fold.opened_at + fold.proposal.kind.consensus.period


def lapse(fold: Fold, at: datetime) -> None:
    """Close a standalone record that was not confirmed in time (or never written)."""
    close(fold, Outcome.UNCONFIRMED, ReachedBy.MEETING, at)


# --- guards ------------------------------------------------------------------------------------


def may_record_meeting(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may record a decision reached at a meeting now."""
    if s.phase is Phase.CONFIRMING:
        # A standalone record is written once, by its author, as the proposal is made.
        if s.meeting is not None:
            raise InvalidEvent(_("a meeting record already awaits confirmation"), field="meeting")
        require_author(s, member)
        return
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


def _check_day(fold: Fold, e: MeetingRecorded, strict: bool) -> None:
    """Raise unless the meeting's day is one it can have been held on."""
    if e.held_on is None:
        if fold.proposal.from_meeting:
            raise InvalidEvent(_("say on which day the meeting was held"), field="held_on")
        return
    if e.held_on > e.at.date():
        raise InvalidEvent(
            _("the meeting's date is in the future: record a meeting once it has been held"),
            field="held_on",
        )
    began = fold.context.electorate.began.get(fold.proposal.group)
    if began is not None and e.held_on < began.date():
        raise InvalidEvent(
            _("the group did not exist yet on %(day)s: it was founded on %(founded)s"),
            params={"day": e.held_on.isoformat(), "founded": began.date().isoformat()},
            field="held_on",
        )
    if strict and _joined_after(fold, e.recorder, e.held_on, e.at):
        raise NotEligible(
            _("you joined the group after that meeting, so you cannot have been present"),
            field="held_on",
        )


def on_meeting(fold: Fold, e: MeetingRecorded, strict: bool) -> None:
    may_record_meeting(fold, e.recorder, strict)
    if member_of(Outcome, e.outcome, "outcome") not in (Outcome.ADOPTED, Outcome.NOT_ADOPTED):
        raise InvalidEvent(_("a meeting adopts the proposal or does not"), field="outcome")
    if member_of(ReachedBy, e.reached_by, "how") not in (ReachedBy.CONSENSUS, ReachedBy.VOTE):
        raise InvalidEvent(_("a meeting reaches its decision by consensus or vote"), field="how")
    _check_day(fold, e, strict)
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
    # No more can have attended than the group had members that day (or, for a record
    # without a date, than the proposal's deciding body has).
    body = len(fold.eligible) if e.held_on is None else group_size_on(fold, e.held_on, e.at)
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
        held_on=e.held_on,
    )


def may_confirm_meeting(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may confirm the meeting record now."""
    if s.meeting is None:
        raise InvalidEvent(_("there is no meeting record to confirm"), field="meeting")
    require_phase(s, *MEETING_PHASES, Phase.CONFIRMING, doing=_("confirming a meeting record"))
    require_member(s, member, strict)
    if member == s.meeting.recorder:
        raise InvalidEvent(_("the recorder cannot confirm their own record"), field="member")
    if member in s.meeting.confirmations:
        raise InvalidEvent(_("you have already confirmed this record"), field="member")
    held_on = s.meeting.held_on
    recorded_at = s.meeting.recorded_at
    if strict and held_on is not None and _joined_after(s, member, held_on, recorded_at):
        raise NotEligible(
            _("you joined the group after that meeting, so you cannot have been present"),
            field="member",
        )


def on_meeting_confirmed(fold: Fold, e: MeetingConfirmed, strict: bool) -> None:
    may_confirm_meeting(fold, e.member, strict)
    assert fold.meeting is not None  # noqa: S101 - checked by the guard
    fold.meeting = replace(fold.meeting, confirmations=fold.meeting.confirmations | {e.member})
    if len(fold.meeting.confirmations) >= fold.meeting.needed:
        close(fold, fold.meeting.outcome, ReachedBy.MEETING, e.at)
