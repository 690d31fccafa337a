"""Writes about the organisation: founding, groups, invitations."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from veche.apps.federation.models import (
    CoordinatorTerm,
    Federation,
    Group,
    Invitation,
    hash_invitation_secret,
)

if TYPE_CHECKING:
    from veche.apps.accounts.models import Member


class AlreadyInitialised(Exception):
    """The federation already exists."""


class GroupNameTaken(Exception):
    """Another group already has this name."""


def default_charter_dict() -> dict[str, Any]:
    """Return the domain's default charter as a plain dict."""
    from veche.domain.charter import default_charter

    return dict(default_charter().to_dict())


@transaction.atomic
def create_federation(
    *, name: str, first_group_name: str, now: dt.datetime | None = None
) -> tuple[Federation, Group]:
    """Create the federation (default charter) and its first group; return both."""
    now = now or timezone.now()
    if Federation.objects.exists():
        raise AlreadyInitialised
    federation = Federation.objects.create(
        name=name, created_at=now, charter=default_charter_dict()
    )
    group = create_group(name=first_group_name, now=now)
    return federation, group


@transaction.atomic
def create_group(*, name: str, now: dt.datetime | None = None) -> Group:
    """Create and return a group."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return Group.objects.create(name=name.strip(), created_at=now)
    except IntegrityError as exc:
        raise GroupNameTaken(name) from exc


class MissingKeys(Exception):
    """The keys an invitation must carry are not in this request's keyring."""


def create_founding_keys(
    *, group: Group, now: dt.datetime | None = None, fresh_federation_key: bool = False
) -> dict[Any, bytes]:
    """Make the first epoch of the federation's key (if it has none) and of the group's key.

    Returned to be packed into the founding invitation; never stored in clear.
    """
    from veche.apps.accounts import keys
    from veche.crypto import FEDERATION, group_scope

    made = dict([keys.new_key(group_scope(group.pk), now=now)])
    if fresh_federation_key or keys.latest_epoch(FEDERATION) == 0:
        made.update([keys.new_key(FEDERATION, now=now)])
    return made


def create_invitation(
    *,
    group: Group,
    created_by: Member | None,
    as_coordinator: bool = False,
    now: dt.datetime | None = None,
    valid_for: dt.timedelta | None = None,
    keys: Mapping[Any, bytes] | None = None,
) -> tuple[Invitation, str]:
    """Create a one-time invitation to ``group``; return it and its secret.

    The invitation carries the group's and the federation's keys (every epoch the
    inviter holds, from the request's keyring unless ``keys`` are given), packed under a
    key derived from the secret. The secret is returned once and never stored: only
    its sha256 is kept, for lookup.
    """
    from veche.apps.accounts import keys as key_service
    from veche.apps.core import keyring
    from veche.crypto import FEDERATION, group_scope, pack_keys

    now = now or timezone.now()
    valid_for = valid_for or dt.timedelta(days=settings.VECHE_INVITATION_DAYS)
    if keys is None:
        keys = key_service.keys_for_group(keyring.current(), group.pk)
    scopes = {key_id.scope for key_id in keys}
    if group_scope(group.pk) not in scopes or FEDERATION not in scopes:
        raise MissingKeys
    secret = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        keys_blob=pack_keys(secret, keys),
        group=group,
        created_by=created_by,
        token_hash=hash_invitation_secret(secret),
        created_at=now,
        expires_at=now + valid_for,
        as_coordinator=as_coordinator,
    )
    return invitation, secret


def start_coordinator_term(
    *, group: Group, member: Member, now: dt.datetime | None = None
) -> CoordinatorTerm:
    """Make ``member`` a coordinator of ``group`` from ``now``, open-ended."""
    now = now or timezone.now()
    return CoordinatorTerm.objects.create(group=group, member=member, starts_at=now)


class CannotRemove(Exception):
    """The member cannot be removed (not in this group, already gone, or oneself)."""


def remove_member(
    *, group: Group, member: Member, by: Member, now: dt.datetime | None = None
) -> None:
    """Remove ``member`` from ``group``: end their sessions, take their keys, rotate.

    The group's key and the federation's key get a new epoch sealed to everyone who
    remains (the remover's request holds the keys it needs only to make new ones, since
    members' public keys are public), so what is written from now on is out of the
    removed member's reach. What they could read before, they may have kept: that is
    said plainly in docs/security.md. Invitations the removed member made are voided.
    """
    from veche.apps.accounts import keys
    from veche.apps.accounts.models import KeyGrant
    from veche.apps.accounts.models import Member as MemberModel
    from veche.apps.accounts.services import log_out_everywhere
    from veche.crypto import FEDERATION, group_scope

    now = now or timezone.now()
    if member.group_id != group.pk or not member.is_active or member.pk == by.pk:
        raise CannotRemove
    with transaction.atomic():
        MemberModel.objects.filter(pk=member.pk).update(is_active=False, left_at=now)
        CoordinatorTerm.objects.filter(member=member, ends_at__isnull=True).update(ends_at=now)
        KeyGrant.objects.filter(member=member).delete()
        Invitation.objects.filter(created_by=member, used_at__isnull=True).update(expires_at=now)
        remaining = MemberModel.objects.filter(is_active=True, group__dissolved_at__isnull=True)
        keys.rotate(group_scope(group.pk), remaining.filter(group=group), now=now)
        keys.rotate(FEDERATION, remaining, now=now)
        log_out_everywhere(member=member)
        # Removing someone is on the group's record, like its decisions.
        from veche.apps.proposals.services import append_to_log

        append_to_log(
            group_id=group.pk,
            kind="removal",
            payload={"member": member.pk, "by": by.pk, "at": now.isoformat()},
        )
