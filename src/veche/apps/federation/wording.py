"""The charter in plain words, in the member's language: its kinds, and what an amendment changes.

The domain says *what* a charter holds and *what* an amendment changes
(``veche.domain.charter.changes``); this says it in sentences members read, through
gettext. A parameter added to the charter later is still shown (under its technical
name) until it is given words here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from veche.apps.core import labels
from veche.apps.core.labels import METHOD_LABELS
from veche.domain.charter import (
    Change,
    Charter,
    DecisionKind,
    GroupBounds,
    MandateFallback,
    Mode,
    Power,
    Rotation,
    Scope,
    Selection,
    SpokesWeight,
    VoteFallback,
)
from veche.domain.errors import LedgerError
from veche.domain.ledger import minor_unit_exponent
from veche.domain.voting import Method

SELECTION_LABELS = {
    Selection.LOT: gettext_lazy("lot among volunteers"),
    Selection.VOTE: gettext_lazy("vote among volunteers"),
}
ROTATION_LABELS = {
    Rotation.PREVIOUS_HOLDER: gettext_lazy("whoever held the previous mandate sits this one out"),
    Rotation.UNTIL_ALL_SERVED: gettext_lazy("nobody serves again until every volunteer has served"),
}
MODE_LABELS = {
    Mode.ASSEMBLY: gettext_lazy("every member of every group directly"),
    Mode.SPOKES: gettext_lazy("each group's position, carried by its coordinator"),
}
WEIGHT_LABELS = {
    SpokesWeight.ONE_PER_GROUP: gettext_lazy("one ballot per group"),
    SpokesWeight.BY_SIZE: gettext_lazy("each group's ballot weighted by its size"),
}
SCOPE_LABELS = {
    Scope.GROUP: gettext_lazy("each group's own matter"),
    Scope.FEDERATION: gettext_lazy("the federation's matter"),
}
POWER_LABELS = {
    Power.ADMIT_GROUP: gettext_lazy("Once adopted, the group it names joins the federation."),
    Power.CHOOSE_COORDINATOR: gettext_lazy(
        "Once adopted, the member it names becomes a coordinator of the group."
    ),
    Power.DISBURSE: gettext_lazy("Once adopted, the common fund pays the request."),
    Power.DISBURSE_SMALL: gettext_lazy(
        "Once adopted, the common fund pays the request (small amounts only)."
    ),
    Power.TRANSFER: gettext_lazy(
        "Once adopted, money may move from the group's account to another group's."
    ),
    Power.AMEND_CHARTER: gettext_lazy(
        "Once adopted, the charter it carries comes into force as a new version."
    ),
    Power.REMOVE_MEMBER: gettext_lazy("Once adopted, the member it names leaves the group."),
    Power.GROUP_RULES: gettext_lazy(
        "Once adopted, the group's own rules it carries come into force for the group."
    ),
}
# What each parameter is called in a list of changes, by its dotted path in the charter.
FIELD_LABELS = {
    "name": gettext_lazy("name"),
    "scope": gettext_lazy("whose matter it is"),
    "mode": gettext_lazy("who decides"),
    "power": gettext_lazy("what adopting it does"),
    "consensus.quorum": gettext_lazy("consensus quorum"),
    "consensus.blocks_to_stop": gettext_lazy("blocks that stop it"),
    "consensus.period": gettext_lazy("consensus period"),
    "consensus.min_period": gettext_lazy("shortest deadline"),
    "urgent_allowed": gettext_lazy("may be urgent"),
    "fallback": gettext_lazy("fallback when urgent"),
    "fallback.method": gettext_lazy("urgent vote: method"),
    "fallback.threshold": gettext_lazy("urgent vote: share needed to adopt"),
    "fallback.quorum": gettext_lazy("urgent vote: quorum"),
    "fallback.period": gettext_lazy("urgent vote: how long it lasts"),
    "fallback.secret": gettext_lazy("urgent vote: secret ballot"),
    "fallback.max_score": gettext_lazy("urgent vote: top score"),
    "fallback.spokes_weight": gettext_lazy("urgent vote: how a group's ballot counts"),
    "fallback.tellers": gettext_lazy("secret vote: tellers drawn by lot"),
    "fallback.tellers_needed": gettext_lazy("secret vote: tellers needed to count it"),
    "fallback.length": gettext_lazy("temporary coordinator: length of the mandate"),
    "fallback.selection": gettext_lazy("temporary coordinator: chosen by"),
    "fallback.rotation": gettext_lazy("temporary coordinator: rotation"),
    "fallback.volunteer_period": gettext_lazy("temporary coordinator: time to volunteer"),
    "fallback.selection_period": gettext_lazy(
        "temporary coordinator: time to vote among volunteers"
    ),
    "fallback.recall_share": gettext_lazy("temporary coordinator: share that recalls"),
    "meeting_confirmations": gettext_lazy("confirmations a meeting record needs"),
    "group_bounds": gettext_lazy("room for a group's own rules"),
    "group_bounds.min_period": gettext_lazy("groups' shortest consensus period"),
    "group_bounds.max_period": gettext_lazy("groups' longest consensus period"),
    "group_bounds.min_quorum": gettext_lazy("groups' lowest consensus quorum"),
    "discussion_retention_days": gettext_lazy("discussions kept"),
    "show_coordinators": gettext_lazy("coordinators named on federation pages"),
    # A group's own rules.
    "period": gettext_lazy("consensus period"),
    "quorum": gettext_lazy("consensus quorum"),
}
ENUM_LABELS: dict[type, dict[Any, Any]] = {
    Method: METHOD_LABELS,
    Selection: SELECTION_LABELS,
    Rotation: ROTATION_LABELS,
    Mode: MODE_LABELS,
    SpokesWeight: WEIGHT_LABELS,
    Scope: SCOPE_LABELS,
}


# --- values ---------------------------------------------------------------------------------


def kind_name(kind: DecisionKind) -> str:
    """Return a kind's name as members read it (the labels of core, one place)."""
    return labels.kind_name(kind) if kind.name else kind.key


