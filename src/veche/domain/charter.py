"""The charter: the federation's rules, as decision kinds and their process parameters.

A charter is a value. ``validate`` rejects impossible or contradictory parameters with
an :class:`InvalidCharter` that names the field and the reason, so a charter amendment
that would leave the federation unable to decide is refused before it is adopted.

Periods are whole seconds (``timedelta``); shares are exact ``Fraction``s, never floats,
so "two thirds" means two thirds.

Every refusal is a fixed template marked with :func:`~veche.domain.errors._` and its
params, so the web layer shows it in the member's language; ``field`` names where the
problem is (``kinds.<key>.consensus.period``), for a form to put the message beside.

The charter is amended by federation decision and kept in **versions**; a proposal is
judged forever under the version in force when it was published (docs/decisions/0090).
:func:`changes` says what an amendment changes, :func:`digest` names a version. A group
may adopt its own rules (:class:`GroupRules`) for its own matters, within the
:class:`GroupBounds` each group kind of the charter sets (docs/decisions/0092).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any

from veche.domain.errors import InvalidCharter, Phrase, _
from veche.domain.voting import Method


class Scope(StrEnum):
    """Whose matter a decision kind is: one group's, or the federation's in common."""

    GROUP = "group"
    FEDERATION = "federation"


class Mode(StrEnum):
    """How a federation decides together."""

    # Every member of every group responds or votes directly.
    ASSEMBLY = "assembly"
    # Each group reaches its own position; its coordinator carries it.
    SPOKES = "spokes"


class SpokesWeight(StrEnum):
    """How a group's ballot counts in a spokes-mode vote."""

    ONE_PER_GROUP = "one_per_group"
    BY_SIZE = "by_size"


class Selection(StrEnum):
    """How a temporary coordinator is chosen among volunteers."""

    LOT = "lot"
    VOTE = "vote"


class Rotation(StrEnum):
    """Who may not be chosen again as temporary coordinator."""

    # Whoever held the previous mandate of the same body.
    PREVIOUS_HOLDER = "previous_holder"
    # Additionally, nobody serves twice until every volunteer has served.
    UNTIL_ALL_SERVED = "until_all_served"


class Power(StrEnum):
    """What adopting a decision of a kind does, beyond being recorded.

    The web layer applies a decision by its kind's power, never by the kind's key: a
    federation may rename or add kinds, and what they are allowed to do stays typed.
    """

    # Federation: a new group joins (the proposal names it).
    ADMIT_GROUP = "admit_group"
    # Group: a member becomes the group's (standing) coordinator.
    CHOOSE_COORDINATOR = "choose_coordinator"
    # Federation: the common fund pays a group's request for money.
    DISBURSE = "disburse"
    # Federation: the same, for requests under the charter's small amounts.
    DISBURSE_SMALL = "disburse_small"
    # Group: money moves from the group's account to another group's.
    TRANSFER = "transfer"
    # Federation: a new version of the charter comes into force.
    AMEND_CHARTER = "amend_charter"
    # Group: a member leaves the group (their keys are rotated away).
    REMOVE_MEMBER = "remove_member"
    # Group: the group's own rules (within the charter's bounds) come into force.
    GROUP_RULES = "group_rules"


#: Whose decision each power must be.
POWER_SCOPES: Mapping[Power, Scope] = {
    Power.ADMIT_GROUP: Scope.FEDERATION,
    Power.CHOOSE_COORDINATOR: Scope.GROUP,
    Power.DISBURSE: Scope.FEDERATION,
    Power.DISBURSE_SMALL: Scope.FEDERATION,
    Power.TRANSFER: Scope.GROUP,
    Power.AMEND_CHARTER: Scope.FEDERATION,
    Power.REMOVE_MEMBER: Scope.GROUP,
    Power.GROUP_RULES: Scope.GROUP,
}

#: How a refusal names each power (the web layer translates the phrase).
POWER_NAMES: Mapping[Power, str] = {
    Power.ADMIT_GROUP: _("admitting a group"),
    Power.CHOOSE_COORDINATOR: _("choosing a coordinator"),
    Power.DISBURSE: _("paying out from the fund"),
    Power.DISBURSE_SMALL: _("paying out small amounts from the fund"),
    Power.TRANSFER: _("moving money to another group"),
    Power.AMEND_CHARTER: _("amending the charter"),
    Power.REMOVE_MEMBER: _("removing a member"),
    Power.GROUP_RULES: _("adopting a group's own rules"),
}

#: Powers that at most one kind of the charter may have.
SINGLE_POWERS = (Power.DISBURSE, Power.DISBURSE_SMALL, Power.AMEND_CHARTER, Power.GROUP_RULES)


@dataclass(frozen=True)
class ConsensusRule:
    """How consensus is sought for a decision kind."""

    # Share of eligible members (or groups, in spokes mode) who must respond.
    quorum: Fraction = Fraction(1, 2)
    # How many standing blocks stop the proposal (1: a single block stops it).
    blocks_to_stop: int = 1
    # How long consensus may take at most, from opening.
    period: timedelta = timedelta(days=7)
    # The shortest deadline an author may set: members must have a chance to see and
    # respond before an urgent proposal falls to its fallback. (Never more than the
    # period: a rule with a shorter period gets that period as its minimum.)
    min_period: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if timedelta(0) < self.period < self.min_period:
            object.__setattr__(self, "min_period", self.period)


