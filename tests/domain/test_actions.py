"""One guard per action: what a page offers is exactly what the domain accepts.

A random walk through proposals of every kind (group kinds with each fallback, and a
federation kind in spokes mode with a vote fallback): at each step, for every member and
every action, ``actions(state, member)`` offers the action exactly when ``check`` accepts
the canonical event for it. The step then takes one of those events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_
from hypothesis import strategies as st

from tests.domain.builders import (
    DAY,
    HOUR,
    T0,
    federation_electorate,
    federation_kind,
    group_electorate,
    group_kind,
    past,
    propose,
)
from veche.domain.charter import MandateFallback, Mode, Selection, VoteFallback
from veche.domain.consensus import Position, needed_for
from veche.domain.errors import DomainError
from veche.domain.proposals import (
    Action,
    Amended,
    BallotCast,
    Context,
    Electorate,
    Event,
    GroupPositionCarried,
    MandateDecisionRecorded,
    MeetingConfirmed,
    MeetingRecorded,
    Outcome,
    Phase,
    ProposalState,
    Published,
    ReachedBy,
    RecallSupported,
    Responded,
    Volunteered,
    Wait,
    Withdrawn,
    actions,
    check,
    state,
    summarise,
    waits,
)
from veche.domain.voting import Method, VoteSpec

GROUP = group_electorate(4, others=1)
FEDERATION = federation_electorate()

SCENARIOS: dict[str, tuple[Any, Electorate, dict[str, Any]]] = {
    "plain": (group_kind(key="plain", period=DAY, meeting_confirmations=1), GROUP, {}),
    "vote": (
        group_kind(key="vote", period=DAY, fallback=VoteFallback(method=Method.SCHULZE)),
        GROUP,
        {"urgent": True, "options": ("a", "b")},
    ),
    "lot": (
        group_kind(key="lot", period=DAY, fallback=MandateFallback(length=DAY)),
        GROUP,
        {"urgent": True, "mandate_scope": ("press",)},
    ),
    "select": (
        group_kind(
            key="select", period=DAY, fallback=MandateFallback(length=DAY, selection=Selection.VOTE)
        ),
        GROUP,
        {"urgent": True, "mandate_scope": ("press",)},
    ),
    "spokes": (
        federation_kind(Mode.SPOKES, key="spokes", period=DAY, fallback=VoteFallback()),
        FEDERATION,
        {"urgent": True, "author": "a2"},
    ),
    # A decision taken at a meeting, recorded on its own: confirming, then closed.
    "meeting": (
        group_kind(key="meeting", period=DAY, meeting_confirmations=2),
        GROUP,
        {"from_meeting": True},
    ),
}


def a_valid_ballot(spec: VoteSpec) -> Any:
    """Return a well-formed ballot for ``spec`` (which one does not matter here)."""
    if spec.method in (Method.MAJORITY, Method.SUPERMAJORITY):
        return 0
    if spec.method is Method.APPROVAL:
        return [0]
    if spec.method is Method.SCORE:
        return [0] * len(spec.options)
    return [0]


def canonical(action: Action, member: str, st_: ProposalState, t: datetime) -> Event:
    """Return the event a page would send for ``action`` by ``member`` at ``t``."""
    electorate = st_.electorate
    group = electorate.group_of(member) or "g"
    kind = st_.proposal.kind
    match action:
        case Action.PUBLISH:
            return Published(member, t)
        case Action.AMEND:
            return Amended(member, t, version=st_.version + 1)
        case Action.WITHDRAW:
            return Withdrawn(member, t)
        case Action.RESPOND:
            return Responded(member, Position.AGREE, t, version=st_.version)
        case Action.CARRY:
            return GroupPositionCarried(member, group, Position.AGREE, t)
        case Action.VOTE:
            ballot = a_valid_ballot(st_.vote.spec) if st_.vote is not None else 0
            for_group = group if st_.phase is Phase.VOTE and st_.proposal.spokes else None
            return BallotCast(member, ballot, t, for_group=for_group)
        case Action.VOLUNTEER:
            return Volunteered(member, t)
        case Action.DECIDE:
            scope = st_.proposal.mandate_scope
            return MandateDecisionRecorded(member, scope[0] if scope else "x", t)
        case Action.RECALL:
            return RecallSupported(member, t)
        case Action.RECORD_MEETING:
            needed = kind.meeting_confirmations
            quorum = needed_for(len(st_.eligible), kind.consensus.quorum)
            attendance = max(needed + 1, quorum)
            # A standalone record must say its day; one on a proposal may.
            held_on = t.date() if st_.proposal.from_meeting else None
            return MeetingRecorded(
                member, Outcome.ADOPTED, attendance, ReachedBy.CONSENSUS, t, held_on=held_on
            )
        case Action.CONFIRM_MEETING:
            return MeetingConfirmed(member, t)
    raise AssertionError(action)  # pragma: no cover


STEP = st.sampled_from([0, 1, 10, 60, 180, 360, 720, 1440])


@st.composite
def walks(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, int]]]:
    scenario = draw(st.sampled_from(sorted(SCENARIOS)))
    steps = draw(st.lists(st.tuples(STEP, st.integers(0, 99), st.integers(0, 99)), max_size=30))
    return scenario, steps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks(), st.booleans(), st.sampled_from([(), ("m2",), ("m3", "m2")]))
def test_an_action_is_offered_exactly_when_the_domain_would_accept_it(
    walk: tuple[str, list[tuple[int, int, int]]], draft: bool, holders: tuple[str, ...]
) -> None:
    name, steps = walk
    kind, electorate, extra = SCENARIOS[name]
    options = dict(extra)
    author = options.pop("author", "m1")
    draft = draft and not options.get("from_meeting")  # a meeting's record is no draft
    proposal = propose(kind, electorate, author=author, draft=draft, **options)
    context = Context(electorate, past(*holders))
    people = sorted(electorate.all_members() | {"stranger"})
    accepted: list[Event] = []
    t = T0
    for minutes, pick_action, pick_member in steps:
        t += timedelta(minutes=minutes)
        now = state(proposal, accepted, context, t)
        event_(f"{name}: {now.phase.value}")
        takeable: list[Event] = []
        for member in people:
            offered = actions(now, member)
            for action in Action:
                event = canonical(action, member, now, t)
                try:
                    check(proposal, accepted, event, context, t)
                except DomainError:
                    assert action not in offered, (action, member, now.phase)
                else:
                    assert action in offered, (action, member, now.phase)
                    takeable.append(event)
        accepted.extend(_one_step(takeable, pick_action, pick_member))


def _one_step(takeable: list[Event], pick: int, salt: int) -> list[Event]:
    # Mostly steps that move the proposal along (withdrawing or amending ends or resets
    # it), and responses that do not all agree, so that walks reach the fallbacks.
    moving = [e for e in takeable if not isinstance(e, Withdrawn | Amended)]
    pool = moving if moving and pick % 7 else takeable
    if not pool:
        return []
    chosen = pool[(pick * 100 + salt) % len(pool)]
    if isinstance(chosen, Responded):
        position = (Position.AGREE, Position.OBJECT, Position.BLOCK, Position.STAND_ASIDE)[salt % 4]
        chosen = Responded(chosen.member, position, chosen.at, version=chosen.version)
    return [chosen]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks())
def test_what_waits_for_a_member_is_what_they_may_do_that_is_theirs_to_do(
    walk: tuple[str, list[tuple[int, int, int]]],
) -> None:
    name, steps = walk
    kind, electorate, extra = SCENARIOS[name]
    options = dict(extra)
    author = options.pop("author", "m1")
    proposal = propose(kind, electorate, author=author, **options)
    context = Context(electorate)
    accepted: list[Event] = []
    t = T0
    for minutes, pick, _member in steps:
        t += timedelta(minutes=minutes)
        now = state(proposal, accepted, context, t)
        found = waits(now)
        for member in electorate.all_members():
            mine = set(found.get(member, ()))
            may = actions(now, member)
            assert (Wait.VOTE in mine) == (Action.VOTE in may)
            assert (Wait.VOLUNTEER in mine) == (Action.VOLUNTEER in may)
            own = electorate.group_of(member)
            carries = Action.CARRY in may and own not in now.carried
            assert (Wait.CARRY in mine) == carries
            responds = bool(mine & {Wait.RESPOND, Wait.RESPOND_AGAIN})
            assert responds == (Action.RESPOND in may and member not in now.responses)
        assert summarise(now).waits == ({} if not now.is_open else found)
        candidates = [
            canonical(a, m, now, t)
            for m in sorted(electorate.all_members())
            for a in sorted(actions(now, m))
        ]
        if candidates:
            accepted.append(candidates[pick % len(candidates)])


# --- who decides is fixed when a proposal opens ---------------------------------------------


def test_a_member_who_joins_after_publication_does_not_count_in_quorum() -> None:
    base = group_electorate(4)
    newcomer_joins = T0 + HOUR
    electorate = Electorate(
        groups={"g": base.groups["g"] | {"m5"}},
        coordinators=base.coordinators,
        joined={"m5": newcomer_joins},
    )
    proposal = propose(group_kind(), electorate)
    st_ = state(proposal, [], Context(electorate), T0 + 2 * HOUR)
    assert st_.consensus.eligible == 4
    assert "m5" not in st_.eligible
    assert Action.RESPOND not in actions(st_, "m5")


def test_a_member_who_leaves_stops_counting() -> None:
    base = group_electorate(4)
    electorate = Electorate(groups=base.groups, left={"m4": T0 + HOUR})
    proposal = propose(group_kind(), electorate)
    st_ = state(proposal, [], Context(electorate), T0 + 2 * HOUR)
    assert st_.consensus.eligible == 3


def test_a_group_admitted_later_or_without_members_never_counts_in_spokes_mode() -> None:
    base = federation_electorate()
    electorate = Electorate(
        groups={**base.groups, "late": frozenset({"l1"}), "empty": frozenset()},
        coordinators={**base.coordinators, "late": frozenset({"l1"})},
        began={"late": T0 + HOUR},
    )
    proposal = propose(federation_kind(Mode.SPOKES), electorate, author="a1")
    st_ = state(proposal, [], Context(electorate), T0 + 2 * HOUR)
    assert st_.body_groups == frozenset({"a", "b", "c"})
    assert st_.consensus.eligible == 3
    assert Action.CARRY not in actions(st_, "l1")


def test_a_draft_fixes_its_body_when_published_not_when_written() -> None:
    base = group_electorate(3)
    electorate = Electorate(groups={"g": base.groups["g"] | {"m4"}}, joined={"m4": T0 + HOUR})
    proposal = propose(group_kind(), electorate, draft=True)
    history = [Published("m1", T0 + 2 * HOUR)]
    st_ = state(proposal, history, Context(electorate), T0 + 3 * HOUR)
    assert st_.consensus.eligible == 4
    assert Action.RESPOND in actions(st_, "m4")
