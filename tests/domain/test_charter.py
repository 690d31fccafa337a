"""The charter: validation names the field, plain-data round trip, malformed data."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest

from veche.domain.charter import (
    Charter,
    ConsensusRule,
    DecisionKind,
    MandateFallback,
    Mode,
    Rotation,
    Scope,
    Selection,
    SpokesWeight,
    VoteFallback,
    default_charter,
    validate,
    with_kind,
)
from veche.domain.errors import InvalidCharter
from veche.domain.voting import Method


def _kind(**overrides: Any) -> DecisionKind:
    base: dict[str, Any] = {"key": "k", "name": "A kind", "scope": Scope.GROUP}
    base.update(overrides)
    return DecisionKind(**base)


def _rejects(kind: DecisionKind, field: str) -> None:
    with pytest.raises(InvalidCharter) as caught:
        validate(Charter(kinds=(kind,)))
    assert caught.value.field == field
    assert caught.value.code == "invalid_charter"
    assert caught.value.message


def test_default_charter_validates_and_has_every_kind() -> None:
    charter = default_charter()
    assert validate(charter) is charter
    keys = {k.key for k in charter.kinds}
    assert {"group-practice", "group-quick-response", "charter-amendment"} <= keys
    assert charter.kind("admit-group").mode is Mode.SPOKES


def test_unknown_kind_key_raises_invalid_charter() -> None:
    with pytest.raises(InvalidCharter) as caught:
        default_charter().kind("nope")
    assert caught.value.field == "kind"


def test_round_trip_through_plain_data_gives_an_equal_charter() -> None:
    charter = default_charter()
    data = charter.to_dict()
    json.dumps(data)
    assert Charter.from_dict(data) == charter


def test_round_trip_keeps_mandate_and_spokes_details() -> None:
    charter = with_kind(
        default_charter(),
        _kind(
            key="quick",
            urgent_allowed=True,
            fallback=MandateFallback(
                length=timedelta(hours=5),
                selection=Selection.VOTE,
                rotation=Rotation.UNTIL_ALL_SERVED,
                volunteer_period=timedelta(hours=2),
                selection_period=timedelta(hours=3),
                recall_share=Fraction(2, 3),
            ),
            meeting_confirmations=4,
        ),
    )
    charter = with_kind(
        charter,
        _kind(
            key="weighted",
            scope=Scope.FEDERATION,
            mode=Mode.SPOKES,
            urgent_allowed=True,
            fallback=VoteFallback(
                method=Method.SCORE, max_score=9, secret=False, spokes_weight=SpokesWeight.BY_SIZE
            ),
        ),
    )
    assert Charter.from_dict(json.loads(json.dumps(charter.to_dict()))) == charter


def test_with_kind_replaces_a_kind_of_the_same_key() -> None:
    charter = default_charter()
    renamed = replace(charter.kind("group-coordinator"), name="Renamed")
    updated = with_kind(charter, renamed)
    assert updated.kind("group-coordinator").name == "Renamed"
    assert len(updated.kinds) == len(charter.kinds)


def test_with_kind_validates_the_result() -> None:
    with pytest.raises(InvalidCharter):
        with_kind(default_charter(), _kind(consensus=ConsensusRule(quorum=Fraction(0))))


def test_charter_without_kinds_is_rejected() -> None:
    with pytest.raises(InvalidCharter) as caught:
        validate(Charter(kinds=()))
    assert caught.value.field == "kinds"


@pytest.mark.parametrize("quorum", [Fraction(0), Fraction(-1, 2), Fraction(3, 2)])
def test_quorum_outside_zero_to_one_is_rejected(quorum: Fraction) -> None:
    _rejects(_kind(consensus=ConsensusRule(quorum=quorum)), "kinds.k.consensus.quorum")


def test_quorum_of_exactly_one_is_allowed() -> None:
    validate(Charter(kinds=(_kind(consensus=ConsensusRule(quorum=Fraction(1))),)))


def test_zero_blocks_to_stop_is_rejected() -> None:
    _rejects(_kind(consensus=ConsensusRule(blocks_to_stop=0)), "kinds.k.consensus.blocks_to_stop")


def test_zero_consensus_period_is_rejected() -> None:
    _rejects(_kind(consensus=ConsensusRule(period=timedelta(0))), "kinds.k.consensus.period")


def test_zero_vote_period_is_rejected() -> None:
    _rejects(
        _kind(urgent_allowed=True, fallback=VoteFallback(period=timedelta(0))),
        "kinds.k.fallback.period",
    )


@pytest.mark.parametrize("name", ["length", "volunteer_period", "selection_period"])
def test_zero_mandate_periods_are_rejected(name: str) -> None:
    fallback = replace(MandateFallback(), **{name: timedelta(0)})
    _rejects(_kind(urgent_allowed=True, fallback=fallback), f"kinds.k.fallback.{name}")


@pytest.mark.parametrize("share", [Fraction(0), Fraction(5, 4)])
def test_recall_share_outside_zero_to_one_is_rejected(share: Fraction) -> None:
    _rejects(
        _kind(urgent_allowed=True, fallback=MandateFallback(recall_share=share)),
        "kinds.k.fallback.recall_share",
    )


def test_urgent_without_fallback_is_rejected() -> None:
    _rejects(_kind(urgent_allowed=True), "kinds.k.fallback")


def test_fallback_without_urgent_is_rejected() -> None:
    _rejects(_kind(fallback=VoteFallback()), "kinds.k.fallback")


def test_federation_kind_without_mode_is_rejected() -> None:
    _rejects(_kind(scope=Scope.FEDERATION), "kinds.k.mode")


def test_group_kind_with_mode_is_rejected() -> None:
    _rejects(_kind(mode=Mode.ASSEMBLY), "kinds.k.mode")


@pytest.mark.parametrize("threshold", [Fraction(1, 2), Fraction(1, 3), Fraction(11, 10)])
def test_supermajority_threshold_must_be_above_half_and_at_most_one(threshold: Fraction) -> None:
    fallback = VoteFallback(method=Method.SUPERMAJORITY, threshold=threshold)
    _rejects(_kind(urgent_allowed=True, fallback=fallback), "kinds.k.fallback.threshold")


def test_supermajority_of_exactly_one_is_allowed() -> None:
    fallback = VoteFallback(method=Method.SUPERMAJORITY, threshold=Fraction(1))
    validate(Charter(kinds=(_kind(urgent_allowed=True, fallback=fallback),)))


@pytest.mark.parametrize("threshold", [Fraction(2, 3), Fraction(1, 3)])
def test_majority_threshold_other_than_half_is_rejected(threshold: Fraction) -> None:
    fallback = VoteFallback(method=Method.MAJORITY, threshold=threshold)
    _rejects(_kind(urgent_allowed=True, fallback=fallback), "kinds.k.fallback.threshold")


@pytest.mark.parametrize("quorum", [Fraction(-1, 3), Fraction(4, 3)])
def test_vote_quorum_outside_zero_to_one_is_rejected(quorum: Fraction) -> None:
    _rejects(
        _kind(urgent_allowed=True, fallback=VoteFallback(quorum=quorum)),
        "kinds.k.fallback.quorum",
    )


@pytest.mark.parametrize("top", [0, 101])
def test_score_top_outside_one_to_hundred_is_rejected(top: int) -> None:
    fallback = VoteFallback(method=Method.SCORE, max_score=top)
    _rejects(_kind(urgent_allowed=True, fallback=fallback), "kinds.k.fallback.max_score")


def test_duplicate_keys_are_rejected() -> None:
    with pytest.raises(InvalidCharter) as caught:
        validate(Charter(kinds=(_kind(), _kind(name="Other"))))
    assert caught.value.field == "kinds.k.key"


@pytest.mark.parametrize("key", ["", "has space", "semi;colon", "dot.ted", "-"])
def test_bad_keys_are_rejected(key: str) -> None:
    _rejects(_kind(key=key), f"kinds.{key}.key")


def test_keys_with_dashes_and_underscores_are_allowed() -> None:
    validate(Charter(kinds=(_kind(key="a-b_c1"),)))


def test_blank_name_is_rejected() -> None:
    _rejects(_kind(name="   "), "kinds.k.name")


def test_meeting_without_confirmations_is_rejected() -> None:
    _rejects(_kind(meeting_confirmations=0), "kinds.k.meeting_confirmations")


def test_mandate_fallback_in_spokes_mode_is_rejected() -> None:
    _rejects(
        _kind(
            scope=Scope.FEDERATION,
            mode=Mode.SPOKES,
            urgent_allowed=True,
            fallback=MandateFallback(),
        ),
        "kinds.k.fallback",
    )


def test_mandate_fallback_in_assembly_mode_is_allowed() -> None:
    kind = _kind(
        scope=Scope.FEDERATION, mode=Mode.ASSEMBLY, urgent_allowed=True, fallback=MandateFallback()
    )
    validate(Charter(kinds=(kind,)))


def test_retention_below_one_day_is_rejected() -> None:
    with pytest.raises(InvalidCharter) as caught:
        validate(Charter(kinds=(_kind(),), discussion_retention_days=0))
    assert caught.value.field == "discussion_retention_days"


# --- malformed plain data: always InvalidCharter, never another exception ----------------


def _data() -> dict[str, Any]:
    data = default_charter().to_dict()
    return copy.deepcopy(data)


def _kind_data(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(k for k in data["kinds"] if k["key"] == key)


def _mutations() -> list[tuple[str, Any]]:
    """(description, function mutating the data in place)."""

    def setter(key: str, path: tuple[str, ...], value: Any) -> Any:
        def mutate(data: dict[str, Any]) -> None:
            target = _kind_data(data, key)
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value

        return mutate

    def deleter(key: str, path: tuple[str, ...]) -> Any:
        def mutate(data: dict[str, Any]) -> None:
            target = _kind_data(data, key)
            for step in path[:-1]:
                target = target[step]
            del target[path[-1]]

        return mutate

    vote = "group-practice"
    mandate = "group-quick-response"
    return [
        ("kinds not a list", lambda d: d.update(kinds="nope")),
        ("kinds missing", lambda d: d.pop("kinds")),
        ("kinds empty", lambda d: d.update(kinds=[])),
        ("kind not a mapping", lambda d: d.update(kinds=[42])),
        ("kind is a list", lambda d: d.update(kinds=[["key", "x"]])),
        ("retention a string", lambda d: d.update(discussion_retention_days="365")),
        ("retention a bool", lambda d: d.update(discussion_retention_days=True)),
        ("retention zero", lambda d: d.update(discussion_retention_days=0)),
        ("show_coordinators a string", lambda d: d.update(show_coordinators="yes")),
        ("unknown scope", setter(vote, ("scope",), "planet")),
        ("unknown mode", setter("admit-group", ("mode",), "telepathy")),
        ("mode a number", setter("admit-group", ("mode",), 3)),
        ("missing key", deleter(vote, ("key",))),
        ("missing name", deleter(vote, ("name",))),
        ("missing scope", deleter(vote, ("scope",))),
        ("missing consensus", deleter(vote, ("consensus",))),
        ("consensus not a mapping", setter(vote, ("consensus",), "fast")),
        ("missing quorum", deleter(vote, ("consensus", "quorum"))),
        ("quorum a float", setter(vote, ("consensus", "quorum"), 0.5)),
        ("quorum a bool", setter(vote, ("consensus", "quorum"), True)),
        ("quorum garbage", setter(vote, ("consensus", "quorum"), "half")),
        ("quorum divides by zero", setter(vote, ("consensus", "quorum"), "1/0")),
        ("quorum a list", setter(vote, ("consensus", "quorum"), [1, 2])),
        ("quorum too big", setter(vote, ("consensus", "quorum"), "3/2")),
        ("blocks a string", setter(vote, ("consensus", "blocks_to_stop"), "1")),
        ("blocks a float", setter(vote, ("consensus", "blocks_to_stop"), 1.0)),
        ("period a float", setter(vote, ("consensus", "period_seconds"), 3600.5)),
        ("period negative", setter(vote, ("consensus", "period_seconds"), -5)),
        ("period huge", setter(vote, ("consensus", "period_seconds"), 10**20)),
        ("urgent a string", setter(vote, ("urgent_allowed",), "true")),
        ("confirmations a string", setter(vote, ("meeting_confirmations",), "2")),
        ("fallback a string", setter(vote, ("fallback",), "vote")),
        ("fallback unknown type", setter(vote, ("fallback", "type"), "coin")),
        ("fallback without type", deleter(vote, ("fallback", "type"))),
        ("unknown method", setter(vote, ("fallback", "method"), "dictator")),
        ("method missing", deleter(vote, ("fallback", "method"))),
        ("vote period missing", deleter(vote, ("fallback", "period_seconds"))),
        ("threshold garbage", setter(vote, ("fallback", "threshold"), "2/x")),
        ("secret a number", setter(vote, ("fallback", "secret"), 1)),
        ("max score a string", setter(vote, ("fallback", "max_score"), "5")),
        ("unknown weight", setter(vote, ("fallback", "spokes_weight"), "by_height")),
        ("unknown selection", setter(mandate, ("fallback", "selection"), "duel")),
        ("unknown rotation", setter(mandate, ("fallback", "rotation"), "never")),
        ("length missing", deleter(mandate, ("fallback", "length_seconds"))),
        ("length a string", setter(mandate, ("fallback", "length_seconds"), "3d")),
        (
            "volunteer period a bool",
            setter(mandate, ("fallback", "volunteer_period_seconds"), False),
        ),
        ("recall share empty", setter(mandate, ("fallback", "recall_share"), "")),
        ("recall share none", setter(mandate, ("fallback", "recall_share"), None)),
        ("key null", setter(vote, ("key",), None)),
        ("name a number", setter(vote, ("name",), 7)),
    ]


@pytest.mark.parametrize(("what", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_malformed_plain_data_raises_invalid_charter(what: str, mutate: Any) -> None:
    data = _data()
    mutate(data)
    with pytest.raises(InvalidCharter) as caught:
        Charter.from_dict(data)
    assert caught.value.field


def test_unknown_enum_value_names_the_field() -> None:
    data = _data()
    _kind_data(data, "group-practice")["fallback"]["method"] = "dictator"
    with pytest.raises(InvalidCharter) as caught:
        Charter.from_dict(data)
    assert caught.value.field == "kinds.group-practice.fallback.method"


def test_missing_field_names_it() -> None:
    data = _data()
    del _kind_data(data, "group-practice")["scope"]
    with pytest.raises(InvalidCharter) as caught:
        Charter.from_dict(data)
    assert caught.value.field == "scope"


def test_bad_fraction_names_the_field() -> None:
    data = _data()
    _kind_data(data, "group-practice")["consensus"]["quorum"] = "1/0"
    with pytest.raises(InvalidCharter) as caught:
        Charter.from_dict(data)
    assert caught.value.field == "kinds.group-practice.consensus.quorum"


def test_data_that_is_not_a_mapping_raises_invalid_charter() -> None:
    for data in (None, [], "charter", 5):
        with pytest.raises(InvalidCharter):
            Charter.from_dict(data)  # type: ignore[arg-type]


def test_optional_fields_take_their_defaults() -> None:
    data = {
        "kinds": [
            {
                "key": "k",
                "name": "K",
                "scope": "group",
                "consensus": {"quorum": 1, "blocks_to_stop": 2, "period_seconds": 60},
                "urgent_allowed": True,
                "fallback": {"type": "mandate", "length_seconds": 3600},
            }
        ]
    }
    charter = Charter.from_dict(data)
    kind = charter.kind("k")
    assert kind.consensus == ConsensusRule(Fraction(1), 2, timedelta(seconds=60))
    assert kind.fallback == MandateFallback(length=timedelta(hours=1))
    assert charter.discussion_retention_days is None
    assert charter.show_coordinators is False


# --- the fund's small amounts ---------------------------------------------------------------


def _with_small_kind() -> Charter:
    from veche.domain.charter import ConsensusRule, DecisionKind, Mode, Power, Scope, with_kind

    small = DecisionKind(
        key="disbursement-small",
        name="A small disbursement",
        scope=Scope.FEDERATION,
        mode=Mode.SPOKES,
        consensus=ConsensusRule(period=timedelta(days=2)),
        power=Power.DISBURSE_SMALL,
    )
    return with_kind(default_charter(), small)


def test_fund_small_amounts_round_trip_through_plain_data() -> None:
    charter = replace(_with_small_kind(), fund_small_amounts={"EUR": 50_000, "UAH": 2_000_000})
    data = charter.to_dict()
    assert data["fund"] == {"small_amount": {"EUR": 50_000, "UAH": 2_000_000}}
    assert Charter.from_dict(data) == validate(charter)


def test_the_default_charter_has_no_small_amounts_and_writes_no_fund_section() -> None:
    assert "fund" not in default_charter().to_dict()


@pytest.mark.parametrize(
    ("amounts", "field"),
    [
        ({"eur": 100}, "fund.small_amount.eur"),
        ({"EURO": 100}, "fund.small_amount.EURO"),
        ({"EUR": 0}, "fund.small_amount.EUR"),
        ({"EUR": -5}, "fund.small_amount.EUR"),
    ],
)
def test_fund_small_amounts_must_be_currency_codes_and_positive(amounts, field) -> None:
    with pytest.raises(InvalidCharter) as error:
        validate(replace(_with_small_kind(), fund_small_amounts=amounts))
    assert error.value.field == field


def test_fund_small_amounts_need_a_kind_to_decide_them() -> None:
    with pytest.raises(InvalidCharter) as error:
        validate(replace(default_charter(), fund_small_amounts={"EUR": 100}))
    assert error.value.field == "fund.small_amount"


@pytest.mark.parametrize(
    "raw", [["EUR"], {"small_amount": ["EUR"]}, {"small_amount": {"EUR": "10"}}]
)
def test_malformed_fund_sections_are_refused_as_invalid_charters(raw) -> None:
    data = _with_small_kind().to_dict()
    data["fund"] = raw
    with pytest.raises(InvalidCharter):
        Charter.from_dict(data)


def test_the_shortest_deadline_is_part_of_the_charter_and_validated() -> None:
    data = default_charter().to_dict()
    assert data["kinds"][0]["consensus"]["min_period_seconds"] == 3600
    data["kinds"][0]["consensus"]["min_period_seconds"] = -1
    with pytest.raises(InvalidCharter) as error:
        Charter.from_dict(data)
    assert error.value.field.endswith("consensus.min_period")


# --- powers: what a kind's decisions do --------------------------------------------------------


def test_the_default_charter_gives_each_organisational_kind_its_power() -> None:
    from veche.domain.charter import Power

    charter = default_charter()
    assert charter.kind("admit-group").power is Power.ADMIT_GROUP
    assert charter.kind("group-coordinator").power is Power.CHOOSE_COORDINATOR
    assert charter.kind("disbursement").power is Power.DISBURSE
    assert charter.kind("charter-amendment").power is Power.AMEND_CHARTER
    assert charter.kind("common-policy").power is None
    assert Charter.from_dict(charter.to_dict()) == charter


def test_a_power_belongs_to_a_kind_of_the_right_scope() -> None:
    from veche.domain.charter import Power

    data = default_charter().to_dict()
    policy = next(k for k in data["kinds"] if k["key"] == "common-policy")
    policy["power"] = Power.CHOOSE_COORDINATOR.value
    with pytest.raises(InvalidCharter) as error:
        Charter.from_dict(data)
    assert error.value.field == "kinds.common-policy.power"


def test_an_unknown_power_is_refused() -> None:
    data = default_charter().to_dict()
    data["kinds"][0]["power"] = "seize_the_means"
    with pytest.raises(InvalidCharter) as error:
        Charter.from_dict(data)
    assert error.value.field.endswith(".power")


def test_small_amounts_are_decided_by_the_small_kind_and_others_by_the_disbursement_kind() -> None:
    charter = replace(_with_small_kind(), fund_small_amounts={"EUR": 50_000})
    assert charter.disbursement_kind(49_999, "EUR").key == "disbursement-small"
    assert charter.disbursement_kind(50_000, "EUR").key == "disbursement"
    assert charter.disbursement_kind(10, "USD").key == "disbursement"


def test_a_vote_fallback_read_without_a_quorum_has_the_same_default_as_in_python() -> None:
    from veche.domain.charter import VoteFallback

    data = default_charter().to_dict()
    practice = next(k for k in data["kinds"] if k["key"] == "group-practice")
    del practice["fallback"]["quorum"]
    fallback = Charter.from_dict(data).kind("group-practice").fallback
    assert isinstance(fallback, VoteFallback)
    assert fallback.quorum == VoteFallback().quorum
