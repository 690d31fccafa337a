"""The membership at an instant, worked out once per interval between changes, is the
membership worked out afresh at that instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from veche.domain.proposals.model import Electorate

START = datetime(2030, 1, 1, tzinfo=UTC)
# Instants on a coarse grid, so that queries often fall exactly on a change.
INSTANTS = st.integers(0, 12).map(lambda h: START + timedelta(hours=h))
MEMBERS = [f"m{i}" for i in range(6)]


@st.composite
def electorates(draw: st.DrawFn) -> Electorate:
    groups = {"1": frozenset(MEMBERS[:3]), "2": frozenset(MEMBERS[3:])}
    joined = draw(st.dictionaries(st.sampled_from(MEMBERS), INSTANTS, max_size=6))
    left = draw(st.dictionaries(st.sampled_from(MEMBERS), INSTANTS, max_size=3))
    began = draw(st.dictionaries(st.sampled_from(["1", "2"]), INSTANTS, max_size=2))
    ended = draw(st.dictionaries(st.sampled_from(["1", "2"]), INSTANTS, max_size=1))
    return Electorate(
        groups=groups, coordinators={"1": frozenset({"m0"}), "2": frozenset({"m4"})},
        joined=joined, left=left, began=began, ended=ended,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(electorates(), st.lists(INSTANTS, min_size=1, max_size=8))
def test_the_membership_at_an_instant_is_the_same_however_often_asked(
    electorate: Electorate, instants: list[datetime]
) -> None:
    for t in instants:
        fresh = electorate._membership_at(t)
        remembered = electorate.at(t)
        assert (remembered.groups, remembered.coordinators) == (
            fresh.groups, fresh.coordinators,
        )  # fmt: skip
