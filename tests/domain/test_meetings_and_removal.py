"""Meeting records that stand alone, and removing a member as a decision of the group.

A standalone record is a proposal made ``from_meeting``: it opens in ``confirming`` and
its first event is the meeting's record, which must say the day (not in the future, not
before the group existed), an attendance the group could have had that day (a quorum,
enough to confirm), and is recorded by someone who belonged then. Others present confirm;
without enough of them within the kind's consensus period it closes ``unconfirmed``.

A removal names the member it concerns, by id, who must belong to the proposal's group
and is not part of the body deciding it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from tests.domain.builders import (
    DAY,
    HOUR,
    T0,
    History,
    at,
    federation_electorate,
    federation_kind,
    group_electorate,
    group_kind,
    propose,
)
from veche.domain.charter import (
    Charter,
    DecisionKind,
    Mode,
    Power,
    Scope,
    VoteFallback,
    default_charter,
)
from veche.domain.consensus import Position
from veche.domain.errors import InvalidCharter, InvalidEvent, NotEligible, ProposalClosed
from veche.domain.proposals import (
    Action,
    Electorate,
    MeetingConfirmed,
    MeetingRecorded,
    Outcome,
    Phase,
    ProposalState,
    ReachedBy,
    Responded,
    Step,
    Wait,
    Withdrawn,
    actions,
    decode,
    encode,
    summarise,
    waits,
    why_not,
)

TODAY = T0.date()


def electorate_with_history() -> Electorate:
    """Group g founded 30 days before T0 with m1..m5; m5 joined 2 days before T0."""
    base = group_electorate(5)
    return Electorate(
        groups=base.groups,
        coordinators=base.coordinators,
        joined={"m5": T0 - 2 * DAY},
        began={"g": T0 - 30 * DAY},
    )


def standalone(electorate: Electorate | None = None, **kind_args: object) -> History:
    electorate = electorate or electorate_with_history()
    kind = group_kind(key="met", **kind_args)
    return History.of(propose(kind, electorate, from_meeting=True), electorate)


def record(
    h: History,
    *,
    held_on: date | None = TODAY - timedelta(days=3),
    attendance: int = 4,
    recorder: str = "m1",
    when: datetime = T0,
    outcome: Outcome = Outcome.ADOPTED,
) -> ProposalState:
    event = MeetingRecorded(
        recorder, outcome, attendance, ReachedBy.CONSENSUS, when, held_on=held_on
    )
    return h.do(event)


# --- a standalone record ---------------------------------------------------------------------


def test_a_standalone_record_opens_awaiting_confirmation_without_online_consensus() -> None:
    h = standalone()
    st = record(h)
    assert st.phase is Phase.CONFIRMING
    assert st.meeting.held_on == TODAY - timedelta(days=3)
    assert Action.RESPOND not in actions(st, "m2")
    assert Action.CONFIRM_MEETING in actions(st, "m2")
    assert Wait.CONFIRM_MEETING in waits(st)["m2"]
    with pytest.raises(ProposalClosed):
        h.do(Responded("m2", Position.AGREE, at(hours=1)))


def test_confirmed_standalone_record_is_a_decision_reached_at_a_meeting() -> None:
    h = standalone()
    record(h, outcome=Outcome.NOT_ADOPTED)
    h.do(MeetingConfirmed("m2", at(hours=1)))
    st = h.do(MeetingConfirmed("m3", at(hours=2)))
    assert st.decision is not None
    assert st.decision.outcome is Outcome.NOT_ADOPTED
    assert st.decision.reached_by is ReachedBy.MEETING
    assert st.decision.tally["meeting"] == {
        "attendance": 4,
        "reached_by": "consensus",
        "confirmations": 3,
        "held_on": (TODAY - timedelta(days=3)).isoformat(),
    }


def test_a_standalone_record_not_confirmed_in_the_kinds_period_closes_unconfirmed() -> None:
    h = standalone(period=2 * DAY)
    st = record(h)
    assert st.next.step is Step.CONFIRMATION_CLOSES
    assert st.next.at == T0 + 2 * DAY
    h.do(MeetingConfirmed("m2", at(hours=1)))
    late = h.at(T0 + 2 * DAY)
    assert late.decision is not None
    assert late.decision.outcome is Outcome.UNCONFIRMED
    assert late.decision.reached_by is ReachedBy.MEETING
    assert summarise(late).waits == {}


def test_the_recorder_may_withdraw_a_standalone_record_before_it_is_confirmed() -> None:
    h = standalone()
    record(h)
    st = h.do(Withdrawn("m1", at(hours=1)))
    assert st.decision is not None and st.decision.outcome is Outcome.WITHDRAWN


def test_only_its_author_writes_a_standalone_record_and_only_once() -> None:
    h = standalone()
    with pytest.raises(NotEligible):
        record(h, recorder="m2")
    record(h)
    with pytest.raises(InvalidEvent):
        record(h, when=at(hours=1))


def test_a_standalone_record_must_say_the_day() -> None:
    h = standalone()
    with pytest.raises(InvalidEvent) as caught:
        record(h, held_on=None)
    assert caught.value.field == "held_on"


def test_a_meeting_in_the_future_is_refused() -> None:
    h = standalone()
    with pytest.raises(InvalidEvent) as caught:
        record(h, held_on=TODAY + timedelta(days=1))
    assert caught.value.field == "held_on"
    record(h, held_on=TODAY)  # today is fine


def test_a_meeting_before_the_group_existed_is_refused() -> None:
    h = standalone()
    with pytest.raises(InvalidEvent) as caught:
        record(h, held_on=TODAY - timedelta(days=31))
    assert caught.value.field == "held_on"
    assert "did not exist yet" in caught.value.message
    record(h, held_on=TODAY - timedelta(days=30))


def test_attendance_is_capped_at_the_groups_size_on_the_day() -> None:
    # Three days ago the group had four members: m5 joined two days ago.
    h = standalone()
    with pytest.raises(InvalidEvent) as caught:
        record(h, attendance=5)
    assert caught.value.field == "attendance"
    assert "4 members" in caught.value.message
    record(h, attendance=5, held_on=TODAY - timedelta(days=1))


def test_attendance_needs_a_quorum_and_enough_people_to_confirm() -> None:
    h = standalone()
    with pytest.raises(InvalidEvent) as caught:
        record(h, attendance=2)  # two others must confirm: three at least
    assert caught.value.field == "attendance"
    big = standalone(group_electorate(10))
    with pytest.raises(InvalidEvent) as caught:
        record(big, attendance=4, held_on=TODAY)  # a quorum of 10 at 1/2 is 5
    assert "quorum" in caught.value.message


def test_someone_who_joined_after_the_meeting_can_neither_record_nor_confirm_it() -> None:
    electorate = electorate_with_history()
    kind = group_kind(key="met")
    late_author = History.of(propose(kind, electorate, author="m5", from_meeting=True), electorate)
    with pytest.raises(NotEligible):
        record(late_author, recorder="m5")
    h = standalone()
    st = record(h)
    refusal = why_not(st, "m5", Action.CONFIRM_MEETING)
    assert isinstance(refusal, NotEligible)
    assert "joined the group after" in refusal.message
    with pytest.raises(NotEligible):
        h.do(MeetingConfirmed("m5", at(hours=1)))


def test_a_meeting_cannot_record_a_federation_matter_or_an_urgent_or_draft_proposal() -> None:
    fed = federation_electorate()
    with pytest.raises(InvalidEvent):
        propose(federation_kind(Mode.ASSEMBLY), fed, author="a1", from_meeting=True)
    kind = group_kind(key="urgent", fallback=VoteFallback())
    for extra in ({"urgent": True}, {"draft": True}, {"deadline": T0 + DAY}):
        with pytest.raises(InvalidEvent):
            propose(kind, group_electorate(), from_meeting=True, **extra)


def test_a_record_on_an_open_proposal_may_say_its_day_and_the_codec_keeps_it() -> None:
    kind = group_kind(key="attached")
    electorate = electorate_with_history()
    h = History.of(propose(kind, electorate), electorate)
    event = MeetingRecorded(
        "m1", Outcome.ADOPTED, 4, ReachedBy.VOTE, at(hours=1), held_on=TODAY - timedelta(days=3)
    )
    st = h.do(event)
    assert st.phase is Phase.CONSENSUS
    stored = encode(event)
    assert stored.data["held_on"] == (TODAY - timedelta(days=3)).isoformat()
    assert json.loads(json.dumps(dict(stored.data)))["held_on"] == stored.data["held_on"]
    assert decode(stored) == event
    without = encode(MeetingRecorded("m1", Outcome.ADOPTED, 4, ReachedBy.VOTE, at(hours=1)))
    assert "held_on" not in without.data


def test_a_malformed_stored_day_is_refused_by_the_codec() -> None:
    stored = encode(MeetingRecorded("m1", Outcome.ADOPTED, 4, ReachedBy.VOTE, T0, held_on=TODAY))
    bad = type(stored)(stored.type, stored.actor, stored.at, {**stored.data, "held_on": "soon"})
    with pytest.raises(InvalidEvent):
        decode(bad)


# --- removing a member --------------------------------------------------------------------------


def removal_kind() -> DecisionKind:
    return default_charter().with_power(Power.REMOVE_MEMBER)[0]


def test_the_default_charter_makes_removal_a_group_decision_with_an_urgent_vote() -> None:
    charter = default_charter()
    kind = removal_kind()
    assert kind.scope is Scope.GROUP
    assert kind.urgent_allowed and isinstance(kind.fallback, VoteFallback)
    assert charter.coordinator_may_remove is False
    assert Charter.from_dict(charter.to_dict()) == charter


def test_a_charter_may_let_coordinators_remove_alone_and_says_so_in_plain_data() -> None:
    data = default_charter().to_dict()
    data["coordinator_may_remove"] = True
    assert Charter.from_dict(data).coordinator_may_remove is True
    del data["coordinator_may_remove"]
    assert Charter.from_dict(data).coordinator_may_remove is False
    data["coordinator_may_remove"] = "yes"
    with pytest.raises(InvalidCharter) as caught:
        Charter.from_dict(data)
    assert caught.value.field == "coordinator_may_remove"


def test_only_one_kind_may_remove_members() -> None:
    data = default_charter().to_dict()
    twin = dict(next(k for k in data["kinds"] if k["power"] == "remove_member"), key="remove-2")
    data["kinds"].append(twin)
    with pytest.raises(InvalidCharter):
        Charter.from_dict(data)


def test_a_removal_names_a_member_of_the_group_other_than_its_author() -> None:
    electorate = group_electorate(4, others=2)
    kind = removal_kind()
    with pytest.raises(InvalidEvent) as caught:
        propose(kind, electorate)
    assert caught.value.field == "concerns"
    with pytest.raises(InvalidEvent):
        propose(kind, electorate, concerns="m1")
    with pytest.raises(NotEligible):
        propose(kind, electorate, concerns="o1")  # another group's member
    with pytest.raises(InvalidEvent):
        propose(group_kind(), electorate, concerns="m2")  # only a removal names someone
    assert propose(kind, electorate, concerns="m2").concerns == "m2"


def test_the_member_concerned_does_not_decide_their_own_removal() -> None:
    electorate = group_electorate(4)
    h = History.of(propose(removal_kind(), electorate, concerns="m4"), electorate)
    st = h.at(T0 + HOUR)
    assert "m4" not in st.eligible
    assert st.consensus.eligible == 3
    assert Action.RESPOND not in actions(st, "m4")
    assert "m4" not in waits(st)
    with pytest.raises(NotEligible):
        h.do(Responded("m4", Position.BLOCK, at(hours=1)))
    for m in ("m1", "m2", "m3"):
        st = h.do(Responded(m, Position.AGREE, at(hours=2)))
    assert st.decision is not None and st.decision.outcome is Outcome.ADOPTED
