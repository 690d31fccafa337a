"""The proposal lifecycle as a pure function of its events and an instant.

``state(proposal, events, context, now)`` replays the events in order, advancing the
clock to each event's time before applying it, then to ``now``. Deadlines are data, not
jobs: a consensus period that has ended has ended whenever someone looks, and the
fallback (a vote, or a temporary coordinator) starts at that deadline exactly.

``check(proposal, events, new_event, context, now)`` is the one door for a new event: it
replays the history, then validates the new event strictly (including who may act,
against the current electorate) and returns the state with it applied, or raises a
:class:`~veche.domain.errors.DomainError`. History is replayed leniently as to
membership (a member who has since left the group keeps their past events, but no
longer counts), and strictly as to everything else (order, phases, double votes).

Events carry structure only, never text: reasons, titles and decision texts are content,
stored encrypted by the application and never needed to compute the state.

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
```
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from veche.domain.charter import (
    DecisionKind,
    MandateFallback,
    Mode,
    Scope,
    Selection,
    SpokesWeight,
    VoteFallback,
)
from veche.domain.consensus import (
    NEEDS_REASON,
    ConsensusCount,
    Position,
    count,
    group_position,
    needed_for,
)
from veche.domain.errors import (
    DomainError,
    InvalidEvent,
    MandateError,
    NotEligible,
    Phrase,
    ProposalClosed,
    _,
)
from veche.domain.mandates import Lot, draw_lot, eligible_volunteers
from veche.domain.voting import Method, TallyResult, VoteSpec, tally, validate_ballot

MAX_OPTIONS = 20
MAX_MATTERS = 20
# Alternatives and mandate matters are short labels, not texts.
MAX_LABEL = 200
MIN_SEED_BYTES = 16


class Phase(StrEnum):
    """Where a proposal is in its life."""

    DRAFT = "draft"
    CONSENSUS = "consensus"
    VOTE = "vote"
    VOLUNTEERING = "volunteering"
    SELECTION_VOTE = "selection_vote"
    MANDATE = "mandate"
    CLOSED = "closed"


# How an error message names each phase ("... while the proposal is in vote"); the English
# is the value itself, the web layer translates it. A closed proposal has its own message.
_PHASE_NAMES: dict[Phase, str] = {
    Phase.DRAFT: _("draft"),
    Phase.CONSENSUS: _("consensus"),
    Phase.VOTE: _("vote"),
    Phase.VOLUNTEERING: _("volunteering"),
    Phase.SELECTION_VOTE: _("selection_vote"),
    Phase.MANDATE: _("mandate"),
}


class Outcome(StrEnum):
    """How a closed proposal ended."""

    ADOPTED = "adopted"
    NOT_ADOPTED = "not_adopted"
    WITHDRAWN = "withdrawn"
    DECIDED = "decided"
    MANDATE_EXPIRED = "mandate_expired"
    RECALLED = "recalled"


class ReachedBy(StrEnum):
    """How a decision was reached."""

    CONSENSUS = "consensus"
    VOTE = "vote"
    MANDATE = "mandate"
    MEETING = "meeting"
    WITHDRAWAL = "withdrawal"


class Step(StrEnum):
    """What happens next to an open proposal."""

    PUBLISH = "publish"
    CONSENSUS_CLOSES = "consensus_closes"
    VOTE_CLOSES = "vote_closes"
    VOLUNTEERING_CLOSES = "volunteering_closes"
    SELECTION_CLOSES = "selection_closes"
    MANDATE_EXPIRES = "mandate_expires"


# --- who takes part --------------------------------------------------------------------


@dataclass(frozen=True)
class Electorate:
    """The federation's membership: groups' members and coordinators, by id.

    With ``joined``/``left`` (members) and ``began``/``ended`` (groups) it also says
    *when* each belonged: :meth:`at` then gives the membership at any instant, so that
    replaying a proposal counts, at each moment of its history, exactly who belonged
    then. Whoever has no entry there is taken to belong throughout.
    """

    groups: Mapping[str, frozenset[str]]
    coordinators: Mapping[str, frozenset[str]] = field(default_factory=dict)
    joined: Mapping[str, datetime] = field(default_factory=dict)
    left: Mapping[str, datetime] = field(default_factory=dict)
    began: Mapping[str, datetime] = field(default_factory=dict)
    ended: Mapping[str, datetime] = field(default_factory=dict)

    def at(self, t: datetime) -> Electorate:
        """Return the membership at instant ``t`` (joined at or before, not yet left)."""
        if not (self.joined or self.left or self.began or self.ended):
            return self

        def present(since: datetime | None, until: datetime | None) -> bool:
            return (since is None or since <= t) and (until is None or t < until)

        groups = {
            g: frozenset(m for m in members if present(self.joined.get(m), self.left.get(m)))
            for g, members in self.groups.items()
            if present(self.began.get(g), self.ended.get(g))
        }
        return Electorate(
            groups=groups,
            coordinators={
                g: frozenset(c & groups[g]) for g, c in self.coordinators.items() if g in groups
            },
        )

    def group_of(self, member: str) -> str | None:
        """Return the id of the member's group, or None if they belong to none."""
        for group, members in self.groups.items():
            if member in members:
                return group
        return None

    def all_members(self) -> frozenset[str]:
        """Return every member of every group."""
        return frozenset().union(*self.groups.values()) if self.groups else frozenset()

    def is_coordinator(self, member: str, group: str) -> bool:
        """Return whether the member coordinates the group."""
        return member in self.coordinators.get(group, frozenset())