@dataclass(frozen=True)
class VoteFallback:
    """An urgent proposal without consensus at its deadline goes to this vote."""

    method: Method = Method.MAJORITY
    threshold: Fraction = Fraction(1, 2)
    quorum: Fraction = Fraction(1, 3)
    period: timedelta = timedelta(days=1)
    secret: bool = True
    max_score: int = 5
    spokes_weight: SpokesWeight = SpokesWeight.ONE_PER_GROUP
    # A secret vote is counted by tellers (docs/ballots.md): this many are drawn when
    # the vote opens, and this many of them must sign in before it is counted (fewer
    # of each when the deciding body is smaller). Decision 0130.
    tellers: int = 3
    tellers_needed: int = 2


@dataclass(frozen=True)
class MandateFallback:
    """An urgent proposal without consensus goes to a temporary coordinator."""

    length: timedelta = timedelta(days=3)
    selection: Selection = Selection.LOT
    rotation: Rotation = Rotation.PREVIOUS_HOLDER
    # How long members may volunteer once the consensus deadline has passed.
    volunteer_period: timedelta = timedelta(hours=6)
    # With Selection.VOTE: how long the vote among volunteers stays open.
    selection_period: timedelta = timedelta(hours=6)
    # Share of eligible members whose support recalls the holder at once.
    recall_share: Fraction = Fraction(1, 2)
    # The vote among volunteers is secret, counted by tellers (as VoteFallback's).
    tellers: int = 3
    tellers_needed: int = 2


Fallback = VoteFallback | MandateFallback


@dataclass(frozen=True)
class GroupBounds:
    """How far a group's own rules may move a group kind's consensus (docs/decisions/0092).

    A group may set its own consensus period between ``min_period`` and ``max_period``
    and its own quorum, no lower than ``min_quorum``. Everything else stays the
    federation's: blocks, urgency, the fallback, meetings.
    """

    min_period: timedelta = timedelta(days=1)
    max_period: timedelta = timedelta(days=14)
    min_quorum: Fraction = Fraction(1, 3)


@dataclass(frozen=True)
class DecisionKind:
    """One kind of decision the charter knows: its scope and process."""

    key: str
    name: str
    scope: Scope
    consensus: ConsensusRule = field(default_factory=ConsensusRule)
    mode: Mode | None = None
    urgent_allowed: bool = False
    fallback: Fallback | None = None
    # Members present at a meeting, besides the recorder, who must confirm its record.
    meeting_confirmations: int = 2
    # What adopting a decision of this kind does (None: it is recorded, nothing more).
    power: Power | None = None
    # A group kind only: how far a group's own rules may move it (None: not at all).
    group_bounds: GroupBounds | None = None


@dataclass(frozen=True)
class Charter:
    """The federation's rules: its decision kinds and a few federation-wide settings."""

    kinds: tuple[DecisionKind, ...]
    # Discussions older than this many days may be deleted; None keeps them. Decisions stay.
    discussion_retention_days: int | None = None
    # Whether coordinators are named (by pseudonym) on federation pages.
    show_coordinators: bool = False
    # Per currency (ISO 4217 code), the amount in minor units under which a request to
    # the common fund is decided by the smaller body of the "disbursement-small" kind.
    fund_small_amounts: Mapping[str, int] = field(default_factory=dict)
    # Whether a group's coordinator may remove a member alone; otherwise removing a member
    # is the group's decision (a kind with the power remove_member).
    coordinator_may_remove: bool = False

    def kind(self, key: str) -> DecisionKind:
        """Return the decision kind with this key, or raise InvalidCharter."""
        for kind in self.kinds:
            if kind.key == key:
                return kind
        raise InvalidCharter(
            _("the charter has no decision kind %(key)r"), field="kind", params={"key": key}
        )

    def with_power(self, power: Power) -> tuple[DecisionKind, ...]:
        """Return the kinds that have ``power``, in charter order."""
        return tuple(k for k in self.kinds if k.power is power)

    def disbursement_kind(self, amount: int, currency: str) -> DecisionKind:
        """Return the kind that decides a request to the fund for ``amount`` of ``currency``.

        Under the charter's small amount for the currency, the kind with the
        ``DISBURSE_SMALL`` power decides (a smaller body); otherwise ``DISBURSE``.
        """
        limit = self.fund_small_amounts.get(currency)
        power = Power.DISBURSE_SMALL if limit is not None and amount < limit else Power.DISBURSE
        kinds = self.with_power(power)
        if not kinds:
            raise InvalidCharter(
                _("the charter has no kind of decision that pays out from the fund"),
                field="kind",
            )
        return kinds[0]

    def to_dict(self) -> dict[str, Any]:
        """Return the charter as plain JSON-serialisable data."""
        data: dict[str, Any] = {
            "discussion_retention_days": self.discussion_retention_days,
            "show_coordinators": self.show_coordinators,
            "coordinator_may_remove": self.coordinator_may_remove,
            "kinds": [_kind_to_dict(k) for k in self.kinds],
        }
        if self.fund_small_amounts:
            data["fund"] = {"small_amount": dict(sorted(self.fund_small_amounts.items()))}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Charter:
        """Return a validated charter built from plain data; raise InvalidCharter."""
        try:
            raw_kinds = data["kinds"]
            if not isinstance(raw_kinds, list):
                raise InvalidCharter(_("the decision kinds must be a list"), field="kinds")
            charter = cls(
                kinds=tuple(_kind_from_dict(k, i) for i, k in enumerate(raw_kinds)),
                discussion_retention_days=_opt_int(
                    data.get("discussion_retention_days"), "discussion_retention_days"
                ),
                show_coordinators=_bool(data.get("show_coordinators", False), "show_coordinators"),
                fund_small_amounts=_small_amounts(data.get("fund")),
                coordinator_may_remove=_bool(
                    data.get("coordinator_may_remove", False), "coordinator_may_remove"
                ),
            )
        except KeyError as missing:
            name = str(missing.args[0])
            raise InvalidCharter(
                _("the field %(name)s is missing"), field=name, params={"name": name}
            ) from None
        except (TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError):
            raise InvalidCharter(
                _("the charter is not in the expected shape"), field="charter"
            ) from None
        validate(charter)
        return charter


