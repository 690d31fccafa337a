"""Reads about the organisation. Nothing here writes."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from veche.apps.accounts.models import Member
from veche.apps.core.requestcache import cached
from veche.apps.core.statements import ModelStatement
from veche.apps.federation import wording
from veche.apps.federation.models import (
    CharterVersion,
    CoordinatorTerm,
    Federation,
    Group,
    GroupRulesVersion,
    Invitation,
    hash_invitation_secret,
)
from veche.domain.charter import Charter, GroupRules, Power
from veche.domain.charter import digest as charter_digest


# Every page reads both (its header names the federation): compiled once per process.
@functools.cache
def _federation() -> ModelStatement:
    return ModelStatement(Federation.objects.order_by("pk")[:1], ())


@functools.cache
def _charter_in_force() -> ModelStatement:
    return ModelStatement(CharterVersion.objects.order_by("-number")[:1], ())


# The federation's row, kept by each process once `veche init` has made it. Nothing
# changes or deletes it afterwards (no service does: its charter lives in versions, its
# name is set once), so pages need not read it; Django's sites framework keeps its
# current Site the same way. Restoring another federation's database means restarting
# the server, as any restore does. Tests forget it between tests (tests/conftest.py).
_kept: list[Federation] = []


def get_federation() -> Federation | None:
    """Return the federation, or None before `veche init` (read until it exists)."""
    if _kept:
        return _kept[0]
    found: Federation | None = _federation().first()  # type: ignore[assignment]
    if found is not None:
        _kept[:] = [found]
    return found


def forget_federation() -> None:
    """Forget the federation kept by this process (a test's database is rolled back)."""
    _kept.clear()


def federation_name() -> str:
    """Return the federation's name, or "veche" before it exists."""
    federation = get_federation()
    return federation.name if federation else "veche"


def charter_in_force() -> CharterVersion | None:
    """Return the charter version in force (the latest), or None before `veche init`."""
    return cached("charter_in_force", lambda: _charter_in_force().first())  # type: ignore[return-value]


# Parsed charters by their digest (the SHA-256 of their canonical JSON): a stored version
# never changes, and parsing (its fractions and periods) costs a page more than reading
# it. A charter is kept only once its digest is checked against its content, so the key
# says what it holds; one whose stored digest does not match is parsed on every read.
_PARSED: dict[str, Charter] = {}


def charter_of(version: CharterVersion) -> Charter:
    """Return a stored charter version as a domain value.

    The one place that turns a stored dict into a ``veche.domain.charter.Charter``; a
    stored version that no longer validates is a bug, so InvalidCharter propagates.
    """
    parsed = _PARSED.get(version.digest)
    if parsed is None:
        parsed = Charter.from_dict(version.charter)
        if len(_PARSED) < 64 and charter_digest(parsed) == version.digest:
            _PARSED[version.digest] = parsed
    return parsed


def get_charter() -> Charter | None:
    """Return the charter in force as a domain value, or None if there is none yet."""
    version = charter_in_force()
    return None if version is None else charter_of(version)


@dataclass(frozen=True)
class RemovalRules:
    """How the charter lets a group remove a member."""

    # A coordinator may remove a member alone.
    coordinator_alone: bool
    # The kind of decision by which the group removes a member ("" if there is none).
    kind_key: str


def removal_rules() -> RemovalRules:
    """Return how a member is removed under the charter in force."""
    charter = get_charter()
    if charter is None:
        return RemovalRules(coordinator_alone=False, kind_key="")
    kinds = charter.with_power(Power.REMOVE_MEMBER)
    return RemovalRules(
        coordinator_alone=charter.coordinator_may_remove,
        kind_key=kinds[0].key if kinds else "",
    )


def _percent(share: Fraction) -> str:
    return f"{float(share) * 100:.0f}%"


def charter_versions() -> QuerySet[CharterVersion]:
    """Return every version of the charter, the newest first."""
    return CharterVersion.objects.order_by("-number")


def charter_version(*, number: int) -> CharterVersion | None:
    """Return the charter version with this number, or None."""
    return CharterVersion.objects.filter(number=number).first()


def group_rules_in_force(*, group_id: int) -> GroupRulesVersion | None:
    """Return the version of a group's own rules in force, or None if it has none."""
    return GroupRulesVersion.objects.filter(group_id=group_id).order_by("-number").first()


def rules_of(version: GroupRulesVersion | None) -> GroupRules:
    """Return a stored version of a group's own rules as a domain value (none: no rules)."""
    return GroupRules() if version is None else GroupRules.from_dict(version.rules)


def group_rules_versions(*, group_id: int) -> QuerySet[GroupRulesVersion]:
    """Return every version of a group's own rules, the newest first."""
    return GroupRulesVersion.objects.filter(group_id=group_id).order_by("-number")


def charter_decision_kinds() -> list[dict[str, Any]]:
    """Return the charter's decision kinds as readable rows: name, and how each is decided."""
    charter = get_charter()
    if charter is None:
        return []
    return [
        {
            "key": kind.key,
            "name": wording.kind_name(kind),
            "details": [
                wording.who_decides(kind),
                wording.consensus_words(kind),
                *wording.urgency_words(kind)[:1],
            ],
        }
        for kind in charter.kinds
    ]


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


def own_group(member: Any) -> Group | None:
    """Return the member's own group, unless it was dissolved (None without one).

    The group came with the member (``accounts.backends.MemberBackend.get_user``): no
    query for the logged-in member.
    """
    if not member.is_authenticated or member.group_id is None:
        return None
    group: Group = member.group
    return group if group.dissolved_at is None else None


def is_own_group_coordinator(member: Any) -> bool:
    """Return whether ``member`` coordinates their own (undissolved) group now.

    Read once per request for the logged-in member, with the group's coordinators.
    """
    group = own_group(member)
    if group is None:
        return False
    return any(m.pk == member.pk for m in group_coordinators(group=group))


# No group has this id: it marks where the group's goes when the statement is compiled.
_GROUP = -1_000_000_009


@functools.cache
def _terms_of_group() -> ModelStatement:
    """A group's coordinator terms, each with what naming its member reads, compiled once
    (the fund's and the group's pages ask who coordinates). Read whole, a few a year;
    those in office are chosen in Python, so that the SQL holds no instant."""
    terms = CoordinatorTerm.objects.filter(group_id=_GROUP).select_related("member")
    return ModelStatement(
        terms.only(
            "id", "group_id", "member_id", "starts_at", "ends_at", "member__id",
            "member__group_id", "member__is_active", "member__pseudonym_ct",
            "member__pseudonym_key",
        ),
        (_GROUP,),
    )  # fmt: skip


def group_coordinators(*, group: Group, at: dt.datetime | None = None) -> list[Member]:
    """Return the active members who coordinate ``group`` at ``at`` (default now; read
    once per request)."""
    if at is not None:
        return _coordinators_at(group, at)
    return cached(f"group_coordinators:{group.pk}", lambda: _coordinators_at(group, timezone.now()))


def _coordinators_at(group: Group, at: dt.datetime) -> list[Member]:
    members = {
        t.member.pk: t.member
        for t in _terms_of_group().objects(group.pk)
        if t.starts_at <= at and (t.ends_at is None or t.ends_at > at) and t.member.is_active
    }
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