@dataclass(frozen=True)
class Context:
    """What a proposal's state depends on besides its own events."""

    electorate: Electorate
    # Holders of this body's earlier mandates, oldest first (for rotation).
    previous_holders: tuple[str, ...] = ()


# --- the proposal and its events --------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A proposal as created: what the later events refer to. No text: that is content."""

    id: str
    kind: DecisionKind
    author: str
    # The group whose matter it is (group scope), or the author's group (federation scope).
    group: str
    created_at: datetime
    urgent: bool = False
    # Requested end of consensus; None: the charter's consensus period.
    deadline: datetime | None = None
    # Alternatives put to a vote if it comes to one; none: a yes/no question.
    options: tuple[str, ...] = ()
    # Matters a temporary coordinator may decide under this proposal's mandate.
    mandate_scope: tuple[str, ...] = ()
    # Fixed at creation, kept by the server until needed: breaks vote ties, draws lots.
    seed: bytes = b""
    draft: bool = False

    @property
    def scope(self) -> Scope:
        """Return whose matter this is."""
        return self.kind.scope


@dataclass(frozen=True)
class Published:
    """The author opened a draft for responses."""

    actor: str
    at: datetime
    deadline: datetime | None = None


@dataclass(frozen=True)
class Responded:
    """A member responded to the given version (the latest response counts)."""

    member: str
    position: Position
    at: datetime
    version: int = 1


@dataclass(frozen=True)
class Amended:
    """The author put a new version; responses reset."""

    actor: str
    at: datetime
    version: int


@dataclass(frozen=True)
class Withdrawn:
    """The author withdrew the proposal."""

    actor: str
    at: datetime


@dataclass(frozen=True)
class GroupPositionCarried:
    """Spokes mode: a coordinator carried their group's position."""

    coordinator: str
    group: str
    position: Position
    at: datetime


@dataclass(frozen=True)
class BallotCast:
    """A ballot in the urgent vote or the vote choosing a temporary coordinator.

    In spokes mode the coordinator casts the group's ballot, ``for_group`` naming it.
    """

    voter: str
    ballot: Any
    at: datetime
    for_group: str | None = None


@dataclass(frozen=True)
class Volunteered:
    """A member came forward as temporary coordinator."""

    member: str
    at: datetime


@dataclass(frozen=True)
class MandateDecisionRecorded:
    """The temporary coordinator recorded a decision on a matter within the mandate."""

    holder: str
    matter: str
    at: datetime


@dataclass(frozen=True)
class RecallSupported:
    """A member supports recalling the temporary coordinator now."""

    member: str
    at: datetime


@dataclass(frozen=True)
class MeetingRecorded:
    """A member recorded a decision reached at an in-person meeting."""

    recorder: str
    outcome: Outcome
    attendance: int
    reached_by: ReachedBy
    at: datetime


@dataclass(frozen=True)
class MeetingConfirmed:
    """Another member present at the meeting confirmed its record."""

    member: str
    at: datetime


Event = (
    Published
    | Responded
    | Amended
    | Withdrawn
    | GroupPositionCarried
    | BallotCast
    | Volunteered
    | MandateDecisionRecorded
    | RecallSupported
    | MeetingRecorded
    | MeetingConfirmed
)


# --- what the state looks like ----------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """What happens next to an open proposal, and when (None: when someone acts)."""

    step: Step
    at: datetime | None


@dataclass(frozen=True)
class VoteState:
    """An urgent vote, or a vote choosing a temporary coordinator among volunteers."""

    spec: VoteSpec
    opens_at: datetime
    closes_at: datetime
    secret: bool
    voters: frozenset[str]
    ballots_cast: int
    eligible: int
    result: TallyResult | None = None


@dataclass(frozen=True)
class MandateDecision:
    """A decision a temporary coordinator took under the mandate."""

    holder: str
    matter: str
    at: datetime


@dataclass(frozen=True)
class MandateState:
    """The fallback to a temporary coordinator: volunteers, choice, term, decisions."""

    volunteering_closes_at: datetime
    volunteers: tuple[str, ...]
    candidates: tuple[str, ...] = ()
    holder: str | None = None
    lot: Lot | None = None
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    decisions: tuple[MandateDecision, ...] = ()
    recall_supporters: frozenset[str] = frozenset()
    recall_needed: int = 0
    recalled_at: datetime | None = None