def validate(charter: Charter) -> Charter:
    """Return the charter unchanged if it is coherent; raise InvalidCharter otherwise."""
    if not charter.kinds:
        raise InvalidCharter(_("a charter needs at least one decision kind"), field="kinds")
    seen: set[str] = set()
    for kind in charter.kinds:
        where = f"kinds.{kind.key}"
        if not kind.key or not kind.key.replace("-", "").replace("_", "").isalnum():
            raise InvalidCharter(
                _("a decision kind's key must be letters, digits, - or _"), field=f"{where}.key"
            )
        if kind.key in seen:
            raise InvalidCharter(
                _("the decision kind %(key)s appears twice"),
                field=f"{where}.key",
                params={"key": kind.key},
            )
        seen.add(kind.key)
        if not kind.name.strip():
            raise InvalidCharter(_("a decision kind needs a name"), field=f"{where}.name")
        _validate_scope(kind, where)
        if kind.power is not None and POWER_SCOPES[kind.power] is not kind.scope:
            raise InvalidCharter(
                _("the power of %(power)s belongs to a group's kind of decision")
                if POWER_SCOPES[kind.power] is Scope.GROUP
                else _("the power of %(power)s belongs to a federation kind of decision"),
                field=f"{where}.power",
                params={"power": Phrase(POWER_NAMES[kind.power])},
            )
        _validate_consensus(kind.consensus, f"{where}.consensus")
        if kind.meeting_confirmations < 1:
            raise InvalidCharter(
                _("a meeting record needs at least one confirmation by another member present"),
                field=f"{where}.meeting_confirmations",
            )
        if kind.urgent_allowed and kind.fallback is None:
            raise InvalidCharter(
                _("a kind that may be urgent needs a fallback (vote or mandate)"),
                field=f"{where}.fallback",
            )
        if not kind.urgent_allowed and kind.fallback is not None:
            raise InvalidCharter(
                _("a fallback only applies to urgent proposals; allow urgency or remove it"),
                field=f"{where}.fallback",
            )
        if kind.group_bounds is not None:
            _validate_bounds(kind, f"{where}.group_bounds")
        if isinstance(kind.fallback, VoteFallback):
            _validate_vote(kind.fallback, f"{where}.fallback")
        elif isinstance(kind.fallback, MandateFallback):
            _validate_mandate(kind.fallback, f"{where}.fallback")
            if kind.mode is Mode.SPOKES:
                raise InvalidCharter(
                    _(
                        "a spokes-mode kind cannot fall back to one temporary coordinator "
                        "for the whole federation; use a vote, or assembly mode"
                    ),
                    field=f"{where}.fallback",
                )
    _validate_fund(charter)
    if len(charter.with_power(Power.REMOVE_MEMBER)) > 1:
        raise InvalidCharter(
            "only one decision kind may have the power remove_member", field="kinds"
        )
    if charter.discussion_retention_days is not None and charter.discussion_retention_days < 1:
        raise InvalidCharter(
            _("discussion retention must be at least one day (or unset to keep discussions)"),
            field="discussion_retention_days",
        )
    return charter


def _validate_fund(charter: Charter) -> None:
    where = "fund.small_amount"
    for currency, amount in charter.fund_small_amounts.items():
        if not (len(currency) == 3 and currency.isascii() and currency.isupper()):
            raise InvalidCharter(
                _("%(currency)s is not a currency code such as EUR"),
                field=f"{where}.{currency}",
                params={"currency": currency},
            )
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidCharter(
                _("an amount is a positive whole number of minor units (cents)"),
                field=f"{where}.{currency}",
            )
    if charter.fund_small_amounts and not charter.with_power(Power.DISBURSE_SMALL):
        raise InvalidCharter(
            _("small amounts need a kind of decision that pays out small amounts from the fund"),
            field=where,
        )
    for power in SINGLE_POWERS:
        if len(charter.with_power(power)) > 1:
            raise InvalidCharter(
                _("only one kind of decision may have the power of %(power)s"),
                field="kinds",
                params={"power": Phrase(POWER_NAMES[power])},
            )


def _small_amounts(raw: Any) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("small_amount", {}), Mapping):
        raise InvalidCharter(
            _("the fund's small amounts map currency codes to amounts"), field="fund"
        )
    amounts = dict(raw.get("small_amount", {}))
    for currency, amount in amounts.items():
        _int(amount, f"fund.small_amount.{currency}")
    return amounts