def duration(period: dt.timedelta) -> str:
    """Return a period as members say it: "14 days", "1 day 12 hours", "90 minutes"."""
    seconds = int(period.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    if secs or not parts:
        parts.append(ngettext("%(n)d second", "%(n)d seconds", secs) % {"n": secs})
    return " ".join(parts)


def share(value: Fraction) -> str:
    """Return a share exactly: a whole percentage ("50%") or a fraction ("2/3")."""
    percent = value * 100
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    return f"{value.numerator}/{value.denominator}"


def money(amount: int, currency: str) -> str:
    """Return an amount in minor units as "EUR 500.00" (the code as is if unknown)."""
    try:
        places = minor_unit_exponent(currency)
    except LedgerError:
        return f"{currency} {amount}"
    return f"{currency} {Decimal(amount).scaleb(-places):.{places}f}"


def fallback_words(fallback: VoteFallback | MandateFallback | None) -> str:
    """Return a fallback in a few words: "a vote (simple majority)"."""
    if isinstance(fallback, VoteFallback):
        return _("a vote by %(method)s") % {"method": METHOD_LABELS[fallback.method]}
    if isinstance(fallback, MandateFallback):
        return _("a temporary coordinator chosen by %(how)s") % {
            "how": SELECTION_LABELS[fallback.selection]
        }
    return _("none")


def bounds_words(bounds: GroupBounds | None) -> str:
    """Return the room a kind leaves for a group's own rules, in a few words."""
    if bounds is None:
        return _("none")
    return _("consensus period from %(min)s to %(max)s, quorum at least %(quorum)s") % {
        "min": duration(bounds.min_period),
        "max": duration(bounds.max_period),
        "quorum": share(bounds.min_quorum),
    }


def value_words(field: str, value: Any) -> str:
    """Return one value of the charter in words, knowing which parameter it is."""
    if field == "discussion_retention_days":
        if value is None:
            return _("for ever")
        return ngettext("%(n)d day", "%(n)d days", value) % {"n": value}
    if field == "power":
        return str(POWER_LABELS[value]) if value is not None else _("only recorded")
    if field in ("period", "quorum") and value is None:
        return _("the charter's")
    if value is None:
        return _("none")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.timedelta):
        return duration(value)
    if isinstance(value, Fraction):
        return share(value)
    if isinstance(value, StrEnum):
        labels = ENUM_LABELS.get(type(value), {})
        return str(labels.get(value, value.value))
    if isinstance(value, VoteFallback | MandateFallback):
        return fallback_words(value)
    if isinstance(value, GroupBounds):
        return bounds_words(value)
    return str(value)


# --- a decision kind in sentences ------------------------------------------------------------


