"""Writes about members: joining by invitation, logging in (throttled), logging out everywhere."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from veche.apps.accounts.models import LoginFailure, Member, pseudonym_key, throttle_key
from veche.apps.federation.models import CoordinatorTerm, Invitation, hash_invitation_secret


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

    The passphrase is hashed before the transaction opens, so the slow Argon2 run
    never holds SQLite's write lock. Claiming the invitation is a conditional
    UPDATE: of two simultaneous redemptions exactly one matches the row.
    """
    now = now or timezone.now()
    password_hash = make_password(passphrase)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_related("group")
            .filter(token_hash=hash_invitation_secret(secret))
            .first()
        )
        if invitation is None:
            raise InvitationUnusable
        claimed = Invitation.objects.filter(
            pk=invitation.pk,
            used_at__isnull=True,
            expires_at__gt=now,
            group__dissolved_at__isnull=True,
        ).update(used_at=now)
        if claimed != 1:
            raise InvitationUnusable
        if Member.objects.filter(pseudonym_key=pseudonym_key(pseudonym)).exists():
            raise PseudonymTaken
        member = Member(pseudonym=pseudonym, group=invitation.group, joined_at=now)
        member.password = password_hash
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError as exc:  # a concurrent join took the pseudonym
            raise PseudonymTaken from exc
        Invitation.objects.filter(pk=invitation.pk).update(used_by=member)
        if invitation.as_coordinator:
            CoordinatorTerm.objects.create(group=invitation.group, member=member, starts_at=now)
    return member


def _failures_since(*, since: dt.datetime, account_key: str | None = None) -> int:
    failures = LoginFailure.objects.filter(failed_at__gt=since)
    if account_key is not None:
        failures = failures.filter(account_key=account_key)
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
        LoginFailure.objects.create(account_key=throttle_key(pseudonym), failed_at=now)
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
    if member is None:
        record_login_failure(pseudonym=pseudonym, now=now)
        raise LoginRefused
    LoginFailure.objects.filter(account_key=throttle_key(pseudonym)).delete()
    return member


def log_out_everywhere(*, member: Member) -> None:
    """End every session of ``member`` by bumping their session epoch."""
    Member.objects.filter(pk=member.pk).update(session_epoch=F("session_epoch") + 1)
    member.refresh_from_db(fields=["session_epoch"])
