"""Reads about the organisation. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from veche.apps.federation.models import CoordinatorTerm, Federation, Group, Invitation

if TYPE_CHECKING:
    from veche.apps.accounts.models import Member


def get_federation() -> Federation | None:
    """Return the federation, or None before `veche init`."""
    return Federation.objects.order_by("pk").first()


def federation_name() -> str:
    """Return the federation's name, or "veche" before it exists."""
    federation = get_federation()
    return federation.name if federation else "veche"


def get_charter() -> dict[str, Any]:
    """Return the charter as a plain dict (as stored; validated by veche.domain.charter).

    The one place that turns the stored charter into something to use: once
    veche.domain.charter exists, callers should go through Charter.from_dict(here).
    """
    federation = get_federation()
    return dict(federation.charter) if federation else {}


def charter_decision_kinds() -> list[dict[str, Any]]:
    """Return the charter's decision kinds as a list of plain dicts, for display.

    Accepts either a list of kinds or a mapping of name -> kind, since the charter's
    dict shape belongs to veche.domain.charter.
    """
    kinds = get_charter().get("decision_kinds") or []
    if isinstance(kinds, dict):
        kinds = [{"name": name, **(value or {})} for name, value in kinds.items()]
    result = []
    for kind in kinds:
        if not isinstance(kind, dict):
            continue
        name = kind.get("name") or kind.get("key") or kind.get("id") or "?"
        details = [(key, value) for key, value in kind.items() if key not in {"name"}]
        result.append({"name": name, "details": details})
    return result


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
    from veche.apps.federation.models import hash_invitation_secret

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