def who_decides(kind: DecisionKind) -> str:
    """Return who decides a kind, as one sentence."""
    if kind.scope is Scope.GROUP:
        return _("Each group decides for itself: every member of the group takes part.")
    if kind.mode is Mode.SPOKES:
        return _(
            "The federation decides through its groups: each group forms its position and "
            "its coordinator carries it."
        )
    return _("The federation decides: every member of every group takes part directly.")


def consensus_words(kind: DecisionKind) -> str:
    """Return how consensus is sought on a kind, as sentences."""
    rule = kind.consensus
    blocks = ngettext("%(n)d block stops it.", "%(n)d blocks stop it.", rule.blocks_to_stop) % {
        "n": rule.blocks_to_stop
    }
    values = {"period": duration(rule.period), "quorum": share(rule.quorum), "blocks": blocks}
    if kind.scope is Scope.FEDERATION and kind.mode is Mode.SPOKES:
        return (
            _(
                "Consensus is sought for up to %(period)s and needs the positions of at least "
                "%(quorum)s of the groups; %(blocks)s"
            )
            % values
        )
    return (
        _(
            "Consensus is sought for up to %(period)s and needs responses from at least "
            "%(quorum)s of those who decide; %(blocks)s"
        )
        % values
    )


def deadline_words(kind: DecisionKind) -> str:
    """Return the shortest deadline an author may set."""
    return _("An author may set an earlier deadline, no sooner than %(min)s after opening.") % {
        "min": duration(kind.consensus.min_period)
    }


def urgency_words(kind: DecisionKind) -> list[str]:
    """Return what happens to an urgent proposal without consensus at its deadline.

    One set of sentences for every page that says it (the rules page, the new-proposal
    form, a proposal's "At the deadline"): every figure is the charter's.
    """
    fallback = kind.fallback
    if not kind.urgent_allowed or fallback is None:
        return [_("It cannot be urgent: without consensus by the deadline, it is not adopted.")]
    if isinstance(fallback, VoteFallback):
        return _vote_words(
            fallback, spokes=kind.scope is Scope.FEDERATION and kind.mode is Mode.SPOKES
        )
    return _mandate_words(fallback)


def _vote_words(fallback: VoteFallback, *, spokes: bool) -> list[str]:
    # A group's coordinator casts its group's ballot in the open: its members may see it.
    secret = fallback.secret and not spokes
    lines = [
        _(
            "If it is urgent and there is no consensus by the deadline, it goes to a "
            "%(ballot)s vote by %(method)s, open for %(period)s."
        )
        % {
            "ballot": _("secret") if secret else _("open"),
            "method": METHOD_LABELS[fallback.method],
            "period": duration(fallback.period),
        }
    ]
    if fallback.method is Method.MAJORITY:
        lines.append(
            _("It is adopted if more than half of the ballots, abstentions aside, are for it.")
        )
    elif fallback.method is Method.SUPERMAJORITY:
        lines.append(
            _(
                "It is adopted if at least %(threshold)s of the ballots, abstentions aside, "
                "are for it."
            )
            % {"threshold": share(fallback.threshold)}
        )
    else:
        lines.append(
            _(
                "The option the count puts first wins; if it is “do not adopt” (or "
                "“none of these”), nothing is adopted."
            )
        )
    if fallback.method is Method.SCORE:
        lines.append(_("Each option gets a score from 0 to %(n)d.") % {"n": fallback.max_score})
    if secret:
        lines.append(
            _(
                "Ballots are encrypted as they are cast; %(n)d tellers drawn by lot count "
                "them, and the vote is counted once %(k)d of them have signed in after it "
                "closes (fewer in a smaller body)."
            )
            % {"n": fallback.tellers, "k": fallback.tellers_needed}
        )
    if spokes:
        lines.append(
            _("Groups vote, each by its coordinator: %(weight)s.")
            % {"weight": WEIGHT_LABELS[fallback.spokes_weight]}
        )
    if fallback.quorum > 0:
        lines.append(
            _("The vote counts only if at least %(quorum)s of those who may vote cast a ballot.")
            % {"quorum": share(fallback.quorum)}
        )
    else:
        lines.append(_("No quorum is needed for the vote."))
    return lines


def _mandate_words(fallback: MandateFallback) -> list[str]:
    how = (
        _("by lot")
        if fallback.selection is Selection.LOT
        else _("by a vote, open for %(period)s (a lot breaks a tie)")
        % {"period": duration(fallback.selection_period)}
    )
    return [
        _(
            "If it is urgent and there is no consensus by the deadline, members may volunteer "
            "for %(volunteer)s; a temporary coordinator is then chosen among them %(how)s."
        )
        % {"volunteer": duration(fallback.volunteer_period), "how": how},
        _(
            "The mandate lasts %(length)s and covers only the matters the proposal names; "
            "support from %(share)s of the members recalls the coordinator at once."
        )
        % {"length": duration(fallback.length), "share": share(fallback.recall_share)},
        rotation_words(fallback),
        _("If nobody eligible volunteers, the proposal is not adopted."),
    ]


