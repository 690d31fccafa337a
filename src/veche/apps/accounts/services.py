"""Writes about members: joining by invitation, logging in (throttled), logging out everywhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from veche.apps.accounts import keys
from veche.apps.accounts import keys as keys_service
from veche.apps.accounts.models import LoginFailure, Member, pseudonym_key, throttle_key
from veche.apps.core import keyring
from veche.apps.federation.models import CoordinatorTerm, Invitation, hash_invitation_secret
from veche.crypto import (
    CannotDecrypt,
    Keyring,
    PrivateKey,
    WrongPassphrase,
    new_member_keys,
    unlock,
    unpack_keys,
)


class InvitationUnusable(Exception):
    """The invitation does not exist, was used, or has expired (deliberately not said which)."""


class PseudonymTaken(Exception):
    """Another member already has this pseudonym (compared case-insensitively)."""


class LoginRefused(Exception):
    """Wrong pseudonym or passphrase, or an inactive account (not said which)."""


class LoginThrottled(Exception):
    """Too many recent failures, for this account or for the whole server."""


def redeem_invitation(
    *, secret: str, pseudonym: str, passphrase: str, now: dt.datetime | None = None
) -> Member:
    """Create a member from an invitation and mark it used; return the member.

    The new member's unlocked private key is on ``member.unlocked_private_key`` so the
    joining request can keep it in the session without a second Argon2 run.

    The passphrase is hashed (and the key pair made) before the transaction opens, so
    the slow Argon2 runs never hold SQLite's write lock. Claiming the invitation is a
    conditional UPDATE: of two simultaneous redemptions exactly one matches the row.
    The keys the invitation carries are sealed to the newcomer: nobody needs to be
    online for someone to join.
    """
    now = now or timezone.now()
    password_hash = make_password(passphrase)
    record, private_key = new_member_keys(passphrase, kdf=keys.kdf_cost())
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
            raise PseudonymTaken
        try:
            granted = unpack_keys(secret, bytes(invitation.keys_blob or b""))
        except CannotDecrypt as exc:
            raise InvitationUnusable from exc
        member = Member(group=invitation.group, joined_at=now)
        member.set_key_record(record)
        member.password = password_hash
        with keyring.using(Keyring(granted)):
            member.pseudonym = pseudonym
            try:
                with transaction.atomic():
                    member.save()
            except IntegrityError as exc:  # a concurrent join took the pseudonym
                raise PseudonymTaken from exc
        keys.grant_all(member, granted)
        # The invitation's keys are in the member's grants now; the packed copy goes.
        Invitation.objects.filter(pk=invitation.pk).update(used_by=member, keys_blob=b"")
        if invitation.as_coordinator:
            CoordinatorTerm.objects.create(group=invitation.group, member=member, starts_at=now)
    member.unlocked_private_key = private_key  # type: ignore[attr-defined]
    return member


def _failures_since(*, since: dt.datetime, account_key: str | None = None) -> int:
    failures = LoginFailure.objects.filter(failed_at__gt=since)
    if account_key is not None:
        failures = failures.filter(account_key=account_key)
    else:
        failures = failures.filter(known_account=True)
    return failures.count()


def check_login_allowed(*, pseudonym: str, now: dt.datetime | None = None) -> None:
    """Raise LoginThrottled if this account, or the server, has failed too often lately."""
    now = now or timezone.now()
    account_window = dt.timedelta(seconds=settings.VECHE_LOGIN_ACCOUNT_WINDOW_SECONDS)
    global_window = dt.timedelta(seconds=settings.VECHE_LOGIN_GLOBAL_WINDOW_SECONDS)
    if (
        _failures_since(since=now - account_window, account_key=throttle_key(pseudonym))
        >= settings.VECHE_LOGIN_FAILURES_PER_ACCOUNT
    ):
        raise LoginThrottled
    if _failures_since(since=now - global_window) >= settings.VECHE_LOGIN_FAILURES_GLOBAL:
        raise LoginThrottled


def record_login_failure(*, pseudonym: str, now: dt.datetime | None = None) -> None:
    """Record a failed attempt and forget failures older than a day."""
    now = now or timezone.now()
    with transaction.atomic():
        known = Member.objects.filter(pseudonym_key=pseudonym_key(pseudonym)).exists()
        LoginFailure.objects.create(
            account_key=throttle_key(pseudonym), failed_at=now, known_account=known
        )
        LoginFailure.objects.filter(failed_at__lt=now - dt.timedelta(days=1)).delete()


def authenticate_member(
    *, request: HttpRequest, pseudonym: str, passphrase: str, now: dt.datetime | None = None
) -> Member:
    """Return the member these credentials belong to, or raise LoginRefused / LoginThrottled.

    Throttled attempts are refused before any passphrase is checked, so a guesser
    learns nothing and costs the server no Argon2 run.
    """
    now = now or timezone.now()
    check_login_allowed(pseudonym=pseudonym, now=now)
    member = authenticate(request, pseudonym=pseudonym, password=passphrase)
    private_key = _unlock(member, passphrase) if member is not None else None
    if member is None or private_key is None:
        record_login_failure(pseudonym=pseudonym, now=now)
        raise LoginRefused
    LoginFailure.objects.filter(account_key=throttle_key(pseudonym)).delete()
    member.unlocked_private_key = private_key  # type: ignore[attr-defined]
    return member


def _unlock(member: Member, passphrase: str) -> PrivateKey | None:
    try:
        return unlock(member.key_record(), passphrase)
    except (WrongPassphrase, CannotDecrypt):
        return None


def log_out_everywhere(*, member: Member) -> None:
    """End every session of ``member``: bump their session epoch, delete the sessions.

    Bumping the epoch makes every session fail Django's auth check at once; deleting
    the session rows destroys the wrapped private keys they held.
    """
    from django.contrib.sessions.models import Session

    from veche.apps.accounts.models import MemberSession

    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(session_epoch=F("session_epoch") + 1)
        keys_ = MemberSession.objects.filter(member=member).values_list("session_key", flat=True)
        Session.objects.filter(session_key__in=list(keys_)).delete()
        MemberSession.objects.filter(member=member).delete()
    member.refresh_from_db(fields=["session_epoch"])


def enrol_member(
    *,
    group: Any,
    pseudonym: str,
    keys: Keyring,
    passphrase: str,
    password_hash: str | None = None,
    joined_at: dt.datetime | None = None,
    is_active: bool = True,
) -> tuple[Member, PrivateKey]:
    """Create a member holding the group's and federation's keys found in ``keys``.

    For the demo, the operator's bootstrap and tests: whoever calls it holds the keys
    already. Members joining through the web use :func:`redeem_invitation` instead.
    Returns the member and their unlocked private key.
    """
    record, private_key = new_member_keys(passphrase, kdf=keys_service.kdf_cost())
    member = Member(group=group, joined_at=joined_at or timezone.now(), is_active=is_active)
    member.set_key_record(record)
    member.password = password_hash or make_password(passphrase)
    with keyring.using(keys):
        member.pseudonym = pseudonym
        member.save()
    keys_service.grant_all(member, keys_service.keys_for_group(keys, group.pk))
    return member, private_key
