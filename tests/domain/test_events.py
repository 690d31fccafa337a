"""The one event codec: every event survives storage unchanged; anything malformed is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veche.domain.consensus import Position
from veche.domain.errors import InvalidEvent
from veche.domain.proposals import (
    EVENT_TYPES,
    Amended,
    BallotCast,
    Encoded,
    GroupPositionCarried,
    MandateDecisionRecorded,
    MeetingConfirmed,
    MeetingRecorded,
    Outcome,
    Published,
    ReachedBy,
    RecallSupported,
    Responded,
    Volunteered,
    VoteCounted,
    Withdrawn,
    actor_of,
    decode,
    encode,
)

ids = st.text("0123456789", min_size=1, max_size=6)
times = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2040, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
events = st.one_of(
    st.builds(Published, ids, times, st.none() | times),
    st.builds(Responded, ids, st.sampled_from(list(Position)), times, st.integers(1, 50)),
    st.builds(Amended, ids, times, st.integers(2, 50)),
    st.builds(Withdrawn, ids, times),
    st.builds(GroupPositionCarried, ids, ids, st.sampled_from(list(Position)), times),
    st.builds(BallotCast, ids, st.just(None), times, st.none() | ids),
    st.builds(
        VoteCounted,
        ids,
        st.lists(st.integers(0, 10**6), max_size=8).map(tuple),
        st.integers(0, 1000),
        times,
    ),
    st.builds(Volunteered, ids, times),
    st.builds(MandateDecisionRecorded, ids, st.text(max_size=3), times),
    st.builds(RecallSupported, ids, times),
    st.builds(
        MeetingRecorded,
        ids,
        st.sampled_from([Outcome.ADOPTED, Outcome.NOT_ADOPTED]),
        st.integers(1, 100),
        st.sampled_from([ReachedBy.CONSENSUS, ReachedBy.VOTE]),
        times,
    ),
    st.builds(MeetingConfirmed, ids, times),
)


@given(events)
def test_every_event_comes_back_from_storage_as_it_went_in(event) -> None:
    stored = encode(event)
    # Through JSON, as a database column holds it.
    data = json.loads(json.dumps(dict(stored.data)))
    back = decode(Encoded(stored.type, stored.actor, stored.at, data), ballot=None)
    assert back == event
    assert actor_of(back) == stored.actor


def test_every_event_type_has_a_distinct_stored_name() -> None:
    assert len(EVENT_TYPES) == 12
    assert EVENT_TYPES["ballot_cast"] is BallotCast


def test_a_ballot_is_content_and_never_in_the_stored_data() -> None:
    cast = BallotCast("7", [2, 0, 1], datetime(2026, 1, 1, tzinfo=UTC), for_group="3")
    stored = encode(cast)
    assert stored.data == {"group": "3"}
    assert decode(stored, ballot=[2, 0, 1]) == cast


T = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("encoded", "field"),
    [
        (Encoded("exploded", "1", T, {}), "type"),
        (Encoded("responded", "1", T, {"version": 1}), "position"),
        (Encoded("responded", "1", T, {"position": "maybe", "version": 1}), "position"),
        (Encoded("responded", "1", T, {"position": "agree", "version": "1"}), "version"),
        (Encoded("responded", "1", T, {"position": "agree", "version": True}), "version"),
        (Encoded("withdrawn", "1", T, {"why": "x"}), "data"),
        (Encoded("published", "1", T, {"deadline": "tomorrow"}), "deadline"),
        (Encoded("published", "1", T, {"deadline": "2026-01-02T00:00:00"}), "deadline"),
        (Encoded("amended", "1", T.replace(tzinfo=None), {"version": 2}), "at"),
        (Encoded("amended", "1", T, []), "data"),  # type: ignore[arg-type]
    ],
)
def test_a_malformed_stored_event_is_refused_with_the_field(encoded, field) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(encoded)
    assert caught.value.field == field


def test_an_optional_field_may_be_left_out() -> None:
    assert decode(Encoded("published", "1", T, {})) == Published("1", T)
    later = T + timedelta(days=1)
    assert decode(Encoded("published", "1", T, {"deadline": later.isoformat()})).deadline == later