def rotation_words(fallback: MandateFallback) -> str:
    """Return who may not be chosen again under the charter's rotation rule."""
    return _("Rotation: %(rule)s.") % {"rule": ROTATION_LABELS[fallback.rotation]}


def meeting_words(kind: DecisionKind) -> str:
    """Return how a decision taken at a meeting is confirmed."""
    n = kind.meeting_confirmations
    return ngettext(
        "A decision taken at an in-person meeting stands once %(n)d other member who was "
        "present confirms it.",
        "A decision taken at an in-person meeting stands once %(n)d other members who were "
        "present confirm it.",
        n,
    ) % {"n": n}


def kind_lines(kind: DecisionKind) -> list[str]:
    """Return a decision kind in plain sentences: who, how, urgency, meetings, effect, room."""
    lines = [who_decides(kind), consensus_words(kind), deadline_words(kind)]
    lines += urgency_words(kind)
    lines.append(meeting_words(kind))
    if kind.power is not None:
        lines.append(str(POWER_LABELS[kind.power]))
    if kind.scope is Scope.GROUP and kind.group_bounds is not None:
        lines.append(
            _("A group may set its own rules here: %(room)s.")
            % {"room": bounds_words(kind.group_bounds)}
        )
    return lines


def federation_lines(charter: Charter) -> list[str]:
    """Return the charter's federation-wide settings in sentences."""
    lines = []
    days = charter.discussion_retention_days
    if days is None:
        lines.append(_("Discussions are kept for ever; decisions always stay."))
    else:
        lines.append(
            ngettext(
                "Discussions may be deleted after %(n)d day; decisions always stay.",
                "Discussions may be deleted after %(n)d days; decisions always stay.",
                days,
            )
            % {"n": days}
        )
    lines.append(
        _("Coordinators are named (by pseudonym) on federation pages.")
        if charter.show_coordinators
        else _("Coordinators are not named on federation pages.")
    )
    small = charter.with_power(Power.DISBURSE_SMALL)
    for currency, amount in sorted(charter.fund_small_amounts.items()):
        lines.append(
            _("Requests to the fund under %(amount)s are decided as “%(kind)s”.")
            % {"amount": money(amount, currency), "kind": kind_name(small[0]) if small else "?"}
        )
    return lines


# --- what an amendment changes ------------------------------------------------------------------


def _field_label(change: Change) -> str:
    if change.path and change.path[0] == "fund_small_amounts" and len(change.path) == 2:
        return _("small amount in %(currency)s") % {"currency": change.path[1]}
    label = FIELD_LABELS.get(change.field)
    return str(label) if label is not None else change.field


def _change_value(change: Change, value: Any) -> str:
    if change.path and change.path[0] == "fund_small_amounts" and len(change.path) == 2:
        return money(value, change.path[1]) if value is not None else _("none")
    return value_words(change.field, value)


def change_lines(
    found: Iterable[Change], old: Charter | None = None, new: Charter | None = None
) -> list[dict[str, str]]:
    """Return each change as ``{"subject", "text"}``, in words.

    For instance "Common policy" and "consensus period: 14 days → 7 days". ``old`` and
    ``new`` name the kinds (a kind's new name where it was renamed).
    """
    names: dict[str, str] = {}
    for charter in (old, new):
        if charter is not None:
            names.update({k.key: kind_name(k) for k in charter.kinds})
    lines = []
    for change in found:
        if change.kind is None:
            subject = _("The whole federation")
        else:
            subject = names.get(change.kind, change.kind)
        if not change.path and change.old is None:
            text = _("a new kind of decision: %(who)s") % {"who": who_decides(change.new)}
            subject = kind_name(change.new)
        elif not change.path and change.new is None:
            text = _("this kind of decision is removed")
            subject = kind_name(change.old)
        else:
            text = _("%(what)s: %(old)s → %(new)s") % {
                "what": _field_label(change),
                "old": _change_value(change, change.old),
                "new": _change_value(change, change.new),
            }
        lines.append({"subject": subject, "text": text})
    return lines
