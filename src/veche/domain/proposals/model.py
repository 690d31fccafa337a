"""What a proposal is and how its state looks: the values every phase module shares.

The replay itself (:class:`Fold`) is mutable scratch state; what leaves the core is the
frozen :class:`ProposalState`. Both answer the same questions (phase, who is in the
deciding body now, the vote, the mandate, the meeting), so one guard per action can
judge either: a handler refusing an event and a page deciding what to offer ask the
same function.

**Who decides is fixed when a proposal opens** (docs/decisions/0051): the deciding body
is the members of the proposal's group (group scope) or of the federation (federation
scope) at the instant it is published, and in spokes mode the groups that had at least
one member then. Nobody joins it later; a member who leaves the federation meanwhile
leaves it (their responses stop counting), and so does a dissolved group.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from veche.domain.charter import DecisionKind, Mode, Scope
from veche.domain.consensus import ConsensusCount, Position
from veche.domain.errors import InvalidEvent, _
from veche.domain.mandates import Lot
from veche.domain.voting import TallyResult, VoteSpec

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
    # A decision taken at an in-person meeting, recorded on its own: it awaits
    # confirmation by others present (docs/decisions/0095).
    CONFIRMING = "confirming"
    # A secret vote has closed and waits for k of its tellers to sign in: its ballots
    # are summed, and only their shares decrypt the sums (docs/ballots.md, decision 0130).
    COUNTING = "counting"
    CLOSED = "closed"


# How an error message names each phase ("... while the proposal is in vote"); the English
# is the value itself, the web layer translates it. A closed proposal has its own message.
PHASE_NAMES: dict[Phase, str] = {
    Phase.DRAFT: _("draft"),
    Phase.CONSENSUS: _("consensus"),
    Phase.VOTE: _("vote"),
    Phase.VOLUNTEERING: _("volunteering"),
    Phase.SELECTION_VOTE: _("selection_vote"),
    Phase.MANDATE: _("mandate"),
    Phase.CONFIRMING: _("confirming"),
    Phase.COUNTING: _("counting"),
}

OPEN_PHASES = frozenset(p for p in Phase if p is not Phase.CLOSED)
VOTING_PHASES = frozenset({Phase.VOTE, Phase.SELECTION_VOTE})


class Outcome(StrEnum):
    """How a closed proposal ended."""

    ADOPTED = "adopted"
    NOT_ADOPTED = "not_adopted"
    WITHDRAWN = "withdrawn"
    DECIDED = "decided"
    MANDATE_EXPIRED = "mandate_expired"
    RECALLED = "recalled"
    # A meeting's record that not enough others present confirmed in time.
    UNCONFIRMED = "unconfirmed"


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
    CONFIRMATION_CLOSES = "confirmation_closes"


class Action(StrEnum):
    """Something a member can do to a proposal; each has exactly one guard."""

    PUBLISH = "publish"
    AMEND = "amend"
    WITHDRAW = "withdraw"
    RESPOND = "respond"
    CARRY = "carry"
    VOTE = "vote"
    VOLUNTEER = "volunteer"
    DECIDE = "decide"
    RECALL = "recall"
    RECORD_MEETING = "record_meeting"
    CONFIRM_MEETING = "confirm_meeting"


class Wait(StrEnum):
    """Something in a proposal that waits for a member (their inbox)."""

    PUBLISH = "publish"
    RESPOND = "respond"
    RESPOND_AGAIN = "respond_again"
    VOTE = "vote"
    VOLUNTEER = "volunteer"
    HOLD_MANDATE = "hold_mandate"
    MANDATE_IN_FORCE = "mandate_in_force"
    CONFIRM_MEETING = "confirm_meeting"
    # Spokes mode: a coordinator carries their group's position.
    CARRY = "carry"
    # A teller of a secret vote that is being counted: signing in gives their share.
    COUNT = "count"


# --- who takes part --------------------------------------------------------------------


@dataclass(frozen=True)
class Electorate:
    """The federation's membership: groups' members and coordinators, by id.

    With ``joined``/``left`` (members) and ``began``/``ended`` (groups) it also says
    *when* each belonged: :meth:`at` then gives the membership at any instant. Whoever
    has no entry there is taken to belong throughout.
    """

    groups: Mapping[str, frozenset[str]]
    coordinators: Mapping[str, frozenset[str]] = field(default_factory=dict)
    joined: Mapping[str, datetime] = field(default_factory=dict)
    left: Mapping[str, datetime] = field(default_factory=dict)
    began: Mapping[str, datetime] = field(default_factory=dict)
    ended: Mapping[str, datetime] = field(default_factory=dict)

    def at(self, t: datetime) -> Electorate:
        """Return the membership at instant ``t`` (joined at or before, not yet left).

        The membership changes only at the instants someone joined or left (or a group
        began or ended): between two of them it is the same, worked out once. A replay
        asks at each event's instant, and most events fall between the same two changes.
        """
        if not (self.joined or self.left or self.began or self.ended):
            return self
        memo: dict[int, Electorate] | None = self.__dict__.get("_memo")
        if memo is None:
            changes = sorted({*self.joined.values(), *self.left.values(),
                              *self.began.values(), *self.ended.values()})  # fmt: skip
            memo = {}
            object.__setattr__(self, "_changes", changes)  # frozen: kept beside its fields
            object.__setattr__(self, "_memo", memo)
        # How many changes happened at or before t: the interval t falls in.
        interval = bisect_right(self.__dict__["_changes"], t)
        found = memo.get(interval)
        if found is None:
            found = memo[interval] = self._membership_at(t)
        return found

    def _membership_at(self, t: datetime) -> Electorate:
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
class PastMandate:
    """A mandate of the same body on another proposal: who held it, from when."""

    holder: str
    started_at: datetime


@dataclass(frozen=True)
class Context:
    """What a proposal's state depends on besides its own events."""

    electorate: Electorate
    # The same body's mandates on other proposals (for rotation), in any order: a lot
    # drawn at instant t excludes by the holders of those that started before t.
    mandates: tuple[PastMandate, ...] = ()

    def holders_before(self, t: datetime) -> tuple[str, ...]:
        """Return the holders of mandates that started before ``t``, oldest first."""
        earlier = sorted((m for m in self.mandates if m.started_at < t), key=lambda m: m.started_at)
        return tuple(m.holder for m in earlier)