@dataclass(frozen=True)
class MeetingState:
    """A meeting record waiting for (or having) its confirmations."""

    recorder: str
    outcome: Outcome
    attendance: int
    reached_by: ReachedBy
    recorded_at: datetime
    confirmations: frozenset[str]
    needed: int


@dataclass(frozen=True)
class Decision:
    """What a closed proposal yields: outcome, how reached, the tally, when."""

    proposal_id: str
    kind: str
    scope: Scope
    group: str
    outcome: Outcome
    reached_by: ReachedBy
    at: datetime
    version: int
    tally: Mapping[str, Any]

    def to_payload(self) -> dict[str, Any]:
        """Return the decision as plain data for the hash-chained decision log."""
        return {
            "proposal": self.proposal_id,
            "kind": self.kind,
            "scope": self.scope.value,
            "group": self.group if self.scope is Scope.GROUP else None,
            "outcome": self.outcome.value,
            "reached_by": self.reached_by.value,
            "at": self.at.isoformat(),
            "version": self.version,
            "tally": dict(self.tally),
        }


@dataclass(frozen=True)
class ProposalState:
    """A proposal's state at an instant."""

    proposal: Proposal
    phase: Phase
    version: int
    opened_at: datetime | None
    consensus_closes_at: datetime | None
    eligible: frozenset[str]
    responses: Mapping[str, Position]
    consensus: ConsensusCount
    group_positions: Mapping[str, Position | None]
    vote: VoteState | None
    mandate: MandateState | None
    meeting: MeetingState | None
    next: NextStep | None
    decision: Decision | None

    @property
    def is_open(self) -> bool:
        """Return whether the proposal can still change."""
        return self.phase is not Phase.CLOSED

    def awaits(self, member: str, electorate: Electorate) -> bool:
        """Return whether something here waits for the member's response or ballot."""
        if member not in self.eligible:
            return False
        if self.phase is Phase.CONSENSUS:
            return member not in self.responses
        if self.phase in (Phase.VOTE, Phase.SELECTION_VOTE) and self.vote is not None:
            if not _may_vote(self, member, electorate):
                return False
            # In a spokes-mode vote the ballot is the group's, recorded under its id.
            spokes = self.phase is Phase.VOTE and self.proposal.kind.mode is Mode.SPOKES
            key = electorate.group_of(member) if spokes else member
            return key not in self.vote.voters
        if self.phase is Phase.VOLUNTEERING and self.mandate is not None:
            return False
        return False


# --- commands: building valid new events -------------------------------------------------


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
) -> Proposal:
    """Return a new proposal after checking the author may make it; raise DomainError."""
    _aware(at, "at")
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
    if urgent and not kind.urgent_allowed:
        raise InvalidEvent(
            _("the charter does not allow urgent proposals of the kind %(kind)r"),
            params={"kind": kind.name},
            field="urgent",
        )
    if deadline is not None:
        _aware(deadline, "deadline")
        if not draft:
            _check_deadline(kind, at, deadline)
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
    )


def require_reason(position: Position, reason: str) -> None:
    """Raise unless a position that needs a reason comes with one."""
    if position in NEEDS_REASON and not reason.strip():
        raise InvalidEvent(
            _("standing aside, objecting and blocking need a reason others can respond to"),
            field="reason",
        )


# --- the fold ---------------------------------------------------------------------------


@dataclass
class _Fold:
    """Mutable scratch state while replaying; frozen into ProposalState at the end."""

    proposal: Proposal
    context: Context
    phase: Phase
    version: int = 1
    last_at: datetime | None = None
    opened_at: datetime | None = None
    consensus_closes_at: datetime | None = None
    responses: dict[str, Position] = field(default_factory=dict)
    carried: dict[str, Position] = field(default_factory=dict)
    vote: VoteState | None = None
    # (who cast it: member, or group in spokes mode; the ballot). Kept in memory only.
    ballots: list[tuple[str, Any]] = field(default_factory=list)
    mandate: MandateState | None = None
    meeting: MeetingState | None = None
    decision: Decision | None = None
    # The instant being evaluated: an event's time, a deadline, or "now".
    clock: datetime | None = None
    _snapshot: tuple[datetime | None, Electorate] | None = None


def _electorate(fold: _Fold) -> Electorate:
    """Return the membership at the fold's clock (computed once per instant)."""
    if fold._snapshot is None or fold._snapshot[0] != fold.clock:
        full = fold.context.electorate
        fold._snapshot = (fold.clock, full if fold.clock is None else full.at(fold.clock))
    return fold._snapshot[1]


def state(
    proposal: Proposal, events: Sequence[Event], context: Context, now: datetime
) -> ProposalState:
    """Return the proposal's state at ``now`` after its events; raise on an invalid history."""
    _aware(now, "now")
    fold = _replay(proposal, events, context)
    if fold.last_at is not None and now < fold.last_at:
        raise InvalidEvent(_("'now' is before the last event"), field="now")
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


