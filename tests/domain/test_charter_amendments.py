"""Amending the charter: what an amendment changes, naming a version, a group's own rules."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veche.domain.charter import (
    POWER_NAMES,
    Change,
    Charter,
    ConsensusRule,
    DecisionKind,
    GroupBounds,
    GroupRule,
    GroupRules,
    MandateFallback,
    Power,
    Scope,
    Selection,
    VoteFallback,
    apply_group_rules,
    canonical_json,
    changes,
    check_amendment,
    check_group_rules,
    default_charter,
    digest,
    rules_changes,
    validate,
    with_kind,
)
from veche.domain.errors import InvalidCharter, Phrase
from veche.domain.voting import Method

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def _kind(charter: Charter, key: str) -> DecisionKind:
    return charter.kind(key)


def _with(charter: Charter, key: str, **changes_: Any) -> Charter:
    return with_kind(charter, replace(charter.kind(key), **changes_))


# --- changes(old, new) ------------------------------------------------------------------------


def test_the_same_charter_changes_nothing() -> None:
    assert changes(default_charter(), default_charter()) == []


def test_a_shorter_consensus_period_is_one_change_with_both_values() -> None:
    old = default_charter()
    policy = old.kind("common-policy")
    new = _with(old, "common-policy", consensus=replace(policy.consensus, period=7 * DAY))
    assert changes(old, new) == [
        Change("common-policy", ("consensus", "period"), 14 * DAY, 7 * DAY)
    ]
    assert changes(old, new)[0].field == "consensus.period"


def test_lot_to_vote_is_a_change_of_the_fallback_s_selection() -> None:
    old = default_charter()
    quick = old.kind("group-quick-response")
    assert isinstance(quick.fallback, MandateFallback)
    new = _with(
        old, "group-quick-response", fallback=replace(quick.fallback, selection=Selection.VOTE)
    )
    assert changes(old, new) == [
        Change("group-quick-response", ("fallback", "selection"), Selection.LOT, Selection.VOTE)
    ]


def test_a_fallback_of_another_type_is_one_change_of_the_whole_fallback() -> None:
    old = default_charter()
    practice = old.kind("group-practice")
    mandate = MandateFallback(length=2 * DAY)
    new = _with(old, "group-practice", fallback=mandate)
    assert changes(old, new) == [
        Change("group-practice", ("fallback",), practice.fallback, mandate)
    ]


def test_kinds_added_and_removed_are_named_whole() -> None:
    old = default_charter()
    extra = DecisionKind(key="extra", name="Extra", scope=Scope.GROUP)
    new = replace(old, kinds=(*(k for k in old.kinds if k.key != "common-policy"), extra))
    found = changes(old, new)
    assert Change("extra", (), None, extra) in found
    assert Change("common-policy", (), old.kind("common-policy"), None) in found
    assert len(found) == 2


def test_reordering_kinds_is_not_a_change() -> None:
    old = default_charter()
    assert changes(old, replace(old, kinds=tuple(reversed(old.kinds)))) == []


def test_federation_wide_settings_and_small_amounts_are_changes_without_a_kind() -> None:
    old = default_charter()
    new = replace(old, discussion_retention_days=90, show_coordinators=True)
    found = changes(old, new)
    assert Change(None, ("discussion_retention_days",), 365, 90) in found
    assert Change(None, ("show_coordinators",), False, True) in found
    small = DecisionKind(
        key="small",
        name="Small",
        scope=Scope.FEDERATION,
        mode=old.kind("disbursement").mode,
        power=Power.DISBURSE_SMALL,
    )
    with_small = replace(with_kind(old, small), fund_small_amounts={"EUR": 5000})
    assert Change(None, ("fund_small_amounts", "EUR"), None, 5000) in changes(old, with_small)


def test_a_group_s_bounds_are_compared_parameter_by_parameter() -> None:
    old = default_charter()
    practice = old.kind("group-practice")
    assert practice.group_bounds is not None
    new = _with(
        old, "group-practice", group_bounds=replace(practice.group_bounds, max_period=DAY * 10)
    )
    assert changes(old, new) == [
        Change("group-practice", ("group_bounds", "max_period"), 14 * DAY, 10 * DAY)
    ]
    closed = _with(old, "group-practice", group_bounds=None)
    assert changes(old, closed) == [
        Change("group-practice", ("group_bounds",), practice.group_bounds, None)
    ]


periods = st.integers(min_value=1, max_value=60).map(lambda d: timedelta(days=d))


@given(period=periods, quorum=st.fractions(min_value=Fraction(1, 100), max_value=1))
def test_changes_list_exactly_the_parameters_that_differ(
    period: timedelta, quorum: Fraction
) -> None:
    old = default_charter()
    rule = old.kind("common-policy").consensus
    new = _with(old, "common-policy", consensus=replace(rule, period=period, quorum=quorum))
    expected = []
    if quorum != rule.quorum:
        expected.append(Change("common-policy", ("consensus", "quorum"), rule.quorum, quorum))
    if period != rule.period:
        expected.append(Change("common-policy", ("consensus", "period"), rule.period, period))
    assert changes(old, new) == expected
    assert changes(new, old) == [Change(c.kind, c.path, c.new, c.old) for c in expected]


# --- naming a version -------------------------------------------------------------------------


def test_the_digest_is_the_sha256_of_the_canonical_json() -> None:
    charter = default_charter()
    text = canonical_json(charter)
    assert json.loads(text) == charter.to_dict()
    assert " " not in text.replace("A ", "").split('"name"')[0]
    assert digest(charter) == hashlib.sha256(text.encode()).hexdigest()
    assert digest(Charter.from_dict(json.loads(text))) == digest(charter)
    assert digest(_with(charter, "common-policy", name="Policy")) != digest(charter)


# --- an amendment -----------------------------------------------------------------------------


def test_an_amendment_must_change_something() -> None:
    with pytest.raises(InvalidCharter) as error:
        check_amendment(default_charter(), default_charter())
    assert error.value.field == "charter"


def test_an_amendment_must_keep_the_power_to_amend() -> None:
    old = default_charter()
    amend = old.kind("charter-amendment")
    without = _with(old, "charter-amendment", power=None)
    with pytest.raises(InvalidCharter) as error:
        check_amendment(old, without)
    assert error.value.field == "kinds"
    assert amend.power is Power.AMEND_CHARTER


def test_an_amendment_is_validated() -> None:
    old = default_charter()
    rule = old.kind("common-policy").consensus
    policy = replace(old.kind("common-policy"), consensus=replace(rule, quorum=Fraction(0)))
    bad = replace(old, kinds=tuple(policy if k.key == policy.key else k for k in old.kinds))
    with pytest.raises(InvalidCharter) as error:
        check_amendment(old, bad)
    assert error.value.field == "kinds.common-policy.consensus.quorum"


def test_a_good_amendment_is_returned() -> None:
    old = default_charter()
    new = replace(old, discussion_retention_days=30)
    assert check_amendment(old, new) is new


# --- messages are templates the web layer translates -------------------------------------------


def test_a_power_in_the_wrong_scope_is_named_by_a_translatable_phrase() -> None:
    kind = DecisionKind(key="k", name="K", scope=Scope.GROUP, power=Power.AMEND_CHARTER)
    with pytest.raises(InvalidCharter) as error:
        validate(Charter(kinds=(kind,)))
    assert error.value.template == "the power of %(power)s belongs to a federation kind of decision"
    assert isinstance(error.value.params["power"], Phrase)
    assert error.value.params["power"] == POWER_NAMES[Power.AMEND_CHARTER]
    assert (
        error.value.message
        == "the power of amending the charter belongs to a federation kind of decision"
    )


def test_two_kinds_with_a_single_power_are_refused_with_its_name() -> None:
    old = default_charter()
    twin = replace(old.kind("group-rules"), key="group-rules-2")
    with pytest.raises(InvalidCharter) as error:
        validate(replace(old, kinds=(*old.kinds, twin)))
    assert error.value.params["power"] == POWER_NAMES[Power.GROUP_RULES]


def test_plain_data_errors_keep_the_field_out_of_the_sentence() -> None:
    data = default_charter().to_dict()
    data["kinds"][0]["consensus"]["quorum"] = "half"
    with pytest.raises(InvalidCharter) as error:
        Charter.from_dict(data)
    assert error.value.template == "this must be a fraction such as 2/3"
    assert error.value.field == "kinds.group-practice.consensus.quorum"
    data = default_charter().to_dict()
    data["kinds"][0]["scope"] = "planet"
    with pytest.raises(InvalidCharter) as error:
        Charter.from_dict(data)
    assert error.value.template == "this must be one of: %(allowed)s"
    assert error.value.params == {"allowed": "group, federation"}


@pytest.mark.parametrize("name", ["length", "volunteer_period", "selection_period"])
def test_each_mandate_period_has_its_own_sentence(name: str) -> None:
    kind = DecisionKind(
        key="k",
        name="K",
        scope=Scope.GROUP,
        urgent_allowed=True,
        fallback=replace(MandateFallback(), **{name: timedelta(0)}),
    )
    with pytest.raises(InvalidCharter) as error:
        validate(Charter(kinds=(kind,)))
    assert error.value.field == f"kinds.k.fallback.{name}"
    assert not error.value.params


# --- bounds for a group's own rules -----------------------------------------------------------


def _group_kind(**overrides: Any) -> DecisionKind:
    base: dict[str, Any] = {
        "key": "k",
        "name": "K",
        "scope": Scope.GROUP,
        "consensus": ConsensusRule(quorum=Fraction(1, 2), period=7 * DAY),
        "group_bounds": GroupBounds(min_period=DAY, max_period=14 * DAY, min_quorum=Fraction(1, 3)),
    }
    base.update(overrides)
    return DecisionKind(**base)


def test_bounds_round_trip_through_plain_data_and_are_left_out_when_unset() -> None:
    charter = default_charter()
    data = charter.to_dict()
    assert "group_bounds" in next(k for k in data["kinds"] if k["key"] == "group-practice")
    assert "group_bounds" not in next(k for k in data["kinds"] if k["key"] == "common-policy")
    assert Charter.from_dict(data) == charter


@pytest.mark.parametrize(
    ("bounds", "field"),
    [
        (GroupBounds(min_period=8 * DAY, max_period=14 * DAY), "min_period"),
        (GroupBounds(min_period=DAY, max_period=6 * DAY), "min_period"),
        (GroupBounds(min_period=timedelta(0), max_period=14 * DAY), "min_period"),
        (GroupBounds(min_quorum=Fraction(0)), "min_quorum"),
        (GroupBounds(min_quorum=Fraction(2, 3)), "min_quorum"),
    ],
)
def test_bounds_must_include_the_charter_s_own_values(bounds: GroupBounds, field: str) -> None:
    with pytest.raises(InvalidCharter) as error:
        validate(Charter(kinds=(_group_kind(group_bounds=bounds),)))
    assert error.value.field == f"kinds.k.group_bounds.{field}"


def test_only_a_group_kind_can_have_bounds() -> None:
    charter = default_charter()
    policy = charter.kind("common-policy")
    with pytest.raises(InvalidCharter) as error:
        validate(with_kind(charter, replace(policy, group_bounds=GroupBounds(max_period=30 * DAY))))
    assert error.value.field == "kinds.common-policy.group_bounds"


@pytest.mark.parametrize(
    "raw",
    [
        "wide",
        {"min_period_seconds": "1d", "max_period_seconds": 10, "min_quorum": "1/3"},
        {"max_period_seconds": 10, "min_quorum": "1/3"},
        {"min_period_seconds": 1, "max_period_seconds": 10, "min_quorum": "x"},
    ],
)
def test_malformed_bounds_are_refused(raw: Any) -> None:
    data = default_charter().to_dict()
    data["kinds"][0]["group_bounds"] = raw
    with pytest.raises(InvalidCharter):
        Charter.from_dict(data)


# --- a group's own rules ----------------------------------------------------------------------


def test_a_group_s_rules_apply_within_bounds() -> None:
    charter = default_charter()
    rules = GroupRules({"group-practice": GroupRule(period=3 * DAY, quorum=Fraction(2, 5))})
    assert check_group_rules(charter, rules) is rules
    own = apply_group_rules(charter, rules).kind("group-practice").consensus
    assert own.period == 3 * DAY
    assert own.quorum == Fraction(2, 5)
    assert own.blocks_to_stop == charter.kind("group-practice").consensus.blocks_to_stop
    # Other kinds are untouched, federation ones included.
    assert apply_group_rules(charter, rules).kind("common-policy") == charter.kind("common-policy")


def test_no_rules_leave_the_charter_as_it_is() -> None:
    charter = default_charter()
    assert apply_group_rules(charter, GroupRules()) is charter


def test_a_period_shorter_than_the_shortest_deadline_brings_the_deadline_down() -> None:
    charter = _with(
        default_charter(),
        "group-quick-response",
        consensus=replace(default_charter().kind("group-quick-response").consensus,
                          min_period=12 * HOUR),
    )  # fmt: skip
    own = apply_group_rules(
        charter, GroupRules({"group-quick-response": GroupRule(period=6 * HOUR)})
    )
    assert own.kind("group-quick-response").consensus.min_period == 6 * HOUR


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        (GroupRules({"nope": GroupRule(period=DAY)}), "rules.nope"),
        (GroupRules({"common-policy": GroupRule(period=DAY)}), "rules.common-policy"),
        (GroupRules({"group-coordinator": GroupRule(period=DAY)}), "rules.group-coordinator"),
        (GroupRules({"group-practice": GroupRule(period=HOUR)}), "rules.group-practice.period"),
        (GroupRules({"group-practice": GroupRule(period=30 * DAY)}), "rules.group-practice.period"),
        (
            GroupRules({"group-practice": GroupRule(quorum=Fraction(1, 10))}),
            "rules.group-practice.quorum",
        ),
        (
            GroupRules({"group-practice": GroupRule(quorum=Fraction(3, 2))}),
            "rules.group-practice.quorum",
        ),
    ],
)
def test_rules_outside_the_charter_s_bounds_are_refused(rules: GroupRules, field: str) -> None:
    with pytest.raises(InvalidCharter) as error:
        check_group_rules(default_charter(), rules)
    assert error.value.field == field


def test_a_rule_the_federation_put_out_of_bounds_since_is_ignored() -> None:
    charter = default_charter()
    rules = GroupRules({"group-practice": GroupRule(period=2 * DAY, quorum=Fraction(2, 5))})
    practice = charter.kind("group-practice")
    assert practice.group_bounds is not None
    narrower = _with(
        charter, "group-practice", group_bounds=replace(practice.group_bounds, min_period=3 * DAY)
    )
    own = apply_group_rules(narrower, rules).kind("group-practice").consensus
    assert own.period == practice.consensus.period  # out of bounds now: the charter's
    assert own.quorum == Fraction(2, 5)  # still within: the group's
    closed = _with(charter, "group-practice", group_bounds=None)
    assert apply_group_rules(closed, rules).kind("group-practice") == closed.kind("group-practice")


def test_group_rules_round_trip_through_plain_data() -> None:
    rules = GroupRules(
        {
            "group-practice": GroupRule(period=3 * DAY),
            "group-quick-response": GroupRule(quorum=Fraction(2, 5)),
        }
    )
    data = rules.to_dict()
    assert data == {
        "kinds": {
            "group-practice": {"period_seconds": 3 * 86400},
            "group-quick-response": {"quorum": "2/5"},
        }
    }
    assert GroupRules.from_dict(data) == rules
    # An empty rule is no rule.
    assert GroupRules.from_dict({"kinds": {"group-practice": {}}}) == GroupRules()
    assert GroupRules(kinds={"x": GroupRule()}).to_dict() == {"kinds": {}}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("rules", "rules"),
        ({"kinds": []}, "rules"),
        ({"kinds": {"group-practice": 3}}, "rules.group-practice"),
        ({"kinds": {"group-practice": {"period_seconds": "3d"}}}, "rules.group-practice.period"),
        ({"kinds": {"group-practice": {"period_seconds": 10**20}}}, "rules.group-practice.period"),
        ({"kinds": {"group-practice": {"quorum": "most"}}}, "rules.group-practice.quorum"),
    ],
)
def test_malformed_group_rules_are_refused_naming_the_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidCharter) as error:
        GroupRules.from_dict(raw)
    assert error.value.field == field


def test_rules_changes_name_each_kind_and_parameter() -> None:
    old = GroupRules({"group-practice": GroupRule(period=3 * DAY)})
    new = GroupRules(
        {
            "group-practice": GroupRule(period=5 * DAY),
            "group-quick-response": GroupRule(quorum=Fraction(2, 5)),
        }
    )
    assert rules_changes(old, new) == [
        Change("group-practice", ("period",), 3 * DAY, 5 * DAY),
        Change("group-quick-response", ("quorum",), None, Fraction(2, 5)),
    ]
    assert rules_changes(new, new) == []


def test_the_default_charter_opens_group_matters_to_groups_and_has_a_kind_for_it() -> None:
    charter = default_charter()
    assert charter.kind("group-rules").power is Power.GROUP_RULES
    assert charter.kind("group-rules").scope is Scope.GROUP
    assert charter.kind("group-practice").group_bounds is not None
    assert charter.kind("group-quick-response").group_bounds is not None
    assert charter.kind("group-coordinator").group_bounds is None
    vote = charter.kind("group-practice").fallback
    assert isinstance(vote, VoteFallback) and vote.method is Method.SCHULZE


def test_a_shortest_deadline_written_beyond_the_period_is_refused_not_shortened() -> None:
    data = default_charter().to_dict()
    data["kinds"][0]["consensus"]["min_period_seconds"] = 30 * 86400
    with pytest.raises(InvalidCharter) as error:
        Charter.from_dict(data)
    assert error.value.field == "kinds.group-practice.consensus.min_period"


def test_replacing_a_kind_keeps_its_place_in_the_charter() -> None:
    charter = default_charter()
    keys = [k.key for k in charter.kinds]
    renamed = with_kind(charter, replace(charter.kind("common-policy"), name="Policy"))
    assert [k.key for k in renamed.kinds] == keys
    added = with_kind(charter, DecisionKind(key="new", name="New", scope=Scope.GROUP))
    assert [k.key for k in added.kinds] == [*keys, "new"]