@dataclass(frozen=True)
class Body:
    """Who decides a proposal, fixed when it opened: its members, and its groups."""

    members: frozenset[str]
    # Spokes mode: the groups (with at least one member then) that take positions.
    groups: frozenset[str]


# --- the proposal --------------------------------------------------------------------------


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
    # A decision taken at an in-person meeting, recorded on its own: no online consensus,
    # only confirmation by others present (docs/decisions/0095).
    from_meeting: bool = False
    # The member a removal is about: named by id, and not part of the deciding body
    # (docs/decisions/0096).
    concerns: str | None = None
    # Its secret votes are counted by tellers from encrypted ballots the replay never
    # sees (docs/ballots.md): a secret vote closes into COUNTING and a VoteCounted
    # event, carrying the decrypted totals, decides it. False: the ballots are given
    # to the replay (votes begun before tellers existed; decision 0130).
    sealed_ballots: bool = False

    @property
    def scope(self) -> Scope:
        """Return whose matter this is."""
        return self.kind.scope

    @property
    def spokes(self) -> bool:
        """Return whether the federation decides this through its groups' positions."""
        return self.kind.scope is Scope.FEDERATION and self.kind.mode is Mode.SPOKES


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
    # Counted by tellers from encrypted ballots: the replay sees no ballot.
    counted_by_tellers: bool = False

    @property
    def max_ballots(self) -> int:
        """Return the most ballots this vote can hold (its body, fixed when it opened)."""
        return max(self.eligible, 1)


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
    # Volunteers the rotation rule left out of the choice, when it was made.
    excluded: tuple[str, ...] = ()


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
    # The day the meeting was held (UTC), when the record says.
    held_on: date | None = None


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
    # Who may take part now: the body fixed at opening, less whoever has left since.
    eligible: frozenset[str]
    responses: Mapping[str, Position]
    consensus: ConsensusCount
    group_positions: Mapping[str, Position | None]
    vote: VoteState | None
    mandate: MandateState | None
    meeting: MeetingState | None
    next: NextStep | None
    decision: Decision | None
    # The membership at the instant the state describes (for coordinators' roles).
    electorate: Electorate
    # The groups that take positions (spokes mode), fixed at opening.
    body_groups: frozenset[str]
    # Positions coordinators carried for their groups (spokes mode), by group.
    carried: Mapping[str, Position]
    context: Context
    last_event_at: datetime
    # The instant this state describes (a closed proposal: when it closed).
    at: datetime

    @property
    def is_open(self) -> bool:
        """Return whether the proposal can still change."""
        return self.phase is not Phase.CLOSED