def _replay(proposal: Proposal, events: Sequence[Event], context: Context) -> _Fold:
    _aware(proposal.created_at, "created_at")
    fold = _Fold(
        proposal=proposal,
        context=context,
        phase=Phase.DRAFT if proposal.draft else Phase.CONSENSUS,
        last_at=proposal.created_at,
        clock=proposal.created_at,
    )
    if not proposal.draft:
        _open(fold, proposal.created_at, proposal.deadline)
    for event in events:
        _apply(fold, event, strict=False)
    return fold


def _open(fold: _Fold, at: datetime, deadline: datetime | None) -> None:
    kind = fold.proposal.kind
    fold.phase = Phase.CONSENSUS
    fold.opened_at = at
    fold.consensus_closes_at = deadline if deadline is not None else at + kind.consensus.period


def _apply(fold: _Fold, event: Event, *, strict: bool) -> None:
    _aware(event.at, "at")
    if fold.last_at is not None and event.at < fold.last_at:
        raise InvalidEvent(_("events must be in time order"), field="at")
    # Deadlines that passed before this event took effect first.
    _advance(fold, event.at)
    fold.last_at = event.at
    fold.clock = event.at
    handler = _HANDLERS[type(event)]
    handler(fold, event, strict)


def _eligible(fold: _Fold) -> frozenset[str]:
    electorate = _electorate(fold)
    if fold.proposal.scope is Scope.GROUP:
        return electorate.groups.get(fold.proposal.group, frozenset())
    return electorate.all_members()


def _require_member(fold: _Fold, member: str, strict: bool) -> None:
    if strict and member not in _eligible(fold):
        if fold.proposal.scope is Scope.GROUP:
            raise NotEligible(
                _("only members of the proposal's group can take part"), field="member"
            )
        raise NotEligible(
            _("only members of the federation's groups can take part"), field="member"
        )


def _require_author(fold: _Fold, actor: str) -> None:
    if actor != fold.proposal.author:
        raise NotEligible(_("only the proposal's author can do this"), field="actor")


def _require_phase(fold: _Fold, *phases: Phase, doing: str) -> None:
    if fold.phase in phases:
        return
    if fold.phase is Phase.CLOSED:
        raise ProposalClosed(
            _("the proposal is closed: %(doing)s is no longer possible"),
            params={"doing": Phrase(doing)},
        )
    raise ProposalClosed(
        _("%(doing)s is not possible while the proposal is in %(phase)s"),
        params={
            "doing": Phrase(doing),
            "phase": Phrase(_PHASE_NAMES.get(fold.phase, fold.phase.value)),
        },
    )


def _on_published(fold: _Fold, e: Published, strict: bool) -> None:
    _require_phase(fold, Phase.DRAFT, doing=_("publishing"))
    _require_author(fold, e.actor)
    deadline = e.deadline if e.deadline is not None else fold.proposal.deadline
    if deadline is not None:
        _aware(deadline, "deadline")
        _check_deadline(fold.proposal.kind, e.at, deadline)
    _open(fold, e.at, deadline)


def _on_responded(fold: _Fold, e: Responded, strict: bool) -> None:
    _require_phase(fold, Phase.CONSENSUS, doing=_("responding"))
    _require_member(fold, e.member, strict)
    if e.version != fold.version:
        raise InvalidEvent(
            _("the proposal was amended since; read the new version and respond again"),
            field="version",
        )
    fold.responses[e.member] = _member_of(Position, e.position, "position")
    if _consensus_count(fold).unanimous and not _is_spokes(fold):
        _close(fold, Outcome.ADOPTED, ReachedBy.CONSENSUS, e.at)


def _on_amended(fold: _Fold, e: Amended, strict: bool) -> None:
    _require_phase(fold, Phase.DRAFT, Phase.CONSENSUS, doing=_("amending"))
    _require_author(fold, e.actor)
    if e.version != fold.version + 1:
        raise InvalidEvent(_("versions follow each other one by one"), field="version")
    fold.version = e.version
    # Agreement was given to the old text: everyone responds to the new one afresh.
    fold.responses.clear()
    fold.carried.clear()
    # A meeting record awaiting confirmation was about the old text: it lapses too.
    fold.meeting = None


def _on_withdrawn(fold: _Fold, e: Withdrawn, strict: bool) -> None:
    _require_phase(fold, *(p for p in Phase if p is not Phase.CLOSED), doing=_("withdrawing"))
    _require_author(fold, e.actor)
    _close(fold, Outcome.WITHDRAWN, ReachedBy.WITHDRAWAL, e.at)