def _validate_scope(kind: DecisionKind, where: str) -> None:
    if kind.scope is Scope.FEDERATION and kind.mode is None:
        raise InvalidCharter(
            _("a federation decision kind needs a mode: assembly or spokes"),
            field=f"{where}.mode",
        )
    if kind.scope is Scope.GROUP and kind.mode is not None:
        raise InvalidCharter(
            _("a group decision kind has no federation mode"), field=f"{where}.mode"
        )


def _validate_consensus(rule: ConsensusRule, where: str) -> None:
    if not 0 < rule.quorum <= 1:
        raise InvalidCharter(_("quorum must be more than 0 and at most 1"), field=f"{where}.quorum")
    if rule.blocks_to_stop < 1:
        raise InvalidCharter(
            _("at least one block must be able to stop a proposal"),
            field=f"{where}.blocks_to_stop",
        )
    if rule.period <= timedelta(0):
        raise InvalidCharter(_("the consensus period must be positive"), field=f"{where}.period")
    if not timedelta(0) <= rule.min_period <= rule.period:
        raise InvalidCharter(
            _("the shortest deadline must be between zero and the consensus period"),
            field=f"{where}.min_period",
        )


def _validate_vote(vote: VoteFallback, where: str) -> None:
    if vote.period <= timedelta(0):
        raise InvalidCharter(_("the voting period must be positive"), field=f"{where}.period")
    if not 0 <= vote.quorum <= 1:
        raise InvalidCharter(_("vote quorum must be between 0 and 1"), field=f"{where}.quorum")
    if vote.method is Method.MAJORITY and vote.threshold != Fraction(1, 2):
        raise InvalidCharter(
            _("simple majority means more than half; use supermajority for another threshold"),
            field=f"{where}.threshold",
        )
    if vote.method is Method.SUPERMAJORITY and not Fraction(1, 2) < vote.threshold <= 1:
        raise InvalidCharter(
            _("a supermajority threshold must be more than 1/2 and at most 1"),
            field=f"{where}.threshold",
        )
    if vote.method is Method.SCORE and not 1 <= vote.max_score <= 100:
        raise InvalidCharter(
            _("the top score must be between 1 and 100"), field=f"{where}.max_score"
        )
    if vote.secret and vote.method is Method.IRV:
        # Decision 0062: an instant-runoff ballot cannot be summed, so it cannot be
        # counted by tellers without revealing every ranking.
        raise InvalidCharter(
            _(
                "an instant-runoff vote cannot be secret: its ballots cannot be summed, "
                "so it is open-ballot only; use Schulze for a secret ranked vote"
            ),
            field=f"{where}.secret",
        )
    _validate_tellers(vote, where)


def _validate_tellers(fallback: VoteFallback | MandateFallback, where: str) -> None:
    if not 1 <= fallback.tellers <= MAX_TELLERS:
        raise InvalidCharter(
            _("a secret vote has between 1 and %(most)d tellers"),
            field=f"{where}.tellers",
            params={"most": MAX_TELLERS},
        )
    if not 1 <= fallback.tellers_needed <= fallback.tellers:
        raise InvalidCharter(
            _("the tellers needed to count must be at least 1 and at most the tellers"),
            field=f"{where}.tellers_needed",
        )


# Tellers each hold a share of a secret vote's key; more than a handful only adds work.
MAX_TELLERS = 15


def _validate_mandate(mandate: MandateFallback, where: str) -> None:
    _validate_tellers(mandate, where)
    periods = {
        "length": _("the mandate's length must be positive"),
        "volunteer_period": _("the time to volunteer must be positive"),
        "selection_period": _("the time to choose among volunteers must be positive"),
    }
    for name, message in periods.items():
        if getattr(mandate, name) <= timedelta(0):
            raise InvalidCharter(message, field=f"{where}.{name}")
    if not 0 < mandate.recall_share <= 1:
        raise InvalidCharter(
            _("the share of members that recalls a coordinator must be more than 0 and at most 1"),
            field=f"{where}.recall_share",
        )


def _validate_bounds(kind: DecisionKind, where: str) -> None:
    bounds = kind.group_bounds
    assert bounds is not None  # noqa: S101 - checked by the caller
    if kind.scope is not Scope.GROUP:
        raise InvalidCharter(
            _("only a group's kind of decision can leave room for the group's own rules"),
            field=where,
        )
    if not timedelta(0) < bounds.min_period <= kind.consensus.period <= bounds.max_period:
        raise InvalidCharter(
            _(
                "the shortest and longest consensus periods a group may choose must be "
                "positive and include the charter's own period"
            ),
            field=f"{where}.min_period",
        )
    if not 0 < bounds.min_quorum <= kind.consensus.quorum:
        raise InvalidCharter(
            _(
                "the lowest quorum a group may choose must be more than 0 and at most the "
                "charter's own quorum"
            ),
            field=f"{where}.min_quorum",
        )


