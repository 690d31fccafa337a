"""Properties of the lifecycle over random histories of valid and invalid events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.domain.builders import DAY, HOUR, T0, group_electorate, group_kind, past, propose
from veche.domain.charter import DecisionKind, MandateFallback, Selection, VoteFallback
from veche.domain.errors import DomainError
from veche.domain.proposals import (
    Amended,
    BallotCast,
    Context,
    Event,
    MandateDecisionRecorded,
    MeetingConfirmed,
    MeetingRecorded,
    Outcome,
    Phase,
    Position,
    Proposal,
    ProposalState,
    Published,
    ReachedBy,
    RecallSupported,
    Responded,
    Volunteered,
    Withdrawn,
    check,
    state,
)

ELECTORATE = group_electorate(4, others=1)
ACTORS = ["m1", "m2", "m3", "m4", "o1"]

KINDS: dict[str, DecisionKind] = {
    "plain": group_kind(key="plain", period=DAY, meeting_confirmations=1),
    "vote": group_kind(key="vote", period=DAY, fallback=VoteFallback()),
    "lot": group_kind(
        key="lot",
        period=DAY,
        fallback=MandateFallback(length=DAY, volunteer_period=6 * HOUR),
    ),
    "select": group_kind(
        key="select",
        period=DAY,
        fallback=MandateFallback(length=DAY, selection=Selection.VOTE),
    ),
}

actors = st.sampled_from(ACTORS)
EventMaker = Callable[[datetime], Event]


def _maker(build: Callable[..., Event], *parts: st.SearchStrategy[object]) -> st.SearchStrategy:
    return st.tuples(*parts).map(lambda args: lambda t: build(*args, at=t))


responded = _maker(
    lambda m, p, v, at: Responded(m, p, at, version=v),
    actors,
    st.sampled_from(list(Position)),
    st.sampled_from([1, 1, 1, 2, 3]),
)
amended = _maker(lambda a, v, at: Amended(a, at, version=v), actors, st.integers(2, 3))
withdrawn = _maker(lambda a, at: Withdrawn(a, at), actors)
published = _maker(lambda a, at: Published(a, at), st.sampled_from(["m1", "m1", "m2"]))
ballot = _maker(
    lambda m, b, at: BallotCast(m, b, at),
    actors,
    st.sampled_from([0, 1, None, [0], [1], [0, 1], [], 7]),
)
volunteered = _maker(lambda m, at: Volunteered(m, at), actors)
decided = _maker(
    lambda m, x, at: MandateDecisionRecorded(m, x, at), actors, st.sampled_from(["press", "fund"])
)
recall = _maker(lambda m, at: RecallSupported(m, at), actors)
meeting = _maker(
    lambda m, o, n, r, at: MeetingRecorded(m, o, n, r, at),
    actors,
    st.sampled_from([Outcome.ADOPTED, Outcome.NOT_ADOPTED, Outcome.WITHDRAWN]),
    st.integers(1, 4),
    st.sampled_from([ReachedBy.CONSENSUS, ReachedBy.VOTE]),
)
confirmed = _maker(lambda m, at: MeetingConfirmed(m, at), actors)

# Weighted towards the events that move a proposal along; withdrawal and meetings are rare
# enough that most runs reach the later phases.
events: st.SearchStrategy[EventMaker] = st.one_of(
    *[responded] * 4,
    *[ballot] * 4,
    *[volunteered] * 3,
    *[decided] * 3,
    *[recall] * 2,
    *[published] * 2,
    amended,
    withdrawn,
    meeting,
    confirmed,
)

# Most of the time, an event that fits the phase the proposal is in (valid or not, by
# who acts and what it carries); otherwise any event at all.
FITTING: dict[Phase, st.SearchStrategy[EventMaker]] = {
    Phase.DRAFT: st.one_of(published, amended),
    Phase.CONSENSUS: st.one_of(responded, responded, responded, amended, meeting, confirmed),
    Phase.VOTE: st.one_of(ballot, meeting, confirmed),
    Phase.SELECTION_VOTE: ballot,
    Phase.VOLUNTEERING: volunteered,
    Phase.MANDATE: st.one_of(decided, decided, recall),
    Phase.CLOSED: events,
}
minutes_between = st.sampled_from([0, 1, 5, 10, 30, 60, 60, 120, 180, 360, 720, 1440])


@dataclass
class Run:
    proposal: Proposal
    context: Context
    accepted: list[Event]
    # (instant, state just after it) for every candidate event, accepted or not.
    seen: list[tuple[datetime, ProposalState]]
    end: datetime


@st.composite
def runs(draw: st.DrawFn) -> Run:
    kind = KINDS[draw(st.sampled_from(sorted(KINDS)))]
    urgent = kind.urgent_allowed and draw(st.integers(0, 3)) > 0
    proposal = propose(
        kind,
        ELECTORATE,
        urgent=urgent,
        draft=draw(st.integers(0, 3)) == 0,
        mandate_scope=("press",),
        seed=draw(st.binary(min_size=16, max_size=16)),
    )
    context = Context(ELECTORATE, past(*draw(st.sampled_from([(), ("m2",), ("m3", "m2")]))))
    accepted: list[Event] = []
    seen: list[tuple[datetime, ProposalState]] = []
    t = T0
    for _ in range(draw(st.integers(3, 40))):
        t += timedelta(minutes=draw(minutes_between))
        before = state(proposal, accepted, context, t)
        fitting = draw(st.integers(0, 4)) > 0
        event = draw(FITTING[before.phase] if fitting else events)(t)
        try:
            after = check(proposal, accepted, event, context, t)
        except DomainError:
            # A rejected event leaves the state as it was.
            assert state(proposal, accepted, context, t) == before
            seen.append((t, before))
        else:
            accepted.append(event)
            assert state(proposal, accepted, context, t) == after
            seen.append((t, after))
    return Run(proposal, context, accepted, seen, t)


SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(runs())
def test_once_closed_the_decision_never_changes(run: Run) -> None:
    decision = None
    for _, seen in run.seen:
        if decision is not None:
            assert seen.phase is Phase.CLOSED
            assert seen.decision == decision
        decision = seen.decision
    for later in (run.end + HOUR, run.end + 10 * DAY, run.end + 400 * DAY):
        final = state(run.proposal, run.accepted, run.context, later)
        if decision is not None:
            assert final.phase is Phase.CLOSED
            assert final.decision == decision
        decision = final.decision


@SETTINGS
@given(runs())
def test_a_closed_proposal_refuses_every_new_event(run: Run) -> None:
    later = run.end + 400 * DAY
    final = state(run.proposal, run.accepted, run.context, later)
    if final.phase is Phase.CLOSED:
        for actor in ACTORS:
            for event in (
                Responded(actor, Position.AGREE, later),
                Withdrawn(actor, later),
                Volunteered(actor, later),
                BallotCast(actor, 0, later),
                MeetingConfirmed(actor, later),
            ):
                try:
                    check(run.proposal, run.accepted, event, run.context, later)
                except DomainError:
                    continue
                raise AssertionError(f"{event} accepted after close")


@SETTINGS
@given(runs())
def test_without_consensus_at_the_deadline_urgent_goes_to_fallback_else_closes(run: Run) -> None:
    closes = state(run.proposal, run.accepted, run.context, run.end).consensus_closes_at
    if closes is None:
        return  # a draft never published
    before_events = [e for e in run.accepted if e.at < closes]
    just_before = state(
        run.proposal, before_events, run.context, closes - timedelta(microseconds=1)
    )
    if just_before.phase is not Phase.CONSENSUS:
        return  # closed early: adopted, withdrawn or decided at a meeting
    at_deadline = state(run.proposal, before_events, run.context, closes)
    if just_before.consensus.reached:
        assert at_deadline.decision is not None
        assert at_deadline.decision.outcome is Outcome.ADOPTED
        return
    fallback = run.proposal.kind.fallback
    if run.proposal.urgent and isinstance(fallback, VoteFallback):
        assert at_deadline.phase is Phase.VOTE
    elif run.proposal.urgent:
        assert at_deadline.phase is Phase.VOLUNTEERING
    else:
        assert at_deadline.decision is not None
        assert at_deadline.decision.outcome is Outcome.NOT_ADOPTED
        assert at_deadline.decision.at == closes


@SETTINGS
@given(runs())
def test_a_mandate_holder_is_never_the_previous_holder(run: Run) -> None:
    states = [s for _, s in run.seen]
    states.append(state(run.proposal, run.accepted, run.context, run.end + 400 * DAY))
    for seen in states:
        mandate = seen.mandate
        if mandate is None or mandate.holder is None:
            continue
        assert mandate.holder in mandate.volunteers
        assert mandate.holder in mandate.candidates
        holders = run.context.holders_before(mandate.starts_at)
        if holders:
            assert mandate.holder != holders[-1]


@SETTINGS
@given(runs(), st.integers(0, 20 * 24 * 60))
def test_state_is_a_pure_function_of_its_inputs(run: Run, minutes: int) -> None:
    now = run.end + timedelta(minutes=minutes)
    first = state(run.proposal, list(run.accepted), run.context, now)
    second = state(run.proposal, tuple(run.accepted), run.context, now)
    assert first == second
    event(f"phase {first.phase.value}")
    if first.decision is not None:
        event(f"{first.decision.outcome.value} by {first.decision.reached_by.value}")
    if first.mandate is not None and first.mandate.holder is not None:
        event("a mandate holder was chosen")
    assert repr(first) == repr(second)