def _on_carried(fold: _Fold, e: GroupPositionCarried, strict: bool) -> None:
    _require_phase(fold, Phase.CONSENSUS, doing=_("carrying a group's position"))
    if not _is_spokes(fold):
        raise InvalidEvent(_("only spokes-mode proposals take group positions"), field="group")
    electorate = _electorate(fold)
    if e.group not in electorate.groups:
        raise NotEligible(_("that group is not part of the federation"), field="group")
    if strict and not electorate.is_coordinator(e.coordinator, e.group):
        raise NotEligible(
            _("only a coordinator of the group can carry its position"), field="group"
        )
    fold.carried[e.group] = _member_of(Position, e.position, "position")
    counted = _consensus_count(fold)
    if counted.unanimous and len(fold.carried) == len(electorate.groups):
        _close(fold, Outcome.ADOPTED, ReachedBy.CONSENSUS, e.at)


def _on_ballot(fold: _Fold, e: BallotCast, strict: bool) -> None:
    _require_phase(fold, Phase.VOTE, Phase.SELECTION_VOTE, doing=_("voting"))
    assert fold.vote is not None  # noqa: S101 - the vote phases always carry a vote
    voter_key = e.voter
    if _is_spokes(fold) and fold.phase is Phase.VOTE:
        electorate = _electorate(fold)
        if e.for_group is None or e.for_group not in electorate.groups:
            raise NotEligible(_("in spokes mode a ballot is cast for a group"), field="group")
        if strict and not electorate.is_coordinator(e.voter, e.for_group):
            raise NotEligible(_("only a coordinator of the group casts its ballot"), field="group")
        voter_key = e.for_group
    else:
        _require_member(fold, e.voter, strict)
    if voter_key in fold.vote.voters:
        raise InvalidEvent(_("a ballot was already cast; nobody votes twice"), field="ballot")
    ballot = validate_ballot(fold.vote.spec, e.ballot)
    fold.ballots.append((voter_key, ballot))
    fold.vote = replace(
        fold.vote, voters=fold.vote.voters | {voter_key}, ballots_cast=fold.vote.ballots_cast + 1
    )


def _on_volunteered(fold: _Fold, e: Volunteered, strict: bool) -> None:
    _require_phase(fold, Phase.VOLUNTEERING, doing=_("volunteering"))
    assert fold.mandate is not None  # noqa: S101 - volunteering always carries a mandate
    _require_member(fold, e.member, strict)
    if e.member in fold.mandate.volunteers:
        raise InvalidEvent(_("you have already volunteered"), field="member")
    fold.mandate = replace(fold.mandate, volunteers=(*fold.mandate.volunteers, e.member))


def _on_mandate_decision(fold: _Fold, e: MandateDecisionRecorded, strict: bool) -> None:
    if fold.phase is not Phase.MANDATE:
        if fold.mandate is not None and fold.mandate.expires_at is not None:
            if fold.mandate.recalled_at is not None:
                raise MandateError(_("the temporary coordinator was recalled"), field="at")
            if e.at >= fold.mandate.expires_at:
                raise MandateError(
                    _("the mandate expired at %(expires)s"),
                    params={"expires": fold.mandate.expires_at.isoformat()},
                    field="at",
                )
        raise MandateError(_("there is no mandate in force on this proposal"), field="at")
    assert fold.mandate is not None  # noqa: S101 - the mandate phase always carries one
    if e.holder != fold.mandate.holder:
        raise NotEligible(_("only the temporary coordinator decides under the mandate"))
    # A holder who has left the body since being chosen no longer speaks for it.
    _require_member(fold, e.holder, strict)
    if e.matter not in fold.proposal.mandate_scope:
        raise MandateError(_("that matter is outside the mandate's scope"), field="matter")
    decision = MandateDecision(holder=e.holder, matter=e.matter, at=e.at)
    fold.mandate = replace(fold.mandate, decisions=(*fold.mandate.decisions, decision))


def _on_recall(fold: _Fold, e: RecallSupported, strict: bool) -> None:
    _require_phase(fold, Phase.MANDATE, doing=_("recalling the temporary coordinator"))
    assert fold.mandate is not None  # noqa: S101 - the mandate phase always carries one
    _require_member(fold, e.member, strict)
    if e.member in fold.mandate.recall_supporters:
        raise InvalidEvent(_("you already support the recall"), field="member")
    supporters = fold.mandate.recall_supporters | {e.member}
    fold.mandate = replace(fold.mandate, recall_supporters=supporters)
    eligible = _eligible(fold)
    if len(supporters & eligible) >= fold.mandate.recall_needed:
        fold.mandate = replace(fold.mandate, recalled_at=e.at)
        _close(fold, Outcome.RECALLED, ReachedBy.MANDATE, e.at)