# --- the replay's scratch state --------------------------------------------------------------


@dataclass
class Fold:
    """Mutable scratch state while replaying; frozen into ProposalState at the end."""

    proposal: Proposal
    context: Context
    phase: Phase
    version: int = 1
    last_at: datetime | None = None
    opened_at: datetime | None = None
    consensus_closes_at: datetime | None = None
    body: Body | None = None
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

    @property
    def electorate(self) -> Electorate:
        """Return the membership at the fold's clock (computed once per instant)."""
        if self._snapshot is None or self._snapshot[0] != self.clock:
            full = self.context.electorate
            self._snapshot = (self.clock, full if self.clock is None else full.at(self.clock))
        return self._snapshot[1]

    @property
    def eligible(self) -> frozenset[str]:
        """Return who may take part at the clock: the body, less those who have left."""
        electorate = self.electorate
        if self.proposal.scope is Scope.GROUP:
            present = electorate.groups.get(self.proposal.group, frozenset())
        else:
            present = electorate.all_members()
        if self.body is None:  # a draft: nobody decides yet
            return present
        return self.body.members & present

    @property
    def body_groups(self) -> frozenset[str]:
        """Return the groups taking positions now (spokes): fixed at opening, still there."""
        if self.body is None:
            return frozenset()
        return self.body.groups & frozenset(self.electorate.groups)

    def group_members(self, group: str) -> frozenset[str]:
        """Return the eligible members of ``group`` at the clock."""
        return self.electorate.groups.get(group, frozenset()) & self.eligible


def body_at(proposal: Proposal, electorate: Electorate) -> Body:
    """Return the deciding body of ``proposal`` given the membership when it opens."""
    if proposal.scope is Scope.GROUP:
        present = electorate.groups.get(proposal.group, frozenset())
        members = frozenset(m for m in present if m != proposal.concerns)
        return Body(members=members, groups=frozenset({proposal.group}) if members else frozenset())
    groups = frozenset(g for g, m in electorate.groups.items() if m)
    return Body(members=electorate.all_members(), groups=groups)


# --- small checks -------------------------------------------------------------------------


def aware(t: datetime, name: str) -> None:
    """Raise unless ``t`` is timezone-aware."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise InvalidEvent(
            _("%(name)s must be a timezone-aware time"), params={"name": name}, field=name
        )


def member_of(enum: Any, value: Any, name: str) -> Any:
    """Return ``enum(value)``, or raise InvalidEvent naming ``name``."""
    try:
        return enum(value)
    except ValueError:
        raise InvalidEvent(
            _("%(value)r is not a valid %(name)s"),
            params={"value": value, "name": name},
            field=name,
        ) from None


def end_of_day(day: date) -> datetime:
    """Return the last instant of ``day`` (UTC): who belonged on a day belonged by then."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def minutes(period: timedelta) -> float:
    """Return a period in minutes (for messages)."""
    return period / timedelta(minutes=1)