def default_charter() -> Charter:
    """Return the charter a new federation starts with (amendable by federation decision)."""
    week = timedelta(days=7)
    return validate(
        Charter(
            kinds=(
                DecisionKind(
                    key="group-practice",
                    power=Power.TRANSFER,
                    name="How and when the group does its work",
                    scope=Scope.GROUP,
                    consensus=ConsensusRule(quorum=Fraction(1, 2), blocks_to_stop=1, period=week),
                    urgent_allowed=True,
                    fallback=VoteFallback(method=Method.SCHULZE, quorum=Fraction(1, 3)),
                    group_bounds=GroupBounds(
                        min_period=timedelta(days=1), max_period=timedelta(days=14)
                    ),
                ),
                DecisionKind(
                    key="group-quick-response",
                    name="A quick response by the group to a fast-moving situation",
                    scope=Scope.GROUP,
                    consensus=ConsensusRule(
                        quorum=Fraction(1, 2), blocks_to_stop=1, period=timedelta(days=2)
                    ),
                    urgent_allowed=True,
                    fallback=MandateFallback(),
                    group_bounds=GroupBounds(
                        min_period=timedelta(hours=6), max_period=timedelta(days=3)
                    ),
                ),
                DecisionKind(
                    key="group-coordinator",
                    power=Power.CHOOSE_COORDINATOR,
                    name="Choosing the group's coordinator",
                    scope=Scope.GROUP,
                    consensus=ConsensusRule(quorum=Fraction(2, 3), blocks_to_stop=1, period=week),
                ),
                DecisionKind(
                    key="group-rules",
                    power=Power.GROUP_RULES,
                    name="The group's own rules for its own matters",
                    scope=Scope.GROUP,
                    consensus=ConsensusRule(quorum=Fraction(2, 3), blocks_to_stop=1, period=week),
                ),
                DecisionKind(
                    key="remove-member",
                    power=Power.REMOVE_MEMBER,
                    name="Removing a member from the group",
                    scope=Scope.GROUP,
                    consensus=ConsensusRule(quorum=Fraction(1, 2), blocks_to_stop=1, period=week),
                    urgent_allowed=True,
                    fallback=VoteFallback(
                        method=Method.SUPERMAJORITY, threshold=Fraction(2, 3), quorum=Fraction(1, 2)
                    ),
                ),
                DecisionKind(
                    key="common-policy",
                    name="Common policy of the federation",
                    scope=Scope.FEDERATION,
                    mode=Mode.ASSEMBLY,
                    consensus=ConsensusRule(
                        quorum=Fraction(1, 3), blocks_to_stop=2, period=timedelta(days=14)
                    ),
                    urgent_allowed=True,
                    fallback=VoteFallback(
                        method=Method.SUPERMAJORITY, threshold=Fraction(2, 3), quorum=Fraction(1, 3)
                    ),
                ),
                DecisionKind(
                    key="admit-group",
                    power=Power.ADMIT_GROUP,
                    name="Admitting a group to the federation",
                    scope=Scope.FEDERATION,
                    mode=Mode.SPOKES,
                    consensus=ConsensusRule(
                        quorum=Fraction(1, 2), blocks_to_stop=1, period=timedelta(days=14)
                    ),
                ),
                DecisionKind(
                    key="disbursement",
                    power=Power.DISBURSE,
                    name="A disbursement from the common fund",
                    scope=Scope.FEDERATION,
                    mode=Mode.SPOKES,
                    consensus=ConsensusRule(quorum=Fraction(1, 2), blocks_to_stop=1, period=week),
                    urgent_allowed=True,
                    fallback=VoteFallback(
                        method=Method.MAJORITY,
                        quorum=Fraction(1, 2),
                        spokes_weight=SpokesWeight.ONE_PER_GROUP,
                    ),
                ),
                DecisionKind(
                    key="charter-amendment",
                    power=Power.AMEND_CHARTER,
                    name="Amending the charter",
                    scope=Scope.FEDERATION,
                    mode=Mode.ASSEMBLY,
                    consensus=ConsensusRule(
                        quorum=Fraction(1, 2), blocks_to_stop=1, period=timedelta(days=21)
                    ),
                ),
            ),
            discussion_retention_days=365,
        )
    )


def with_kind(charter: Charter, kind: DecisionKind) -> Charter:
    """Return a validated charter with ``kind`` added, or in place of the kind of its key."""
    if any(k.key == kind.key for k in charter.kinds):
        kinds = tuple(kind if k.key == kind.key else k for k in charter.kinds)
    else:
        kinds = (*charter.kinds, kind)
    return validate(replace(charter, kinds=kinds))


# --- plain-data conversion -------------------------------------------------------------


def _seconds(td: timedelta) -> int:
    return int(td.total_seconds())