def _on_meeting(fold: _Fold, e: MeetingRecorded, strict: bool) -> None:
    _require_phase(fold, Phase.CONSENSUS, Phase.VOTE, doing=_("recording a meeting's decision"))
    if fold.proposal.scope is Scope.FEDERATION:
        # A meeting is one group's: it cannot speak for the federation, whose matters
        # every group (or its coordinator, in spokes mode) decides together.
        raise InvalidEvent(
            _("a federation matter is decided by the federation together, not at one meeting"),
            field="meeting",
        )
    _require_member(fold, e.recorder, strict)
    if fold.meeting is not None:
        raise InvalidEvent(_("a meeting record already awaits confirmation"), field="meeting")
    if _member_of(Outcome, e.outcome, "outcome") not in (Outcome.ADOPTED, Outcome.NOT_ADOPTED):
        raise InvalidEvent(_("a meeting adopts the proposal or does not"), field="outcome")
    if _member_of(ReachedBy, e.reached_by, "how") not in (ReachedBy.CONSENSUS, ReachedBy.VOTE):
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
    body = len(_eligible(fold))
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


def _on_meeting_confirmed(fold: _Fold, e: MeetingConfirmed, strict: bool) -> None:
    if fold.meeting is None:
        raise InvalidEvent(_("there is no meeting record to confirm"), field="meeting")
    _require_phase(fold, Phase.CONSENSUS, Phase.VOTE, doing=_("confirming a meeting record"))
    _require_member(fold, e.member, strict)
    if e.member == fold.meeting.recorder:
        raise InvalidEvent(_("the recorder cannot confirm their own record"), field="member")
    if e.member in fold.meeting.confirmations:
        raise InvalidEvent(_("you have already confirmed this record"), field="member")
    fold.meeting = replace(fold.meeting, confirmations=fold.meeting.confirmations | {e.member})
    if len(fold.meeting.confirmations) >= fold.meeting.needed:
        _close(fold, fold.meeting.outcome, ReachedBy.MEETING, e.at)


_HANDLERS: dict[type, Any] = {
    Published: _on_published,
    Responded: _on_responded,
    Amended: _on_amended,
    Withdrawn: _on_withdrawn,
    GroupPositionCarried: _on_carried,
    BallotCast: _on_ballot,
    Volunteered: _on_volunteered,
    MandateDecisionRecorded: _on_mandate_decision,
    RecallSupported: _on_recall,
    MeetingRecorded: _on_meeting,
    MeetingConfirmed: _on_meeting_confirmed,
}


# --- time passing -----------------------------------------------------------------------


def _advance(fold: _Fold, t: datetime) -> None:
    """Apply every deadline that has passed by ``t``, each at its own instant."""
    while True:
        if fold.phase is Phase.CONSENSUS and fold.consensus_closes_at is not None:
            if t < fold.consensus_closes_at:
                return
            fold.clock = fold.consensus_closes_at
            _close_consensus(fold, fold.consensus_closes_at)
        elif fold.phase in (Phase.VOTE, Phase.SELECTION_VOTE) and fold.vote is not None:
            if t < fold.vote.closes_at:
                return
            fold.clock = fold.vote.closes_at
            _close_vote(fold, fold.vote.closes_at)
        elif fold.phase is Phase.VOLUNTEERING and fold.mandate is not None:
            if t < fold.mandate.volunteering_closes_at:
                return
            fold.clock = fold.mandate.volunteering_closes_at
            _close_volunteering(fold, fold.mandate.volunteering_closes_at)
        elif fold.phase is Phase.MANDATE and fold.mandate is not None:
            assert fold.mandate.expires_at is not None  # noqa: S101 - set when it starts
            if t < fold.mandate.expires_at:
                return
            outcome = Outcome.DECIDED if fold.mandate.decisions else Outcome.MANDATE_EXPIRED
            fold.clock = fold.mandate.expires_at
            _close(fold, outcome, ReachedBy.MANDATE, fold.mandate.expires_at)
        else:
            return


def _close_consensus(fold: _Fold, at: datetime) -> None:
    counted = _consensus_count(fold)
    fold.meeting = None
    if counted.reached:
        _close(fold, Outcome.ADOPTED, ReachedBy.CONSENSUS, at)
        return
    fallback = fold.proposal.kind.fallback
    if not fold.proposal.urgent or fallback is None:
        _close(fold, Outcome.NOT_ADOPTED, ReachedBy.CONSENSUS, at)
    elif isinstance(fallback, VoteFallback):
        _open_vote(fold, fallback, at)
    else:
        eligible = len(_eligible(fold))
        fold.phase = Phase.VOLUNTEERING
        fold.mandate = MandateState(
            volunteering_closes_at=at + fallback.volunteer_period,
            volunteers=(),
            recall_needed=needed_for(eligible, fallback.recall_share),
        )


def _vote_spec(proposal: Proposal, fallback: VoteFallback) -> VoteSpec:
    if proposal.options:
        options = (*proposal.options, "none of these")
    else:
        options = ("adopt", "do not adopt")
    return VoteSpec(
        method=fallback.method,
        options=options,
        status_quo=len(options) - 1,
        threshold=fallback.threshold,
        quorum=fallback.quorum,
        max_score=fallback.max_score,
    )


