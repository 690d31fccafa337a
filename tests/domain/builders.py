"""Hand-written builders for the domain tests: electorates, kinds, proposals, histories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from veche.domain.charter import (
    ConsensusRule,
    DecisionKind,
    MandateFallback,
    Mode,
    Scope,
    VoteFallback,
    default_charter,
    with_kind,
)
from veche.domain.proposals import (
    Context,
    Electorate,
    Event,
    PastMandate,
    Proposal,
    ProposalState,
    Wait,
    check,
    create,
    state,
    waits,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SEED = bytes(range(32))
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def at(*, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """Return an instant after T0."""
    return T0 + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def past(*holders: str) -> tuple[PastMandate, ...]:
    """Return earlier mandates of the body held by ``holders`` (oldest first), before T0."""
    return tuple(
        PastMandate(holder, T0 - timedelta(days=len(holders) - i))
        for i, holder in enumerate(holders)
    )


def awaits(st: ProposalState, member: str) -> bool:
    """Return whether the member's response or ballot is awaited."""
    return bool(set(waits(st).get(member, ())) & {Wait.RESPOND, Wait.RESPOND_AGAIN, Wait.VOTE})


def members(prefix: str, n: int) -> frozenset[str]:
    """Return ``n`` member ids: prefix1..prefixN."""
    return frozenset(f"{prefix}{i}" for i in range(1, n + 1))


def group_electorate(n: int = 5, *, others: int = 0) -> Electorate:
    """One group ``g`` of members m1..mN (and, if asked, a group ``h`` of o1..oK)."""
    groups = {"g": members("m", n)}
    if others:
        groups["h"] = members("o", others)
    return Electorate(groups=groups, coordinators={"g": frozenset({"m1"})})


def federation_electorate() -> Electorate:
    """Three groups of 3, 2 and 4 members; a1, b1 and c1 coordinate them."""
    return Electorate(
        groups={"a": members("a", 3), "b": members("b", 2), "c": members("c", 4)},
        coordinators={"a": frozenset({"a1"}), "b": frozenset({"b1"}), "c": frozenset({"c1"})},
    )


def group_kind(
    *,
    key: str = "test-group",
    quorum: Fraction = Fraction(1, 2),
    blocks_to_stop: int = 1,
    period: timedelta = 7 * DAY,
    fallback: VoteFallback | MandateFallback | None = None,
    meeting_confirmations: int = 2,
) -> DecisionKind:
    """A validated group-scope kind; urgent iff it has a fallback."""
    kind = DecisionKind(
        key=key,
        name="Test kind",
        scope=Scope.GROUP,
        consensus=ConsensusRule(quorum=quorum, blocks_to_stop=blocks_to_stop, period=period),
        urgent_allowed=fallback is not None,
        fallback=fallback,
        meeting_confirmations=meeting_confirmations,
    )
    return with_kind(default_charter(), kind).kind(key)


def federation_kind(
    mode: Mode,
    *,
    key: str = "test-federation",
    quorum: Fraction = Fraction(1, 2),
    blocks_to_stop: int = 1,
    period: timedelta = 7 * DAY,
    fallback: VoteFallback | MandateFallback | None = None,
) -> DecisionKind:
    """A validated federation-scope kind in the given mode."""
    kind = DecisionKind(
        key=key,
        name="Test federation kind",
        scope=Scope.FEDERATION,
        mode=mode,
        consensus=ConsensusRule(quorum=quorum, blocks_to_stop=blocks_to_stop, period=period),
        urgent_allowed=fallback is not None,
        fallback=fallback,
    )
    return with_kind(default_charter(), kind).kind(key)


def propose(
    kind: DecisionKind,
    electorate: Electorate,
    *,
    author: str = "m1",
    created: datetime = T0,
    seed: bytes = SEED,
    **kwargs: object,
) -> Proposal:
    """Create a proposal (with the test seed unless given another)."""
    return create(
        proposal_id="p1",
        kind=kind,
        author=author,
        electorate=electorate,
        at=created,
        seed=seed,
        **kwargs,  # type: ignore[arg-type]
    )


@dataclass
class History:
    """A proposal and its accepted events; new events go through ``check``."""

    proposal: Proposal
    context: Context
    events: list[Event] = field(default_factory=list)

    @classmethod
    def of(
        cls, proposal: Proposal, electorate: Electorate, previous_holders: tuple[str, ...] = ()
    ) -> History:
        return cls(proposal, Context(electorate, past(*previous_holders)))

    def do(self, event: Event) -> ProposalState:
        """Check ``event`` at its own time, keep it, and return the new state."""
        result = check(self.proposal, self.events, event, self.context, event.at)
        self.events.append(event)
        return result

    def do_all(self, *events: Event) -> ProposalState:
        result = None
        for event in events:
            result = self.do(event)
        assert result is not None
        return result

    def try_(self, event: Event) -> ProposalState:
        """Check ``event`` without keeping it."""
        return check(self.proposal, self.events, event, self.context, event.at)

    def at(self, now: datetime) -> ProposalState:
        """Return the state at ``now``."""
        return state(self.proposal, self.events, self.context, now)
