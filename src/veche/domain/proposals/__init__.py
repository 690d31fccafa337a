"""The proposal lifecycle as a pure function of its events and an instant.

``state(proposal, events, context, now)`` replays the events in order, advancing the
clock to each event's time before applying it, then to ``now``. Deadlines are data, not
jobs: a consensus period that has ended has ended whenever someone looks, and the
fallback (a vote, or a temporary coordinator) starts at that deadline exactly.

``check(proposal, events, new_event, context, now)`` is the one door for a new event: it
replays the history, then validates the new event strictly (including who may act) and
returns the state with it applied, or raises a :class:`~veche.domain.errors.DomainError`.

Each action has one guard, in the module of its phase; :func:`actions` asks the same
guards what a member may do now, so a page offers exactly what ``check`` accepts.
:func:`summarise` gives what the web layer stores beside the events (the phase, the next
deadline, counts, what waits for whom) so that lists never replay.

```
draft -> consensus --(quorum met, no standing block)--> adopted
         consensus --(deadline, block stands or quorum missed)--> not adopted
         consensus --(amended)--> consensus (new version; responses reset)
         consensus --(deadline, no consensus, urgent)--> vote | volunteering
              vote        -> adopted | not adopted
              volunteering -> (lot | selection vote) -> mandate -> decided | mandate expired
                                                                  | recalled
any open state --(withdrawn by author)--> withdrawn
any open state --(meeting record confirmed)--> adopted | not adopted (reached at a meeting)

from a meeting: confirming --(confirmed by others present)--> adopted | not adopted
                confirming --(deadline, not confirmed)--> unconfirmed
```

Modules, one per phase: ``drafting`` (create, publish, amend, withdraw), ``consensus``,
``vote``, ``mandate``, ``meeting``; ``events`` holds the events and their one codec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from veche.domain.consensus import Position, require_reason
from veche.domain.errors import DomainError, InvalidEvent, _
from veche.domain.proposals import consensus, drafting, mandate, meeting, vote
from veche.domain.proposals.common import Situation, consensus_count, group_positions
from veche.domain.proposals.drafting import check_deadline, create, open_consensus
from veche.domain.proposals.events import (
    EVENT_TYPES,
    Amended,
    BallotCast,
    Encoded,
    Event,
    GroupPositionCarried,
    MandateDecisionRecorded,
    MeetingConfirmed,
    MeetingRecorded,
    Published,
    RecallSupported,
    Responded,
    Volunteered,
    VoteCounted,
    Withdrawn,
    actor_of,
    decode,
    encode,
)
from veche.domain.proposals.model import (
    OPEN_PHASES,
    Action,
    Body,
    Context,
    Decision,
    Electorate,
    Fold,
    MandateDecision,
    MandateState,
    MeetingState,
    NextStep,
    Outcome,
    PastMandate,
    Phase,
    Proposal,
    ProposalState,
    ReachedBy,
    Step,
    VoteState,
    Wait,
    aware,
)

Guard = Callable[[Situation, str, bool], None]

#: The one guard of each action.
GUARDS: Mapping[Action, Guard] = {
    Action.PUBLISH: drafting.may_publish,
    Action.AMEND: drafting.may_amend,
    Action.WITHDRAW: drafting.may_withdraw,
    Action.RESPOND: consensus.may_respond,
    Action.CARRY: consensus.may_carry,
    Action.VOTE: vote.may_vote,
    Action.VOLUNTEER: mandate.may_volunteer,
    Action.DECIDE: mandate.may_decide,
    Action.RECALL: mandate.may_recall,
    Action.RECORD_MEETING: meeting.may_record_meeting,
    Action.CONFIRM_MEETING: meeting.may_confirm_meeting,
}

_HANDLERS: Mapping[type, Callable[[Fold, Any, bool], None]] = {
    Published: drafting.on_published,
    Responded: consensus.on_responded,
    Amended: drafting.on_amended,
    Withdrawn: drafting.on_withdrawn,
    GroupPositionCarried: consensus.on_carried,
    BallotCast: vote.on_ballot,
    VoteCounted: vote.on_counted,
    Volunteered: mandate.on_volunteered,
    MandateDecisionRecorded: mandate.on_mandate_decision,
    RecallSupported: mandate.on_recall,
    MeetingRecorded: meeting.on_meeting,
    MeetingConfirmed: meeting.on_meeting_confirmed,
}

# Each phase that ends at a deadline: when, what happens then, and what a page calls it.
_DEADLINES: Mapping[
    Phase, tuple[Callable[[Fold], datetime | None], Callable[[Fold, datetime], None], Step]
] = {
    Phase.CONSENSUS: (consensus.closes_at, consensus.close_consensus, Step.CONSENSUS_CLOSES),
    Phase.VOTE: (vote.closes_at, vote.close_urgent_vote, Step.VOTE_CLOSES),
    Phase.VOLUNTEERING: (
        mandate.volunteering_closes_at,
        mandate.close_volunteering,
        Step.VOLUNTEERING_CLOSES,
    ),
    Phase.SELECTION_VOTE: (
        mandate.selection_closes_at,
        mandate.close_selection_vote,
        Step.SELECTION_CLOSES,
    ),
    Phase.MANDATE: (mandate.expires_at, mandate.expire, Step.MANDATE_EXPIRES),
    Phase.CONFIRMING: (meeting.confirming_closes_at, meeting.lapse, Step.CONFIRMATION_CLOSES),
}


# --- replay -----------------------------------------------------------------------------------


def state(
    proposal: Proposal, events: Sequence[Event], context: Context, now: datetime
) -> ProposalState:
    """Return the proposal's state at ``now`` after its events; raise on an invalid history.

    An instant before the last event (a server clock that stepped back) gives the state
    as of the last event: time never runs backwards for a proposal.
    """
    aware(now, "now")
    fold = _replay(proposal, events, context)
    if fold.last_at is not None and now < fold.last_at:
        now = fold.last_at
    _advance(fold, now)
    return _freeze(fold, now)


def check(
    proposal: Proposal,
    events: Sequence[Event],
    new_event: Event,
    context: Context,
    now: datetime,
) -> ProposalState:
    """Return the state with ``new_event`` applied, or raise DomainError if it is invalid.

    The new event must happen at ``now``: a new event is never back-dated.
    """
    if new_event.at != now:
        raise InvalidEvent(_("a new event happens now"), field="at")
    fold = _replay(proposal, events, context)
    _apply(fold, new_event, strict=True)
    _advance(fold, now)
    return _freeze(fold, now)


def _replay(proposal: Proposal, events: Sequence[Event], context: Context) -> Fold:
    aware(proposal.created_at, "created_at")
    fold = Fold(
        proposal=proposal,
        context=context,
        phase=Phase.DRAFT if proposal.draft else Phase.CONSENSUS,
        last_at=proposal.created_at,
        clock=proposal.created_at,
    )
    if proposal.from_meeting:
        meeting.open_confirming(fold, proposal.created_at)
    elif not proposal.draft:
        open_consensus(fold, proposal.created_at, proposal.deadline)
    for event in events:
        _apply(fold, event, strict=False)
    return fold


def _apply(fold: Fold, event: Event, *, strict: bool) -> None:
    aware(event.at, "at")
    if fold.last_at is not None and event.at < fold.last_at:
        raise InvalidEvent(_("events must be in time order"), field="at")
    # Deadlines that passed before this event took effect first.
    _advance(fold, event.at)
    fold.last_at = event.at
    fold.clock = event.at
    _HANDLERS[type(event)](fold, event, strict)


def _advance(fold: Fold, t: datetime) -> None:
    """Apply every deadline that has passed by ``t``, each at its own instant."""
    while fold.phase in _DEADLINES:
        due, transition, _step = _DEADLINES[fold.phase]
        at = due(fold)
        if at is None or t < at:
            return
        fold.clock = at
        transition(fold, at)


def _freeze(fold: Fold, now: datetime) -> ProposalState:
    # A closed proposal is shown as it stood when it closed; an open one as it stands now.
    fold.clock = fold.decision.at if fold.decision is not None else now
    eligible = fold.eligible
    assert fold.last_at is not None  # noqa: S101 - set from the creation on
    return ProposalState(
        proposal=fold.proposal,
        phase=fold.phase,
        version=fold.version,
        opened_at=fold.opened_at,
        consensus_closes_at=fold.consensus_closes_at,
        eligible=eligible,
        responses={m: p for m, p in fold.responses.items() if m in eligible},
        consensus=consensus_count(fold),
        group_positions=group_positions(fold) if fold.proposal.spokes else {},
        vote=fold.vote,
        mandate=fold.mandate,
        meeting=fold.meeting,
        next=_next_step(fold),
        decision=fold.decision,
        electorate=fold.electorate,
        body_groups=fold.body_groups,
        carried=dict(fold.carried),
        context=fold.context,
        last_event_at=fold.last_at,
        at=fold.clock,
    )


def _next_step(fold: Fold) -> NextStep | None:
    if fold.phase is Phase.DRAFT:
        return NextStep(Step.PUBLISH, None)
    if fold.phase in _DEADLINES:
        due, _transition, step = _DEADLINES[fold.phase]
        return NextStep(step, due(fold))
    return None


# --- what a member may do, and what waits for them ------------------------------------------


def why_not(st: ProposalState, member: str, action: Action) -> DomainError | None:
    """Return why ``member`` may not take ``action`` now, or None if they may."""
    try:
        GUARDS[action](st, member, True)
    except DomainError as refusal:
        return refusal
    return None


def actions(st: ProposalState, member: str) -> frozenset[Action]:
    """Return what ``member`` may do now: exactly the actions ``check`` would accept."""
    return frozenset(a for a in Action if why_not(st, member, a) is None)


def waits(st: ProposalState) -> dict[str, tuple[Wait, ...]]:
    """Return, for each member something here waits for, what it is (their inbox)."""
    found: dict[str, list[Wait]] = {}

    def add(member: str, wait: Wait) -> None:
        found.setdefault(member, []).append(wait)

    if st.phase is Phase.DRAFT:
        add(st.proposal.author, Wait.PUBLISH)
        return {m: tuple(w) for m, w in found.items()}
    people = st.eligible | {st.proposal.author}
    for member in sorted(people):
        if member not in st.responses and why_not(st, member, Action.RESPOND) is None:
            add(member, Wait.RESPOND_AGAIN if st.version > 1 else Wait.RESPOND)
        if why_not(st, member, Action.CARRY) is None:
            group = st.electorate.group_of(member)
            if group is not None and group not in st.carried:
                add(member, Wait.CARRY)
        if why_not(st, member, Action.VOTE) is None:
            add(member, Wait.VOTE)
        if why_not(st, member, Action.VOLUNTEER) is None:
            add(member, Wait.VOLUNTEER)
        if st.phase is Phase.MANDATE and st.mandate is not None and member in st.eligible:
            add(member, Wait.HOLD_MANDATE if st.mandate.holder == member else Wait.MANDATE_IN_FORCE)
        if st.meeting is not None and why_not(st, member, Action.CONFIRM_MEETING) is None:
            add(member, Wait.CONFIRM_MEETING)
    return {m: tuple(w) for m, w in found.items()}


# --- what the web layer keeps beside the events -----------------------------------------------


@dataclass(frozen=True)
class Summary:
    """A proposal's state as stored for lists and inboxes; always equal to a replay's."""

    phase: Phase
    version: int
    opened_at: datetime | None
    # When the state next changes by itself (a deadline), if it does.
    due_at: datetime | None
    # Whether that change reads ballots (a vote's count), so needs the body's key.
    due_reads_ballots: bool
    # Consensus: how many may respond (groups, in spokes mode) and how many did.
    eligible: int
    responded: int
    positions: Mapping[str, int]
    ballots_cast: int
    vote_eligible: int
    holder: str | None
    mandate_started_at: datetime | None
    outcome: Outcome | None
    reached_by: ReachedBy | None
    closed_at: datetime | None
    last_activity_at: datetime
    waits: Mapping[str, tuple[Wait, ...]]


def summarise(st: ProposalState) -> Summary:
    """Return what the web layer stores about a proposal in state ``st``."""
    due = st.next.at if st.next is not None else None
    moments = [st.proposal.created_at, st.last_event_at]
    if st.vote is not None:
        moments.append(st.vote.opens_at)
    if st.mandate is not None and st.mandate.starts_at is not None:
        moments.append(st.mandate.starts_at)
    if st.decision is not None:
        moments.append(st.decision.at)
    vote_closing = st.phase in (Phase.VOTE, Phase.SELECTION_VOTE)
    return Summary(
        phase=st.phase,
        version=st.version,
        opened_at=st.opened_at,
        due_at=due,
        due_reads_ballots=vote_closing
        and st.vote is not None
        and st.vote.ballots_cast > 0
        and not st.vote.counted_by_tellers,
        eligible=st.consensus.eligible,
        responded=st.consensus.responded,
        positions={p.value: st.consensus.by_position.get(p, 0) for p in Position},
        ballots_cast=st.vote.ballots_cast if st.vote is not None else 0,
        vote_eligible=st.vote.eligible if st.vote is not None else 0,
        holder=st.mandate.holder if st.mandate is not None else None,
        mandate_started_at=st.mandate.starts_at if st.mandate is not None else None,
        outcome=st.decision.outcome if st.decision is not None else None,
        reached_by=st.decision.reached_by if st.decision is not None else None,
        closed_at=st.decision.at if st.decision is not None else None,
        last_activity_at=max(moments),
        waits=waits(st) if st.is_open else {},
    )


__all__ = [
    "EVENT_TYPES",
    "GUARDS",
    "OPEN_PHASES",
    "Action",
    "Amended",
    "BallotCast",
    "Body",
    "Context",
    "Decision",
    "DomainError",
    "Electorate",
    "Encoded",
    "Event",
    "GroupPositionCarried",
    "MandateDecision",
    "MandateDecisionRecorded",
    "MandateState",
    "MeetingConfirmed",
    "MeetingRecorded",
    "MeetingState",
    "NextStep",
    "Outcome",
    "PastMandate",
    "Phase",
    "Position",
    "Proposal",
    "ProposalState",
    "Published",
    "ReachedBy",
    "RecallSupported",
    "Responded",
    "Step",
    "Summary",
    "Volunteered",
    "VoteCounted",
    "VoteState",
    "Wait",
    "Withdrawn",
    "actions",
    "actor_of",
    "check",
    "check_deadline",
    "create",
    "decode",
    "encode",
    "require_reason",
    "state",
    "summarise",
    "waits",
    "why_not",
]