def _voting_body_size(fold: _Fold) -> int:
    electorate = _electorate(fold)
    if not _is_spokes(fold):
        return len(_eligible(fold))
    fallback = fold.proposal.kind.fallback
    if isinstance(fallback, VoteFallback) and fallback.spokes_weight is SpokesWeight.BY_SIZE:
        return sum(len(m) for m in electorate.groups.values())
    return len(electorate.groups)


def _open_vote(fold: _Fold, fallback: VoteFallback, at: datetime) -> None:
    fold.phase = Phase.VOTE
    fold.ballots = []
    fold.vote = VoteState(
        spec=_vote_spec(fold.proposal, fallback),
        opens_at=at,
        closes_at=at + fallback.period,
        secret=fallback.secret,
        voters=frozenset(),
        ballots_cast=0,
        eligible=_voting_body_size(fold),
    )


def _seed(fold: _Fold, purpose: bytes) -> bytes:
    # One recorded seed serves several draws; each purpose gets its own derived seed so
    # that knowing one draw's outcome tells nothing about another's.
    return hashlib.sha256(fold.proposal.seed + b":" + purpose).digest()


def _weighted_ballots(fold: _Fold) -> list[Any]:
    fallback = fold.proposal.kind.fallback
    if (
        fold.phase is Phase.VOTE
        and _is_spokes(fold)
        and isinstance(fallback, VoteFallback)
        and fallback.spokes_weight is SpokesWeight.BY_SIZE
    ):
        # Weighting by size repeats each group's ballot once per member of the group,
        # which keeps every method's tally exact (no fractional weights).
        sizes = {g: len(m) for g, m in _electorate(fold).groups.items()}
        return [b for g, b in fold.ballots for _ in range(sizes.get(g, 0))]
    return [b for _, b in fold.ballots]


def _close_vote(fold: _Fold, at: datetime) -> None:
    assert fold.vote is not None  # noqa: S101 - called only while voting
    ballots = _weighted_ballots(fold)
    eligible = max(fold.vote.eligible, len(ballots))
    result = tally(fold.vote.spec, ballots, eligible=eligible, tie_seed=_seed(fold, b"vote"))
    fold.vote = replace(fold.vote, result=result)
    if fold.phase is Phase.VOTE:
        outcome = Outcome.ADOPTED if result.adopted else Outcome.NOT_ADOPTED
        _close(fold, outcome, ReachedBy.VOTE, at)
        return
    # The vote choosing a temporary coordinator: the winner holds the mandate; with no
    # ballots at all, the lot decides among the candidates rather than leaving no one.
    assert fold.mandate is not None  # noqa: S101 - the selection vote belongs to one
    if result.winner is not None:
        holder: str = fold.vote.spec.options[result.winner]
        _start_mandate(fold, holder, None, at)
    else:
        lot = draw_lot(fold.mandate.candidates, _seed(fold, b"lot"))
        _start_mandate(fold, lot.chosen, lot, at)


def _close_volunteering(fold: _Fold, at: datetime) -> None:
    assert fold.mandate is not None  # noqa: S101 - volunteering always carries a mandate
    fallback = fold.proposal.kind.fallback
    assert isinstance(fallback, MandateFallback)  # noqa: S101 - set by _close_consensus
    present = [v for v in fold.mandate.volunteers if v in _eligible(fold)]
    candidates = eligible_volunteers(present, fold.context.previous_holders, fallback.rotation)
    fold.mandate = replace(fold.mandate, candidates=candidates)
    if not candidates:
        _close(fold, Outcome.NOT_ADOPTED, ReachedBy.MANDATE, at)
    elif len(candidates) == 1 or fallback.selection is Selection.LOT:
        lot = draw_lot(candidates, _seed(fold, b"lot"))
        _start_mandate(fold, lot.chosen, lot, at)
    else:
        fold.phase = Phase.SELECTION_VOTE
        fold.ballots = []
        fold.vote = VoteState(
            spec=VoteSpec(method=Method.APPROVAL, options=candidates),
            opens_at=at,
            closes_at=at + fallback.selection_period,
            secret=True,
            voters=frozenset(),
            ballots_cast=0,
            eligible=len(_eligible(fold)),
        )


def _start_mandate(fold: _Fold, holder: str, lot: Lot | None, at: datetime) -> None:
    assert fold.mandate is not None  # noqa: S101 - only called within a mandate fallback
    fallback = fold.proposal.kind.fallback
    assert isinstance(fallback, MandateFallback)  # noqa: S101 - ditto
    fold.phase = Phase.MANDATE
    fold.mandate = replace(
        fold.mandate, holder=holder, lot=lot, starts_at=at, expires_at=at + fallback.length
    )


def _close(fold: _Fold, outcome: Outcome, reached_by: ReachedBy, at: datetime) -> None:
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


