"""Writes about the organisation: founding, the charter's versions, groups, coordinators,
invitations, joining.

Removing a member is told to the apps above by :data:`signals.member_removed` (the
proposals app records it in the group's log), never by importing them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from veche.apps.accounts import keys as key_service
from veche.apps.accounts import services as accounts
from veche.apps.accounts.models import KeyGrant, Member, pseudonym_key
from veche.apps.core import keyring
from veche.apps.core.hashers import run_expensive
from veche.apps.core.requestcache import forget
from veche.apps.core.validators import normalise_passphrase
from veche.apps.federation import signals
from veche.apps.federation.models import (
    CharterVersion,
    CoordinatorTerm,
    Federation,
    Group,
    GroupRulesVersion,
    Invitation,
    hash_invitation_secret,
)
from veche.crypto import (
    FEDERATION,
    CannotDecrypt,
    Keyring,
    group_scope,
    new_member_keys,
    pack_keys,
    unpack_keys,
)
from veche.domain.charter import (
    Charter,
    GroupRules,
    default_charter,
    digest,
    validate,
)


class AlreadyInitialised(Exception):
    """The federation already exists."""


class GroupNameTaken(Exception):
    """Another group already has this name."""


@transaction.atomic
def create_federation(
    *,
    name: str,
    first_group_name: str,
    now: dt.datetime | None = None,
    charter: Charter | None = None,
) -> tuple[Federation, Group]:
    """Create the federation, its founding charter (version 1) and its first group.

    The federation starts with ``charter`` (another federation's rules, say, from
    ``veche charter export``), or with the domain's default charter.
    """
    now = now or timezone.now()
    if Federation.objects.exists():
        raise AlreadyInitialised
    federation = Federation.objects.create(name=name, created_at=now)
    put_charter(charter=charter or default_charter(), at=now)
    group = create_group(name=first_group_name, now=now)
    return federation, group


# --- the charter's versions, and groups' own rules -------------------------------------------


def put_charter(
    *, charter: Charter, at: dt.datetime, proposal_id: int | None = None
) -> CharterVersion:
    """Put ``charter`` in force from ``at`` as the next version; return it.

    The federation's own path is an adopted amendment (the proposals app calls this
    when settling it, naming the proposal); without a proposal, this founds the charter
    (version 1) or is an operator's act, shown as such in the history. Call inside a
    transaction: two versions racing for the same number fail on its uniqueness, and
    the caller's transaction is retried.
    """
    validate(charter)
    last = CharterVersion.objects.order_by("-number").values_list("number", flat=True).first()
    forget("charter_in_force")  # the rest of this request sees the new version
    return CharterVersion.objects.create(
        number=(last or 0) + 1,
        charter=charter.to_dict(),
        digest=digest(charter),
        in_force_from=at,
        proposal_id=proposal_id,
    )


def put_group_rules(
    *, group: Group, rules: GroupRules, at: dt.datetime, proposal_id: int | None = None
) -> GroupRulesVersion:
    """Put a group's own rules in force from ``at`` as its next version; return it.

    The caller (settling the group's decision) has checked them against the charter.
    """
    data = rules.to_dict()
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    last = (
        GroupRulesVersion.objects.filter(group=group)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return GroupRulesVersion.objects.create(
        group=group,
        number=(last or 0) + 1,
        rules=data,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        in_force_from=at,
        proposal_id=proposal_id,
    )


def note_decision(
    version: CharterVersion | GroupRulesVersion, *, seq: int, record_digest: str
) -> None:
    """Name, on a version, the decision record that put it in force (once it is in the log)."""
    type(version).objects.filter(pk=version.pk).update(
        decision_seq=seq, decision_digest=record_digest
    )
    version.decision_seq, version.decision_digest = seq, record_digest


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
    made = dict([key_service.new_key(group_scope(group.pk), now=now)])
    if fresh_federation_key or key_service.latest_epoch(FEDERATION) == 0:
        made.update([key_service.new_key(FEDERATION, now=now)])
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
    term = CoordinatorTerm.objects.create(group=group, member=member, starts_at=now)
    forget(f"group_coordinators:{group.pk}")  # the rest of this request sees the new term
    # Who may carry the group's position, or cast its ballot, has changed.
    signals.membership_changed.send(sender=Group, group=group, at=now)
    return term


class CannotRemove(Exception):
    """The member cannot be removed (not in this group, already gone, or oneself)."""


def remove_member(
    *,
    group: Group,
    member: Member,
    by: Member | None,
    decision: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Remove ``member`` from ``group``: end their sessions, take their keys, rotate.

    ``by`` is the coordinator who removed them alone (where the charter allows it), or
    None when the group decided it: ``decision`` then names the proposal adopted.

    The group's key and the federation's key get a new epoch sealed to everyone who
    remains (the remover's request holds the keys it needs only to make new ones, since
    members' public keys are public), so what is written from now on is out of the
    removed member's reach. What they could read before, they may have kept: that is
    said plainly in docs/security.md. Invitations the removed member made are voided.
    """
    now = now or timezone.now()
    if member.group_id != group.pk or not member.is_active:
        raise CannotRemove
    if (by is None) == (decision is None) or (by is not None and member.pk == by.pk):
        raise CannotRemove
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(is_active=False, left_at=now)
        CoordinatorTerm.objects.filter(member=member, ends_at__isnull=True).update(ends_at=now)
        forget(f"group_coordinators:{group.pk}")
        KeyGrant.objects.filter(member=member).delete()
        Invitation.objects.filter(created_by=member, used_at__isnull=True).update(expires_at=now)
        remaining = Member.objects.filter(is_active=True, group__dissolved_at__isnull=True)
        key_service.rotate(group_scope(group.pk), remaining.filter(group=group), now=now)
        key_service.rotate(FEDERATION, remaining, now=now)
        accounts.log_out_everywhere(member=member)
        # Removing someone is on the group's record, like its decisions (proposals).
        signals.member_removed.send(
            sender=Group, group=group, member=member, by=by, decision=decision, at=now
        )
        signals.membership_changed.send(sender=Group, group=group, at=now)


# --- joining ---------------------------------------------------------------------------


class InvitationUnusable(Exception):
    """The invitation does not exist, was used, or has expired (deliberately not said which)."""


def redeem_invitation(
    *, secret: str, pseudonym: str, passphrase: str, now: dt.datetime | None = None
) -> Member:
    """Create a member from an invitation and mark it used; return the member.

    The new member's unlocked private key is on ``member.unlocked_private_key`` so the
    joining request can keep it in the session without a second Argon2 run.

    The key pair is made and sealed under the passphrase's normal form before the
    transaction opens, within the server's hashing budget (HashingBusy if it is spent),
    so the slow Argon2id run never holds SQLite's write lock. Claiming the invitation is a
    conditional UPDATE: of two simultaneous redemptions exactly one matches the row.
    The keys the invitation carries are sealed to the newcomer: nobody needs to be
    online for someone to join.
    """
    now = now or timezone.now()
    normal, cost = normalise_passphrase(passphrase), key_service.kdf_cost()
    record, private_key = run_expensive(lambda: new_member_keys(normal, kdf=cost))
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_related("group")
            .filter(token_hash=hash_invitation_secret(secret))
            .first()
        )
        if invitation is None:
            raise InvitationUnusable
        if invitation.group.dissolved_at is not None:
            raise InvitationUnusable
        # The claim's conditions must all be on the invitation's own row: PostgreSQL
        # re-checks them against the row a concurrent claimer committed, whereas a
        # condition on a joined table goes into a subquery whose old snapshot let two
        # simultaneous claims both succeed.
        claimed = Invitation.objects.filter(
            pk=invitation.pk,
            used_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if claimed != 1:
            raise InvitationUnusable
        if Member.objects.filter(pseudonym_key=pseudonym_key(pseudonym)).exists():
            raise accounts.PseudonymTaken
        try:
            granted = unpack_keys(secret, bytes(invitation.keys_blob or b""))
        except CannotDecrypt as exc:
            raise InvitationUnusable from exc
        member = Member(group=invitation.group, joined_at=now)
        accounts.set_passphrase_record(member, record)
        with keyring.using(Keyring(granted)):
            member.pseudonym = pseudonym
            try:
                with transaction.atomic():
                    member.save()
            except IntegrityError as exc:  # a concurrent join took the pseudonym
                raise accounts.PseudonymTaken from exc
        key_service.grant_all(member, granted)
        # The invitation's keys are in the member's grants now; the packed copy goes.
        Invitation.objects.filter(pk=invitation.pk).update(used_by=member, keys_blob=b"")
        if invitation.as_coordinator:
            CoordinatorTerm.objects.create(group=invitation.group, member=member, starts_at=now)
            forget(f"group_coordinators:{invitation.group_id}")
    member.unlocked_private_key = private_key  # type: ignore[attr-defined]
    return member
