"""Membership over time: each moment of a proposal counts who belonged at that moment."""

from __future__ import annotations

from tests.domain.builders import DAY, HOUR, T0, History, at, group_kind, propose
from veche.domain.charter import MandateFallback
from veche.domain.proposals import (
    Electorate,
    MandateDecisionRecorded,
    Outcome,
    Phase,
    Position,
    Responded,
    Volunteered,
)

GROUP = frozenset({"m1", "m2", "m3"})


def tenured(**kwargs: object) -> Electorate:
    return Electorate(groups={"g": GROUP | {"late"}}, **kwargs)  # type: ignore[arg-type]


def test_without_tenure_everyone_belongs_throughout() -> None:
    el = Electorate(groups={"g": GROUP})
    assert el.at(T0) is el


def test_at_keeps_only_who_had_joined_and_not_yet_left() -> None:
    el = tenured(joined={"late": at(days=2)}, left={"m3": at(days=1)})
    assert el.at(T0).groups["g"] == GROUP
    assert el.at(at(days=1)).groups["g"] == {"m1", "m2"}
    assert el.at(at(days=2)).groups["g"] == {"m1", "m2", "late"}


def test_groups_exist_from_their_start_until_their_end() -> None:
    el = Electorate(
        groups={"g": GROUP, "h": frozenset({"o1"})},
        coordinators={"h": frozenset({"o1"})},
        began={"h": at(days=1)},
        ended={"h": at(days=3)},
    )
    assert set(el.at(T0).groups) == {"g"}
    assert set(el.at(at(days=2)).groups) == {"g", "h"}
    assert el.at(at(days=2)).coordinators == {"h": frozenset({"o1"})}
    assert set(el.at(at(days=3)).groups) == {"g"}


def test_a_newcomer_cannot_reopen_a_proposal_adopted_before_they_joined() -> None:
    el = tenured(joined={"late": at(days=2)})
    h = History.of(propose(group_kind(), el), el)
    for member in sorted(GROUP):
        h.do(Responded(member, Position.AGREE, at(hours=1)))
    later = h.at(at(days=3))
    assert later.phase is Phase.CLOSED
    assert later.decision is not None and later.decision.outcome is Outcome.ADOPTED
    assert later.eligible == GROUP  # shown as it stood when it closed


def test_a_member_who_left_before_the_deadline_no_longer_counts() -> None:
    el = tenured(joined={"late": at(days=30)}, left={"m3": at(days=2)})
    h = History.of(propose(group_kind(), el), el)
    h.do(Responded("m1", Position.AGREE, at(hours=1)))
    h.do(Responded("m3", Position.BLOCK, at(hours=2)))
    closed = h.at(at(days=8))
    assert closed.decision is not None and closed.decision.outcome is Outcome.ADOPTED


def test_a_holder_removed_after_deciding_leaves_the_mandate_and_its_decisions_intact() -> None:
    fallback = MandateFallback(length=DAY, volunteer_period=HOUR)
    el_then = Electorate(groups={"g": GROUP})
    h = History.of(
        propose(group_kind(fallback=fallback), el_then, urgent=True, deadline=at(hours=1),
                mandate_scope=("press",)),
        el_then,
    )  # fmt: skip
    h.do(Volunteered("m2", at(hours=1, minutes=5)))
    h.do(MandateDecisionRecorded("m2", "press", at(hours=3)))
    # m2 is removed later; the history is replayed with that knowledge.
    el_now = Electorate(groups={"g": GROUP}, left={"m2": at(hours=5)})
    replayed = History(h.proposal, h.context.__class__(el_now, ()), list(h.events))
    final = replayed.at(at(days=3))
    assert final.mandate is not None and final.mandate.holder == "m2"
    assert [d.matter for d in final.mandate.decisions] == ["press"]
    assert final.decision is not None and final.decision.outcome is Outcome.DECIDED