def _decision_tally(fold: _Fold, reached_by: ReachedBy) -> dict[str, Any]:
    if reached_by is ReachedBy.VOTE and fold.vote is not None and fold.vote.result is not None:
        return {"vote": fold.vote.result.to_dict()}
    if reached_by is ReachedBy.MEETING and fold.meeting is not None:
        return {
            "meeting": {
                "attendance": fold.meeting.attendance,
                "reached_by": fold.meeting.reached_by.value,
                "confirmations": len(fold.meeting.confirmations) + 1,
            }
        }
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
    consensus = _consensus_count(fold).to_dict()
    if _is_spokes(fold):
        positions = _group_positions(fold)
        consensus["groups"] = {
            p.value: sum(1 for q in positions.values() if q is p) for p in Position
        }
    return {"consensus": consensus}


# --- consensus views ---------------------------------------------------------------------


def _is_spokes(fold: _Fold) -> bool:
    return fold.proposal.scope is Scope.FEDERATION and fold.proposal.kind.mode is Mode.SPOKES


def _group_positions(fold: _Fold) -> dict[str, Position | None]:
    """Return each group's position: carried by its coordinator, else its members' own."""
    electorate = _electorate(fold)
    rule = fold.proposal.kind.consensus
    positions: dict[str, Position | None] = {}
    for group, members in sorted(electorate.groups.items()):
        if group in fold.carried:
            positions[group] = fold.carried[group]
        else:
            own = [p for m, p in fold.responses.items() if m in members]
            positions[group] = group_position(own, len(members), rule)
    return positions


def _consensus_count(fold: _Fold) -> ConsensusCount:
    rule = fold.proposal.kind.consensus
    if _is_spokes(fold):
        positions = [p for p in _group_positions(fold).values() if p is not None]
        return count(positions, len(_electorate(fold).groups), rule)
    eligible = _eligible(fold)
    current = [p for m, p in fold.responses.items() if m in eligible]
    return count(current, len(eligible), rule)


def _may_vote(st: ProposalState, member: str, electorate: Electorate) -> bool:
    kind = st.proposal.kind
    if st.phase is Phase.VOTE and kind.scope is Scope.FEDERATION and kind.mode is Mode.SPOKES:
        group = electorate.group_of(member)
        return group is not None and electorate.is_coordinator(member, group)
    return member in st.eligible


def _next_step(fold: _Fold) -> NextStep | None:
    if fold.phase is Phase.DRAFT:
        return NextStep(Step.PUBLISH, None)
    if fold.phase is Phase.CONSENSUS:
        return NextStep(Step.CONSENSUS_CLOSES, fold.consensus_closes_at)
    if fold.phase is Phase.VOTE and fold.vote is not None:
        return NextStep(Step.VOTE_CLOSES, fold.vote.closes_at)
    if fold.phase is Phase.SELECTION_VOTE and fold.vote is not None:
        return NextStep(Step.SELECTION_CLOSES, fold.vote.closes_at)
    if fold.phase is Phase.VOLUNTEERING and fold.mandate is not None:
        return NextStep(Step.VOLUNTEERING_CLOSES, fold.mandate.volunteering_closes_at)
    if fold.phase is Phase.MANDATE and fold.mandate is not None:
        return NextStep(Step.MANDATE_EXPIRES, fold.mandate.expires_at)
    return None


def _freeze(fold: _Fold, now: datetime) -> ProposalState:
    # A closed proposal is shown as it stood when it closed; an open one as it stands now.
    fold.clock = fold.decision.at if fold.decision is not None else now
    eligible = _eligible(fold)
    return ProposalState(
        proposal=fold.proposal,
        phase=fold.phase,
        version=fold.version,
        opened_at=fold.opened_at,
        consensus_closes_at=fold.consensus_closes_at,
        eligible=eligible,
        responses={m: p for m, p in fold.responses.items() if m in eligible},
        consensus=_consensus_count(fold),
        group_positions=_group_positions(fold) if _is_spokes(fold) else {},
        vote=fold.vote,
        mandate=fold.mandate,
        meeting=fold.meeting,
        next=_next_step(fold),
        decision=fold.decision,
    )


# --- small checks -------------------------------------------------------------------------


def _aware(t: datetime, name: str) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise InvalidEvent(
            _("%(name)s must be a timezone-aware time"), params={"name": name}, field=name
        )


def _member_of(enum: Any, value: Any, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidEvent(
            _("%(value)r is not a valid %(name)s"),
            params={"value": value, "name": name},
            field=name,
        ) from None


def _check_deadline(kind: DecisionKind, opens: datetime, deadline: datetime) -> None:
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


__all__ = [
    "Amended",
    "BallotCast",
    "Context",
    "Decision",
    "DomainError",
    "Electorate",
    "Event",
    "GroupPositionCarried",
    "MandateDecisionRecorded",
    "MeetingConfirmed",
    "MeetingRecorded",
    "NextStep",
    "Outcome",
    "Phase",
    "Position",
    "Proposal",
    "ProposalState",
    "Published",
    "ReachedBy",
    "RecallSupported",
    "Responded",
    "Step",
    "Volunteered",
    "Withdrawn",
    "check",
    "create",
    "require_reason",
    "state",
]
