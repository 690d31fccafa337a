"""Forms that edit a whole charter, or a group's own rules, without JavaScript.

:class:`CharterForm` shows every kind's parameters as plain fields, filled with the
charter in force; what it gives back is the whole proposed charter, validated by the
domain. Parameters the form does not show (ones added to the charter later, say) are
carried over from the charter it started from, never lost. :class:`CharterJsonForm`
takes the whole charter as JSON instead, for what fields cannot say (adding a kind).
A refusal names the field: beside it in the form, by its path in the JSON.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from veche.apps.core.errors import translated
from veche.apps.federation import wording
from veche.domain.charter import (
    MAX_TELLERS,
    Charter,
    DecisionKind,
    GroupRule,
    GroupRules,
    MandateFallback,
    Mode,
    Scope,
    VoteFallback,
)
from veche.domain.errors import InvalidCharter, LedgerError
from veche.domain.ledger import minor_unit_exponent

MAX_JSON = 200_000
FALLBACK_NONE, FALLBACK_VOTE, FALLBACK_MANDATE = "none", "vote", "mandate"
UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
UNIT_LABELS = [
    ("days", _("days")),
    ("hours", _("hours")),
    ("minutes", _("minutes")),
    ("seconds", _("seconds")),
]


# --- fields -------------------------------------------------------------------------------------


class DurationWidget(forms.MultiWidget):
    """A number and a unit (days, hours, minutes), two plain controls."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            [
                forms.NumberInput(attrs={"min": "0", "step": "1", "class": "amount"}),
                forms.Select(choices=UNIT_LABELS),
            ],
            attrs,
        )

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        # Both controls are named by the field's one label (field.html gives it this id):
        # a screen reader says "Consensus period" on the number and on its unit.
        base = context["widget"]["attrs"].get("id")
        if base:
            for subwidget in context["widget"]["subwidgets"]:
                subwidget["attrs"]["aria-labelledby"] = f"{base}_label"
        return context

    def decompress(self, value: Any) -> list[Any]:
        if not isinstance(value, dt.timedelta):
            return [None, "days"]
        seconds = int(value.total_seconds())
        for unit, size in UNITS.items():
            if seconds % size == 0:
                return [seconds // size, unit]
        return [seconds, "seconds"]  # pragma: no cover - seconds always divide


class DurationField(forms.MultiValueField):
    """A period as a whole number of days, hours, minutes or seconds."""

    widget = DurationWidget
    default_error_messages = {  # noqa: RUF012 - Django's own attribute, merged up the MRO
        "invalid": _("Write a whole number and choose a unit."),
        "too_long": _("This period is far too long."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            fields=(
                forms.IntegerField(min_value=0, max_value=10**7),
                forms.ChoiceField(choices=UNIT_LABELS),
            ),
            require_all_fields=True,
            **kwargs,
        )

    def compress(self, data_list: list[Any]) -> dt.timedelta | None:
        if not data_list or data_list[0] is None:
            return None
        number, unit = data_list
        seconds = int(number) * UNITS[unit]
        if seconds > 10**9:
            raise forms.ValidationError(self.error_messages["too_long"], code="too_long")
        return dt.timedelta(seconds=seconds)


class ShareField(forms.Field):
    """A share, exact: a fraction ("2/3") or a percentage ("40%")."""

    widget = forms.TextInput(attrs={"maxlength": "20", "inputmode": "decimal"})
    default_error_messages = {  # noqa: RUF012 - Django's own attribute, merged up the MRO
        "invalid": _("Write a share as a fraction such as 2/3 or a percentage such as 40%."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", _("A fraction such as 2/3, or a percentage such as 40%."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return wording.share(value) if isinstance(value, Fraction) else value

    def to_python(self, value: Any) -> Fraction | None:
        text = str(value or "").strip().replace(",", ".").replace(" ", "")
        if not text:
            return None
        if len(text) > 20:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            share = Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return share


def _choices(labels: dict[Any, Any]) -> list[tuple[str, Any]]:
    return [(key.value, label) for key, label in labels.items()]


def _fallback_choice(kind: DecisionKind) -> str:
    if isinstance(kind.fallback, VoteFallback):
        return FALLBACK_VOTE
    if isinstance(kind.fallback, MandateFallback):
        return FALLBACK_MANDATE
    return FALLBACK_NONE


def _teller_specs(
    prefix: str, fallback: VoteFallback | MandateFallback
) -> list[tuple[str, forms.Field, Any, str]]:
    """The two numbers of a secret vote's count: tellers drawn, and how many must count."""
    return [
        (
            f"{prefix}_tellers",
            forms.IntegerField(
                label=wording.FIELD_LABELS["fallback.tellers"], min_value=1, max_value=MAX_TELLERS,
                required=False,
            ),
            fallback.tellers,
            "fallback.tellers",
        ),
        (
            f"{prefix}_tellers_needed",
            forms.IntegerField(
                label=wording.FIELD_LABELS["fallback.tellers_needed"], min_value=1,
                max_value=MAX_TELLERS, required=False,
            ),
            fallback.tellers_needed,
            "fallback.tellers_needed",
        ),
    ]  # fmt: skip


@dataclass
class Section:
    """One kind's fields in the charter form, grouped as the page shows them."""

    key: str
    name: str
    main: list[forms.BoundField]
    vote: list[forms.BoundField]
    mandate: list[forms.BoundField]
    bounds: list[forms.BoundField]

    @property
    def has_errors(self) -> bool:
        """Return whether any of its fields was refused (the page opens it)."""
        return any(f.errors for f in (*self.main, *self.vote, *self.mandate, *self.bounds))


# --- the whole charter, as fields ---------------------------------------------------------


class CharterForm(forms.Form):
    """Every kind's parameters, starting from ``base``; :meth:`charter` gives the result.

    Field names are ``k<i>-<parameter>`` for the i-th kind of ``base`` and ``f-<setting>``
    for the federation-wide settings. Kinds are not added, removed or re-keyed here, and
    their scope and power stay (that is the JSON form's work).
    """

    def __init__(self, *args: Any, base: Charter, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = base
        self.sections: list[Section] = []
        # Where each path of the domain's refusals is shown.
        self.paths: dict[str, str] = {}
        for i, kind in enumerate(base.kinds):
            self._add_kind(i, kind)
        self._add_federation()
        self._charter: Charter | None = None

    # --- building ---

    def _field(self, name: str, field: forms.Field, initial: Any, path: str = "") -> str:
        field.initial = initial
        self.fields[name] = field
        if path:
            self.paths[path] = name
        return name

    def _add_kind(self, i: int, kind: DecisionKind) -> None:
        p, where = f"k{i}-", f"kinds.{kind.key}"
        spokes = kind.scope is Scope.FEDERATION and kind.mode is Mode.SPOKES
        vote = kind.fallback if isinstance(kind.fallback, VoteFallback) else VoteFallback()
        mandate = kind.fallback if isinstance(kind.fallback, MandateFallback) else MandateFallback()
        rule = kind.consensus
        main: list[tuple[str, forms.Field, Any, str]] = [
            ("name", forms.CharField(label=_("Name"), max_length=200), kind.name, "name"),
        ]
        if kind.scope is Scope.FEDERATION:
            mode = forms.ChoiceField(label=_("Who decides"), choices=_choices(wording.MODE_LABELS))
            main.append(("mode", mode, kind.mode.value if kind.mode else "", "mode"))
        fallbacks = [(FALLBACK_NONE, _("none")), (FALLBACK_VOTE, _("a vote"))]
        if not spokes:
            fallbacks.append((FALLBACK_MANDATE, _("a temporary coordinator")))
        main += [
            (
                "quorum",
                ShareField(label=_("Consensus quorum: share who must respond")),
                rule.quorum,
                "consensus.quorum",
            ),
            (
                "blocks",
                forms.IntegerField(label=_("Blocks that stop it"), min_value=1, max_value=10_000),
                rule.blocks_to_stop,
                "consensus.blocks_to_stop",
            ),
            (
                "period",
                DurationField(label=_("Consensus period (the longest deadline)")),
                rule.period,
                "consensus.period",
            ),
            (
                "min_period",
                DurationField(label=_("Shortest deadline an author may set")),
                rule.min_period,
                "consensus.min_period",
            ),
            (
                "meeting",
                forms.IntegerField(
                    label=_("Members present who must confirm a meeting record"),
                    min_value=1,
                    max_value=10_000,
                ),
                kind.meeting_confirmations,
                "meeting_confirmations",
            ),
            (
                "urgent",
                forms.BooleanField(label=_("May be urgent"), required=False),
                kind.urgent_allowed,
                "urgent_allowed",
            ),
            (
                "fallback",
                forms.ChoiceField(
                    label=_("If urgent and without consensus at the deadline"), choices=fallbacks
                ),
                _fallback_choice(kind),
                "fallback",
            ),
        ]
        votes: list[tuple[str, forms.Field, Any, str]] = [
            (
                "vote_method",
                forms.ChoiceField(label=_("Method"), choices=_choices(wording.METHOD_LABELS)),
                vote.method.value,
                "fallback.method",
            ),
            (
                "vote_threshold",
                ShareField(label=_("Share of votes needed (supermajority)"), required=False),
                vote.threshold,
                "fallback.threshold",
            ),
            (
                "vote_quorum",
                ShareField(label=_("Quorum: share who must vote"), required=False),
                vote.quorum,
                "fallback.quorum",
            ),
            (
                "vote_period",
                DurationField(label=_("How long the vote lasts"), required=False),
                vote.period,
                "fallback.period",
            ),
            (
                "vote_secret",
                forms.BooleanField(label=_("Secret ballot"), required=False),
                vote.secret,
                "fallback.secret",
            ),
            (
                "vote_max_score",
                forms.IntegerField(
                    label=_("Top score (score voting)"),
                    min_value=1,
                    max_value=100,
                    required=False,
                ),
                vote.max_score,
                "fallback.max_score",
            ),
            *_teller_specs("vote", vote),
        ]
        if spokes:
            weight = forms.ChoiceField(
                label=_("How a group's ballot counts"), choices=_choices(wording.WEIGHT_LABELS)
            )
            votes.append(
                ("vote_weight", weight, vote.spokes_weight.value, "fallback.spokes_weight")
            )
        mandates: list[tuple[str, forms.Field, Any, str]] = []
        if not spokes:
            mandates = [
                (
                    "mandate_selection",
                    forms.ChoiceField(
                        label=_("Chosen by"), choices=_choices(wording.SELECTION_LABELS)
                    ),
                    mandate.selection.value,
                    "fallback.selection",
                ),
                (
                    "mandate_volunteer",
                    DurationField(label=_("Time to volunteer"), required=False),
                    mandate.volunteer_period,
                    "fallback.volunteer_period",
                ),
                (
                    "mandate_selection_period",
                    DurationField(
                        label=_("Time to vote among volunteers (when chosen by vote)"),
                        required=False,
                    ),
                    mandate.selection_period,
                    "fallback.selection_period",
                ),
                (
                    "mandate_length",
                    DurationField(label=_("Length of the mandate"), required=False),
                    mandate.length,
                    "fallback.length",
                ),
                (
                    "mandate_rotation",
                    forms.ChoiceField(
                        label=_("Rotation"), choices=_choices(wording.ROTATION_LABELS)
                    ),
                    mandate.rotation.value,
                    "fallback.rotation",
                ),
                (
                    "mandate_recall",
                    ShareField(label=_("Share of members that recalls"), required=False),
                    mandate.recall_share,
                    "fallback.recall_share",
                ),
                *_teller_specs("mandate", mandate),
            ]
        bounds: list[tuple[str, forms.Field, Any, str]] = []
        if kind.scope is Scope.GROUP:
            b = kind.group_bounds
            bounds = [
                (
                    "bounds",
                    forms.BooleanField(
                        label=_("A group may set its own consensus period and quorum"),
                        required=False,
                    ),
                    b is not None,
                    "group_bounds",
                ),
                (
                    "bounds_min_period",
                    DurationField(label=_("Shortest period a group may set"), required=False),
                    b.min_period if b else None,
                    "group_bounds.min_period",
                ),
                (
                    "bounds_max_period",
                    DurationField(label=_("Longest period a group may set"), required=False),
                    b.max_period if b else None,
                    "group_bounds.max_period",
                ),
                (
                    "bounds_min_quorum",
                    ShareField(label=_("Lowest quorum a group may set"), required=False),
                    b.min_quorum if b else None,
                    "group_bounds.min_quorum",
                ),
            ]

        def add(specs: list[tuple[str, forms.Field, Any, str]]) -> list[forms.BoundField]:
            names = [
                self._field(p + name, field, initial, f"{where}.{path}")
                for name, field, initial, path in specs
            ]
            return [self[name] for name in names]

        self.sections.append(
            Section(
                key=kind.key,
                name=wording.kind_name(kind),
                main=add(main),
                vote=add(votes),
                mandate=add(mandates),
                bounds=add(bounds),
            )
        )

    def _add_federation(self) -> None:
        base = self.base
        amounts = "\n".join(
            wording.money(amount, currency)
            for currency, amount in sorted(base.fund_small_amounts.items())
        )
        f = self._field
        names = [
            f("f-retention", forms.IntegerField(
                label=_("Days after which discussions may be deleted (empty: keep them)"),
                required=False, min_value=1, max_value=100_000),
              base.discussion_retention_days, "discussion_retention_days"),
            f("f-show_coordinators", forms.BooleanField(
                label=_("Name coordinators (by pseudonym) on federation pages"), required=False),
              base.show_coordinators, "show_coordinators"),
            f("f-small_amounts", forms.CharField(
                label=_("Small amounts decided by the smaller body, one per line"),
                help_text=_("A currency code and an amount, such as EUR 500. Empty: none."),
                required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})),
              amounts, "fund"),
        ]  # fmt: skip
        self.federation_fields = [self[name] for name in names]

    # --- reading ---

    def _get(self, name: str) -> Any:
        return self.cleaned_data.get(name)

    def _tellers(self, prefix: str) -> dict[str, int]:
        # Left empty, a number keeps what the charter had (or the default).
        found = {key: self._get(f"{prefix}_{key}") for key in ("tellers", "tellers_needed")}
        return {key: value for key, value in found.items() if value is not None}

    def _kind_data(self, i: int, kind: DecisionKind, data: dict[str, Any]) -> dict[str, Any]:
        p = f"k{i}-"
        g = self._get
        data["name"] = g(p + "name")
        if p + "mode" in self.fields:
            data["mode"] = g(p + "mode")
        consensus = data["consensus"]
        consensus["quorum"] = _fraction_text(g(p + "quorum"))
        consensus["blocks_to_stop"] = g(p + "blocks")
        consensus["period_seconds"] = _seconds(g(p + "period"))
        consensus["min_period_seconds"] = _seconds(g(p + "min_period"))
        data["meeting_confirmations"] = g(p + "meeting")
        data["urgent_allowed"] = bool(g(p + "urgent"))
        choice = g(p + "fallback")
        old = data.get("fallback") or {}
        if choice == FALLBACK_VOTE:
            fallback = dict(old) if old.get("type") == "vote" else {"type": "vote"}
            fallback.update(
                method=g(p + "vote_method"),
                threshold=_fraction_text(g(p + "vote_threshold")),
                quorum=_fraction_text(g(p + "vote_quorum")),
                period_seconds=_seconds(g(p + "vote_period")),
                secret=bool(g(p + "vote_secret")),
                max_score=g(p + "vote_max_score"),
            )
            fallback.update(self._tellers(p + "vote"))
            if p + "vote_weight" in self.fields:
                fallback["spokes_weight"] = g(p + "vote_weight")
            data["fallback"] = fallback
        elif choice == FALLBACK_MANDATE:
            fallback = dict(old) if old.get("type") == "mandate" else {"type": "mandate"}
            fallback.update(
                selection=g(p + "mandate_selection"),
                volunteer_period_seconds=_seconds(g(p + "mandate_volunteer")),
                selection_period_seconds=_seconds(g(p + "mandate_selection_period")),
                length_seconds=_seconds(g(p + "mandate_length")),
                rotation=g(p + "mandate_rotation"),
                recall_share=_fraction_text(g(p + "mandate_recall")),
            )
            fallback.update(self._tellers(p + "mandate"))
            data["fallback"] = fallback
        else:
            data["fallback"] = None
        if p + "bounds" in self.fields:
            if g(p + "bounds"):
                data["group_bounds"] = {
                    "min_period_seconds": _seconds(g(p + "bounds_min_period")),
                    "max_period_seconds": _seconds(g(p + "bounds_max_period")),
                    "min_quorum": _fraction_text(g(p + "bounds_min_quorum")),
                }
            else:
                data.pop("group_bounds", None)
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        data = copy.deepcopy(self.base.to_dict())
        for i, kind in enumerate(self.base.kinds):
            self._kind_data(i, kind, data["kinds"][i])
        data["discussion_retention_days"] = cleaned.get("f-retention")
        data["show_coordinators"] = bool(cleaned.get("f-show_coordinators"))
        try:
            amounts = parse_small_amounts(cleaned.get("f-small_amounts") or "")
        except forms.ValidationError as error:
            self.add_error("f-small_amounts", error)
            return cleaned
        data.pop("fund", None)
        if amounts:
            data["fund"] = {"small_amount": amounts}
        try:
            self._charter = Charter.from_dict(data)
        except InvalidCharter as error:
            self.add_charter_error(error)
        return cleaned

    def add_charter_error(self, error: InvalidCharter) -> None:
        """Show a refusal of the domain beside the field it names (or above the form)."""
        name = self._field_for(error.field or "")
        if name is not None and name in self.fields:
            self.add_error(name, translated(error))
        else:
            self.add_error(None, f"{error.field}: {translated(error)}" if error.field else
                           translated(error))  # fmt: skip

    def _field_for(self, path: str) -> str | None:
        while path:
            if path in self.paths:
                return self.paths[path]
            path = path.rpartition(".")[0]
        return None

    def charter(self) -> Charter:
        """Return the proposed charter (after ``is_valid()``)."""
        assert self._charter is not None  # noqa: S101 - only called on a valid form
        return self._charter


def _seconds(value: dt.timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _fraction_text(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def parse_small_amounts(text: str) -> dict[str, int]:
    """Return "EUR 500" lines as minor units per currency; raise ValidationError naming the line."""
    amounts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        bad = forms.ValidationError(
            _("Line %(n)d: write a currency code and an amount, such as EUR 500."),
            params={"n": number},
            code="invalid",
        )
        if len(parts) != 2:
            raise bad
        currency, raw = parts[0].upper(), parts[1].replace(",", ".")
        try:
            places = minor_unit_exponent(currency)
            minor = Decimal(raw).scaleb(places)
        except (LedgerError, InvalidOperation):
            raise bad from None
        if minor != minor.to_integral_value() or minor <= 0 or not minor.is_finite():
            raise bad
        amounts[currency] = int(minor)
    return amounts


# --- the whole charter, as JSON -------------------------------------------------------------


class CharterJsonForm(forms.Form):
    """The whole proposed charter as JSON (the shape ``veche.domain.charter`` reads)."""

    charter_json = forms.CharField(
        label=_("The whole charter, as JSON"),
        max_length=MAX_JSON,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
        help_text=_("The charter in force is filled in; change what you propose to change."),
    )

    def __init__(self, *args: Any, base: Charter, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"charter_json": json.dumps(base.to_dict(), indent=2,
                                                                 ensure_ascii=False)})  # fmt: skip
        super().__init__(*args, **kwargs)
        self._charter: Charter | None = None

    def clean_charter_json(self) -> str:
        text: str = self.cleaned_data["charter_json"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)d, column %(column)d)."),
                params={"line": error.lineno, "column": error.colno},
                code="invalid",
            ) from None
        try:
            if not isinstance(data, dict):
                raise InvalidCharter(_("the charter is not in the expected shape"), field="charter")
            self._charter = Charter.from_dict(data)
        except InvalidCharter as error:
            where = f"{error.field}: " if error.field else ""
            raise forms.ValidationError(where + translated(error), code="invalid") from None
        return text

    def add_charter_error(self, error: InvalidCharter) -> None:
        """Show a refusal of the domain, with the path of the field it names."""
        where = f"{error.field}: " if error.field else ""
        self.add_error("charter_json", where + translated(error))

    def charter(self) -> Charter:
        """Return the proposed charter (after ``is_valid()``)."""
        assert self._charter is not None  # noqa: S101 - only called on a valid form
        return self._charter


# --- a group's own rules -------------------------------------------------------------------


class GroupRulesForm(forms.Form):
    """A group's own consensus period and quorum for each kind the charter opens to groups."""

    def __init__(self, *args: Any, charter: Charter, current: GroupRules, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.charter = charter
        self.rows: list[dict[str, Any]] = []
        self.paths: dict[str, str] = {}
        for i, kind in enumerate(charter.kinds):
            bounds = kind.group_bounds
            if kind.scope is not Scope.GROUP or bounds is None:
                continue
            rule = current.kinds.get(kind.key, GroupRule())
            period, quorum = f"r{i}-period", f"r{i}-quorum"
            self.fields[period] = DurationField(
                label=_("Consensus period"),
                required=False,
                initial=rule.period,
                help_text=_("From %(min)s to %(max)s; empty: the charter's, %(charter)s.")
                % {
                    "min": wording.duration(bounds.min_period),
                    "max": wording.duration(bounds.max_period),
                    "charter": wording.duration(kind.consensus.period),
                },
            )
            self.fields[quorum] = ShareField(
                label=_("Consensus quorum"),
                required=False,
                initial=rule.quorum,
                help_text=_("At least %(min)s; empty: the charter's, %(charter)s.")
                % {
                    "min": wording.share(bounds.min_quorum),
                    "charter": wording.share(kind.consensus.quorum),
                },
            )
            self.paths[f"rules.{kind.key}.period"] = period
            self.paths[f"rules.{kind.key}.quorum"] = quorum
            self.rows.append(
                {
                    "key": kind.key,
                    "name": wording.kind_name(kind),
                    "fields": [self[period], self[quorum]],
                }
            )

    def rules(self) -> GroupRules:
        """Return the proposed rules (after ``is_valid()``)."""
        kinds = {}
        for i, kind in enumerate(self.charter.kinds):
            if f"r{i}-period" not in self.fields:
                continue
            rule = GroupRule(
                period=self.cleaned_data.get(f"r{i}-period"),
                quorum=self.cleaned_data.get(f"r{i}-quorum"),
            )
            if rule != GroupRule():
                kinds[kind.key] = rule
        return GroupRules(kinds)

    def add_rules_error(self, error: InvalidCharter) -> None:
        """Show a refusal of the domain beside the field it names (or above the form)."""
        name = self.paths.get(error.field or "")
        self.add_error(name, translated(error))