def _fraction_str(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def _tellers_to_dict(fallback: VoteFallback | MandateFallback) -> dict[str, int]:
    # Written only when not the defaults, so that charters from before tellers existed
    # keep the same JSON (and digests); a charter without them reads the defaults.
    if (fallback.tellers, fallback.tellers_needed) == (3, 2):
        return {}
    return {"tellers": fallback.tellers, "tellers_needed": fallback.tellers_needed}


def _tellers_from_dict(raw: Mapping[str, Any], f: str) -> dict[str, int]:
    return {
        "tellers": _int(raw.get("tellers", 3), f"{f}.tellers"),
        "tellers_needed": _int(raw.get("tellers_needed", 2), f"{f}.tellers_needed"),
    }


def _kind_to_dict(kind: DecisionKind) -> dict[str, Any]:
    fallback: dict[str, Any] | None
    if isinstance(kind.fallback, VoteFallback):
        v = kind.fallback
        fallback = {
            "type": "vote",
            "method": v.method.value,
            "threshold": _fraction_str(v.threshold),
            "quorum": _fraction_str(v.quorum),
            "period_seconds": _seconds(v.period),
            "secret": v.secret,
            "max_score": v.max_score,
            "spokes_weight": v.spokes_weight.value,
            **_tellers_to_dict(v),
        }
    elif isinstance(kind.fallback, MandateFallback):
        m = kind.fallback
        fallback = {
            "type": "mandate",
            "length_seconds": _seconds(m.length),
            "selection": m.selection.value,
            "rotation": m.rotation.value,
            "volunteer_period_seconds": _seconds(m.volunteer_period),
            "selection_period_seconds": _seconds(m.selection_period),
            "recall_share": _fraction_str(m.recall_share),
            **_tellers_to_dict(m),
        }
    else:
        fallback = None
    return {
        "key": kind.key,
        "name": kind.name,
        "scope": kind.scope.value,
        "mode": kind.mode.value if kind.mode else None,
        "consensus": {
            "quorum": _fraction_str(kind.consensus.quorum),
            "blocks_to_stop": kind.consensus.blocks_to_stop,
            "period_seconds": _seconds(kind.consensus.period),
            "min_period_seconds": _seconds(kind.consensus.min_period),
        },
        "urgent_allowed": kind.urgent_allowed,
        "fallback": fallback,
        "meeting_confirmations": kind.meeting_confirmations,
        "power": kind.power.value if kind.power else None,
        **(
            {"group_bounds": _bounds_to_dict(kind.group_bounds)}
            if kind.group_bounds is not None
            else {}
        ),
    }


def _bounds_to_dict(bounds: GroupBounds) -> dict[str, Any]:
    return {
        "min_period_seconds": _seconds(bounds.min_period),
        "max_period_seconds": _seconds(bounds.max_period),
        "min_quorum": _fraction_str(bounds.min_quorum),
    }


def _bounds_from_dict(raw: Any, where: str) -> GroupBounds | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidCharter(_("this must be a set of named values"), field=where)
    return GroupBounds(
        min_period=timedelta(
            seconds=_int(raw["min_period_seconds"], f"{where}.min_period"),
        ),
        max_period=timedelta(
            seconds=_int(raw["max_period_seconds"], f"{where}.max_period"),
        ),
        min_quorum=_fraction(raw["min_quorum"], f"{where}.min_quorum"),
    )


def _fraction(value: Any, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidCharter(_("this must be a fraction such as 2/3"), field=name)
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise InvalidCharter(_("this must be a fraction such as 2/3"), field=name) from None


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCharter(_("this must be a whole number"), field=name)
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidCharter(_("this must be text"), field=name)
    return value


def _opt_int(value: Any, name: str) -> int | None:
    return None if value is None else _int(value, name)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidCharter(_("this must be true or false"), field=name)
    return value


def _enum(enum: type[StrEnum], value: Any, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidCharter(
            _("this must be one of: %(allowed)s"), field=name, params={"allowed": allowed}
        ) from None


def _kind_from_dict(data: Mapping[str, Any], index: int) -> DecisionKind:
    where = f"kinds.{data.get('key', index)}"
    consensus = data["consensus"]
    raw_fallback = data.get("fallback")
    fallback: Fallback | None = None
    if raw_fallback is not None:
        kind_of = raw_fallback.get("type")
        f = f"{where}.fallback"
        if kind_of == "vote":
            fallback = VoteFallback(
                method=_enum(Method, raw_fallback["method"], f"{f}.method"),
                threshold=_fraction(raw_fallback.get("threshold", "1/2"), f"{f}.threshold"),
                # One default, the dataclass's: a charter read from JSON without the
                # field means what the same charter built in Python means.
                quorum=_fraction(
                    raw_fallback.get("quorum", _fraction_str(VoteFallback.quorum)), f"{f}.quorum"
                ),
                period=timedelta(seconds=_int(raw_fallback["period_seconds"], f"{f}.period")),
                secret=_bool(raw_fallback.get("secret", True), f"{f}.secret"),
                max_score=_int(raw_fallback.get("max_score", 5), f"{f}.max_score"),
                spokes_weight=_enum(
                    SpokesWeight,
                    raw_fallback.get("spokes_weight", "one_per_group"),
                    f"{f}.spokes_weight",
                ),
                **_tellers_from_dict(raw_fallback, f),
            )
        elif kind_of == "mandate":
            fallback = MandateFallback(
                length=timedelta(seconds=_int(raw_fallback["length_seconds"], f"{f}.length")),
                selection=_enum(Selection, raw_fallback.get("selection", "lot"), f"{f}.selection"),
                rotation=_enum(
                    Rotation, raw_fallback.get("rotation", "previous_holder"), f"{f}.rotation"
                ),
                volunteer_period=timedelta(
                    seconds=_int(
                        raw_fallback.get("volunteer_period_seconds", 21600),
                        f"{f}.volunteer_period",
                    )
                ),
                selection_period=timedelta(
                    seconds=_int(
                        raw_fallback.get("selection_period_seconds", 21600),
                        f"{f}.selection_period",
                    )
                ),
                recall_share=_fraction(
                    raw_fallback.get("recall_share", "1/2"), f"{f}.recall_share"
                ),
                **_tellers_from_dict(raw_fallback, f),
            )
        else:
            raise InvalidCharter(
                _("the fallback's type must be vote or mandate"), field=f"{f}.type"
            )
    mode = data.get("mode")
    power = data.get("power")
    if consensus.get("min_period_seconds", 0) > consensus["period_seconds"]:
        # Written out, a shortest deadline beyond the period is a mistake to point at (built
        # in Python without one, a short period brings the default minimum down instead).
        raise InvalidCharter(
            _("the shortest deadline must be between zero and the consensus period"),
            field=f"{where}.consensus.min_period",
        )
    return DecisionKind(
        key=_text(data["key"], f"{where}.key"),
        name=_text(data["name"], f"{where}.name"),
        scope=_enum(Scope, data["scope"], f"{where}.scope"),
        mode=None if mode is None else _enum(Mode, mode, f"{where}.mode"),
        consensus=ConsensusRule(
            quorum=_fraction(consensus["quorum"], f"{where}.consensus.quorum"),
            blocks_to_stop=_int(consensus["blocks_to_stop"], f"{where}.consensus.blocks_to_stop"),
            period=timedelta(
                seconds=_int(consensus["period_seconds"], f"{where}.consensus.period")
            ),
            min_period=timedelta(
                seconds=_int(
                    consensus.get("min_period_seconds", 3600),
                    f"{where}.consensus.min_period",
                )
            ),
        ),
        urgent_allowed=_bool(data.get("urgent_allowed", False), f"{where}.urgent_allowed"),
        fallback=fallback,
        meeting_confirmations=_int(
            data.get("meeting_confirmations", 2), f"{where}.meeting_confirmations"
        ),
        power=None if power is None else _enum(Power, power, f"{where}.power"),
        group_bounds=_bounds_from_dict(data.get("group_bounds"), f"{where}.group_bounds"),
    )


# --- versions: naming one, and checking an amendment -------------------------------------------


def canonical_json(charter: Charter) -> str:
    """Return the charter's plain data as canonical JSON (sorted keys, no spaces, UTF-8).

    Its SHA-256 (:func:`digest`) names a version in the decision log; anyone can recompute
    it from the version's JSON, offline.
    """
    return json.dumps(charter.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(charter: Charter) -> str:
    """Return the SHA-256 hex digest of the charter's canonical JSON."""
    return hashlib.sha256(canonical_json(charter).encode("utf-8")).hexdigest()


def check_amendment(in_force: Charter, proposed: Charter) -> Charter:
    """Return ``proposed`` if it may replace ``in_force``; raise InvalidCharter otherwise.

    Besides being valid, it must change something, and keep a kind of decision that
    amends the charter: a federation must never vote away its power to amend.
    """
    validate(proposed)
    if not proposed.with_power(Power.AMEND_CHARTER):
        raise InvalidCharter(
            _("the charter must keep a kind of decision that amends it"), field="kinds"
        )
    if proposed == in_force:
        raise InvalidCharter(
            _("the proposed charter is the same as the charter in force"), field="charter"
        )
    return proposed


# --- a group's own rules, within the charter's bounds ---------------------------------------


@dataclass(frozen=True)
class GroupRule:
    """A group's own consensus parameters for one kind (None: the charter's)."""

    period: timedelta | None = None
    quorum: Fraction | None = None


@dataclass(frozen=True)
class GroupRules:
    """A group's own rules for its own matters: per kind key, what it sets for itself."""

    kinds: Mapping[str, GroupRule] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the rules as plain JSON-serialisable data (unset values left out)."""
        kinds: dict[str, Any] = {}
        for key, rule in sorted(self.kinds.items()):
            data: dict[str, Any] = {}
            if rule.period is not None:
                data["period_seconds"] = _seconds(rule.period)
            if rule.quorum is not None:
                data["quorum"] = _fraction_str(rule.quorum)
            if data:
                kinds[key] = data
        return {"kinds": kinds}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupRules:
        """Return the rules read from plain data; raise InvalidCharter naming the field."""
        if not isinstance(data, Mapping) or not isinstance(data.get("kinds", {}), Mapping):
            raise InvalidCharter(
                _("the group's rules are not in the expected shape"), field="rules"
            )
        kinds: dict[str, GroupRule] = {}
        for key, raw in data.get("kinds", {}).items():
            where = f"rules.{key}"
            if not isinstance(raw, Mapping):
                raise InvalidCharter(_("this must be a set of named values"), field=where)
            period = raw.get("period_seconds")
            quorum = raw.get("quorum")
            try:
                rule = GroupRule(
                    period=None
                    if period is None
                    else timedelta(seconds=_int(period, f"{where}.period")),
                    quorum=None if quorum is None else _fraction(quorum, f"{where}.quorum"),
                )
            except OverflowError:
                raise InvalidCharter(
                    _("this period is far too long"), field=f"{where}.period"
                ) from None
            if rule != GroupRule():
                kinds[str(key)] = rule
        return cls(kinds=kinds)


def period_in_bounds(kind: DecisionKind, period: timedelta) -> bool:
    """Return whether a group may set ``period`` as its own consensus period for ``kind``."""
    bounds = kind.group_bounds
    return bounds is not None and bounds.min_period <= period <= bounds.max_period


def quorum_in_bounds(kind: DecisionKind, quorum: Fraction) -> bool:
    """Return whether a group may set ``quorum`` as its own consensus quorum for ``kind``."""
    bounds = kind.group_bounds
    return bounds is not None and bounds.min_quorum <= quorum <= 1


def check_group_rules(charter: Charter, rules: GroupRules) -> GroupRules:
    """Return ``rules`` if ``charter`` allows them; raise InvalidCharter naming the field."""
    for key, rule in rules.kinds.items():
        where = f"rules.{key}"
        kind = next((k for k in charter.kinds if k.key == key), None)
        if kind is None:
            raise InvalidCharter(
                _("the charter has no decision kind %(key)r"), field=where, params={"key": key}
            )
        if kind.scope is not Scope.GROUP or kind.group_bounds is None:
            raise InvalidCharter(
                _("the charter leaves no room for a group's own rules on %(kind)s"),
                field=where,
                params={"kind": kind.name},
            )
        if rule.period is not None and not period_in_bounds(kind, rule.period):
            raise InvalidCharter(
                _("this consensus period is outside the bounds the charter sets for groups"),
                field=f"{where}.period",
            )
        if rule.quorum is not None and not quorum_in_bounds(kind, rule.quorum):
            raise InvalidCharter(
                _("this quorum is outside the bounds the charter sets for groups"),
                field=f"{where}.quorum",
            )
    return rules


def apply_group_rules(charter: Charter, rules: GroupRules) -> Charter:
    """Return the charter a group's proposals follow: ``charter`` with the group's own rules.

    A rule applies only within the bounds of ``charter`` itself: a value the federation
    has since put out of bounds (or a kind it no longer opens to groups) is ignored, and
    the charter's own value holds.
    """
    if not rules.kinds:
        return charter
    kinds = []
    for kind in charter.kinds:
        rule = rules.kinds.get(kind.key)
        if rule is not None and kind.scope is Scope.GROUP:
            consensus = kind.consensus
            if rule.period is not None and period_in_bounds(kind, rule.period):
                consensus = replace(consensus, period=rule.period)
            if rule.quorum is not None and quorum_in_bounds(kind, rule.quorum):
                consensus = replace(consensus, quorum=rule.quorum)
            kind = replace(kind, consensus=consensus)
        kinds.append(kind)
    return replace(charter, kinds=tuple(kinds))


# --- what an amendment changes -------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two charters: where it is, what it was, what it becomes.

    ``kind`` is the key of the decision kind (None: a federation-wide setting). ``path``
    names the parameter within it (``("consensus", "period")``); an empty path with
    ``old`` None is a kind added, with ``new`` None a kind removed. Values are the
    charter's own (timedelta, Fraction, enums, fallbacks): the web layer words them.
    """

    kind: str | None
    path: tuple[str, ...]
    old: Any
    new: Any

    @property
    def field(self) -> str:
        """Return the parameter's dotted name (``consensus.period``)."""
        return ".".join(self.path)


Difference = tuple[tuple[str, ...], Any, Any]


def _diff(path: tuple[str, ...], old: Any, new: Any) -> Iterator[Difference]:
    """Yield every leaf where ``old`` and ``new`` differ, walking dataclasses and mappings.

    Two values of the same dataclass are compared field by field (so a parameter added
    to the charter later shows up without teaching this function); values of different
    types (a vote fallback replaced by a mandate) are one difference.
    """
    if old == new:
        return
    if is_dataclass(old) and not isinstance(old, type) and type(old) is type(new):
        for f in fields(old):
            yield from _diff((*path, f.name), getattr(old, f.name), getattr(new, f.name))
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted({*old, *new}, key=str):
            yield from _diff((*path, str(key)), old.get(key), new.get(key))
        return
    yield path, old, new


def changes(old: Charter, new: Charter) -> list[Change]:
    """Return what replacing ``old`` by ``new`` changes, in charter order.

    Kinds are matched by key: first each kind of ``new`` (added, or its changed
    parameters), then the kinds ``new`` drops, then the federation-wide settings. The
    order of kinds is not a change.
    """
    found: list[Change] = []
    before = {k.key: k for k in old.kinds}
    after = {k.key: k for k in new.kinds}
    for kind in new.kinds:
        was = before.get(kind.key)
        if was is None:
            found.append(Change(kind.key, (), None, kind))
            continue
        found.extend(Change(kind.key, p, a, b) for p, a, b in _diff((), was, kind))
    found.extend(Change(k.key, (), k, None) for k in old.kinds if k.key not in after)
    for f in fields(Charter):
        if f.name != "kinds":
            found.extend(
                Change(None, p, a, b)
                for p, a, b in _diff((f.name,), getattr(old, f.name), getattr(new, f.name))
            )
    return found


def rules_changes(old: GroupRules, new: GroupRules) -> list[Change]:
    """Return what replacing a group's rules ``old`` by ``new`` changes, by kind key."""
    found: list[Change] = []
    for key in sorted({*old.kinds, *new.kinds}):
        was, now = old.kinds.get(key, GroupRule()), new.kinds.get(key, GroupRule())
        found.extend(Change(key, p, a, b) for p, a, b in _diff((), was, now))
    return found
