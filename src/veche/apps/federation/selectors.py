"""Reads about the organisation. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from veche.apps.accounts.models import Member
from veche.apps.core.labels import kind_name, method_label
from veche.apps.core.requestcache import cached
from veche.apps.federation.models import (
    CoordinatorTerm,
    Federation,
    Group,
    Invitation,
    hash_invitation_secret,
)
from veche.domain.charter import Charter, MandateFallback, Mode, Scope, VoteFallback


def get_federation() -> Federation | None:
    """Return the federation, or None before `veche init` (read once per request)."""
    return cached("federation", lambda: Federation.objects.order_by("pk").first())


def federation_name() -> str:
    """Return the federation's name, or "veche" before it exists."""
    federation = get_federation()
    return federation.name if federation else "veche"


def get_charter() -> Charter | None:
    """Return the federation's charter as a domain value, or None if there is none yet.

    The one place that turns the stored dict into a ``veche.domain.charter.Charter``;
    a stored charter that no longer validates is a bug, so InvalidCharter propagates.
    """
    federation = get_federation()
    if federation is None or not federation.charter:
        return None
    return cached("charter", lambda: Charter.from_dict(federation.charter))


def _percent(share: Fraction) -> str:
    return f"{float(share) * 100:.0f}%"


def _days(period: dt.timedelta) -> str:
    hours = period.total_seconds() / 3600
    if hours < 48:
        return ngettext("%(n)d hour", "%(n)d hours", int(hours)) % {"n": int(hours)}
    return ngettext("%(n)d day", "%(n)d days", period.days) % {"n": period.days}


def charter_decision_kinds() -> list[dict[str, Any]]:
    """Return the charter's decision kinds as readable rows: name, scope, how it is decided."""
    charter = get_charter()
    if charter is None:
        return []
    rows = []
    for kind in charter.kinds:
        details = []
        if kind.scope == Scope.GROUP:
            details.append(_("Decided by each group for itself."))
        elif kind.mode == Mode.SPOKES:
            details.append(_("Decided by the federation: each group forms its position."))
        else:
            details.append(_("Decided by the federation: every member takes part directly."))
        details.append(
            ngettext(
                "Consensus: at least %(quorum)s of members respond within %(period)s; "
                "%(blocks)d block stops it.",
                "Consensus: at least %(quorum)s of members respond within %(period)s; "
                "%(blocks)d blocks stop it.",
                kind.consensus.blocks_to_stop,
            )
            % {
                "quorum": _percent(kind.consensus.quorum),
                "period": _days(kind.consensus.period),
                "blocks": kind.consensus.blocks_to_stop,
            }
        )
        if kind.urgent_allowed and isinstance(kind.fallback, VoteFallback):
            details.append(
                _("If urgent and without consensus: a vote by %(method)s.")
                % {"method": method_label(kind.fallback.method)}
            )
        elif kind.urgent_allowed and isinstance(kind.fallback, MandateFallback):
            details.append(
                _("If urgent and without consensus: a temporary coordinator for %(length)s.")
                % {"length": _days(kind.fallback.length)}
            )
        rows.append({"key": kind.key, "name": kind_name(kind), "details": details})
    return rows


def active_groups() -> QuerySet[Group]:
    """Return the groups not dissolved, by name, each annotated with ``member_count``."""
    return (
        Group.objects.filter(dissolved_at__isnull=True)
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
        .order_by("name")
    )


def get_group(*, group_id: int) -> Group | None:
    """Return the group with this id, or None."""
    return Group.objects.filter(pk=group_id).first()


def get_group_by_name(*, name: str) -> Group | None:
    """Return the active group with this exact name, or None."""
    return Group.objects.filter(name=name, dissolved_at__isnull=True).first()


def _current_terms(*, group: Group, at: dt.datetime) -> QuerySet[CoordinatorTerm]:
    return CoordinatorTerm.objects.filter(group=group, starts_at__lte=at).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )


def is_coordinator(*, member: Member, group: Group, at: dt.datetime | None = None) -> bool:
    """Return whether ``member`` is a coordinator of ``group`` at ``at`` (default now)."""
    at = at or timezone.now()
    if not member.is_authenticated or member.group_id != group.pk:
        return False
    return _current_terms(group=group, at=at).filter(member=member).exists()


def group_coordinators(*, group: Group, at: dt.datetime | None = None) -> list[Member]:
    """Return the active members who coordinate ``group`` at ``at`` (default now)."""
    at = at or timezone.now()
    terms = _current_terms(group=group, at=at).select_related("member")
    members = {t.member.pk: t.member for t in terms if t.member.is_active}
    return sorted(members.values(), key=lambda m: m.pseudonym_key)


def group_members(*, group: Group) -> QuerySet[Member]:
    """Return the active members of ``group`` by pseudonym."""
    return group.members.filter(is_active=True).order_by("pseudonym_key")


def get_usable_invitation(*, secret: str, at: dt.datetime | None = None) -> Invitation | None:
    """Return the unused, unexpired invitation for this secret, or None."""
    at = at or timezone.now()
    return (
        Invitation.objects.select_related("group")
        .filter(
            token_hash=hash_invitation_secret(secret),
            used_at__isnull=True,
            expires_at__gt=at,
            group__dissolved_at__isnull=True,
        )
        .first()
    )
