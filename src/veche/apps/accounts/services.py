"""Writes about members: enrolling, logging in (with delays), logging out everywhere.

Joining a group by invitation is the federation's (``federation.services``), which
enrols the newcomer through :func:`enrol_member`'s parts here.

A member's passphrase is checked by opening their sealed private key (Argon2id, then an
authenticated decryption): one Argon2id per login, run within the server's hashing
budget (core.hashers). See docs/decisions/0071-login-delays-and-hashing-budget.md and
0072-one-argon2-per-login.md.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import nacl.utils
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from veche.apps.accounts import keys as keys_service
from veche.apps.accounts.models import (
    PASSPHRASE_AS_TYPED,
    PASSPHRASE_NORMALISED,
    LoginDelay,
    Member,
    MemberSession,
    pseudonym_key,
    throttle_key,
)
from veche.apps.core import keyring
from veche.apps.core.hashers import HashingBusy, run_expensive
from veche.apps.core.validators import normalise_passphrase
from veche.crypto import (
    CryptoError,
    KdfParams,
    Keyring,
    MemberKeys,
    PrivateKey,
    new_member_keys,
    rewrap,
    unlock,
)

__all__ = [
    "HashingBusy",
    "LoginDelayed",
    "LoginRefused",
    "PseudonymTaken",
    "authenticate_member",
    "check_passphrase",
    "enrol_member",
    "log_out_everywhere",
    "login_delay_seconds",
    "set_passphrase_record",
]


class PseudonymTaken(Exception):
    """Another member already has this pseudonym (compared case-insensitively)."""


class LoginRefused(Exception):
    """Wrong pseudonym or passphrase, or an inactive account (not said which)."""


class LoginDelayed(Exception):
    """Attempts with this pseudonym failed lately: none is checked for ``seconds`` more."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def login_delay_seconds(failures: int) -> int:
    """Return how long no attempt is checked after ``failures`` failures in a row.

    Nothing before the first failure; then 1 s, doubling with each failure, never more
    than ``VECHE_LOGIN_DELAY_MAX_SECONDS`` (30 s).
    """
    if failures <= 0:
        return 0
    base = int(settings.VECHE_LOGIN_DELAY_BASE_SECONDS)
    cap = int(settings.VECHE_LOGIN_DELAY_MAX_SECONDS)
    return min(cap, base * 2 ** min(failures - 1, 30))


def _claim_attempt(account_key: str, now: dt.datetime) -> tuple[int, dt.datetime]:
    """Take this name's turn to be checked; return what to restore if it is not used.

    Raises LoginDelayed while the name's delay runs: such an attempt is never checked
    and changes nothing, so refused attempts cannot lengthen the delay. The turn is
    taken pessimistically (counted as a failure, and held for as long as the attempt may
    queue for a hashing slot, 15 s at most), so concurrent attempts with one name are
    checked one at a time.
    """
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        row, _ = LoginDelay.objects.select_for_update().get_or_create(
            account_key=account_key,
            defaults={"failures": 0, "not_before": epoch, "updated_at": now},
        )
        if row.not_before > now:
            raise LoginDelayed(max(1, math.ceil((row.not_before - now).total_seconds())))
        before = (row.failures, row.not_before)
        # Held while this attempt may queue and be checked; set properly when it ends.
        in_flight = float(settings.VECHE_HASHING_WAIT_SECONDS) + 5
        row.failures += 1
        row.not_before = now + dt.timedelta(seconds=in_flight)
        row.updated_at = now
        row.save(update_fields=["failures", "not_before", "updated_at"])
    return before


def _release_claim(account_key: str, before: tuple[int, dt.datetime]) -> None:
    """Give an unused turn back (the attempt was never checked: the server was busy)."""
    failures, not_before = before
    LoginDelay.objects.filter(account_key=account_key).update(
        failures=failures, not_before=not_before
    )


def _record_failure(account_key: str, now: dt.datetime) -> None:
    """Start this name's delay from now; forget delays untouched for a day."""
    with transaction.atomic():
        row = LoginDelay.objects.select_for_update().filter(account_key=account_key).first()
        if row is not None:
            row.not_before = now + dt.timedelta(seconds=login_delay_seconds(row.failures))
            row.updated_at = now
            row.save(update_fields=["not_before", "updated_at"])
        LoginDelay.objects.filter(updated_at__lt=now - dt.timedelta(days=1)).delete()


_dummy_records: dict[tuple[int, int], MemberKeys] = {}


def _dummy_record() -> MemberKeys:
    """Return a key record that no passphrase opens, at the cost members' records have.

    Checked for names nobody has, so that a wrong guess costs the same Argon2id run
    whether or not the name exists. Random bytes: making it costs no Argon2id itself.
    """
    cost = keys_service.kdf_cost()
    record = _dummy_records.get(cost)
    if record is None:
        record = MemberKeys(
            public_key=nacl.utils.random(32),
            sealed_private_key=nacl.utils.random(72),
            kdf=KdfParams.fresh(cost),
        )
        _dummy_records[cost] = record
    return record


# Never a member's passphrase in normal form (control characters are removed): checked
# in place of an empty one, so an empty passphrase costs the same Argon2id run.
_NEVER_A_PASSPHRASE = "\x00"  # noqa: S105 - not a secret: a value no record opens


def _open(record: MemberKeys, typed: str) -> PrivateKey | None:
    try:
        return unlock(record, typed or _NEVER_A_PASSPHRASE)
    except CryptoError:
        return None


def check_passphrase(*, pseudonym: str, passphrase: str) -> tuple[Member | None, Any]:
    """Return ``(member, their unlocked private key)``, or ``(None, None)`` if these are not
    an active member's credentials.

    Exactly one Argon2id run, within the hashing budget (HashingBusy if it is spent),
    whether the name exists or not and whether the member is active or not.
    """
    member = Member.objects.filter(pseudonym_key=pseudonym_key(pseudonym)).first()
    record = _dummy_record()
    typed = normalise_passphrase(passphrase)
    if member is not None:
        try:
            record = member.key_record()
        except CryptoError:
            member = None  # a corrupt record: refuse, at the same cost
        else:
            if member.passphrase_form == PASSPHRASE_AS_TYPED:
                typed = passphrase
    private_key = run_expensive(_open, record, typed)
    if member is None or private_key is None or not member.is_active:
        return None, None
    return member, private_key


def set_passphrase_record(member: Member, record: MemberKeys) -> None:
    """Store a key record sealed under the passphrase's normal form.

    The password column Django requires holds no hash: the sealed key is the only
    check of the passphrase (decision 0072).
    """
    member.set_key_record(record)
    member.passphrase_form = PASSPHRASE_NORMALISED
    member.set_unusable_password()


def _bring_record_up_to_date(member: Member, private_key: Any, passphrase: str) -> None:
    """Re-seal the key under the normal form and today's cost, if it is not already.

    Members who joined before passphrases were normalised are moved over at their first
    login (their old password hash goes too, which ends their other sessions once);
    records of a lower Argon2id cost are raised. Skipped when the budget is spent.
    """
    opslimit, memlimit = keys_service.kdf_cost()
    legacy = member.passphrase_form != PASSPHRASE_NORMALISED
    if not legacy and member.kdf_opslimit >= opslimit and member.kdf_memlimit >= memlimit:
        return
    try:
        normal = normalise_passphrase(passphrase)
        record = run_expensive(
            lambda: rewrap(private_key, normal, kdf=(opslimit, memlimit)), wait=0
        )
    except HashingBusy:
        return
    if legacy:
        set_passphrase_record(member, record)
    else:
        member.set_key_record(record)
    member.save(
        update_fields=[
            "public_key",
            "sealed_private_key",
            "kdf_salt",
            "kdf_opslimit",
            "kdf_memlimit",
            "passphrase_form",
            "password",
        ]
    )


def authenticate_member(
    *, request: HttpRequest, pseudonym: str, passphrase: str, now: dt.datetime | None = None
) -> Member:
    """Return the member these credentials belong to, with their key unlocked.

    Raises LoginDelayed while this name's delay after failures runs (nothing is checked),
    HashingBusy if no hashing slot came free in time (nothing is checked, no delay
    starts), LoginRefused for wrong credentials (the name's delay grows). Names that
    exist and names that do not are treated alike, in outcome and in time.
    """
    account_key = throttle_key(pseudonym)
    before = _claim_attempt(account_key, now or timezone.now())
    try:
        member, private_key = check_passphrase(pseudonym=pseudonym, passphrase=passphrase)
    except HashingBusy:
        _release_claim(account_key, before)
        raise
    if member is None:
        _record_failure(account_key, now or timezone.now())
        raise LoginRefused
    LoginDelay.objects.filter(account_key=account_key).delete()
    _bring_record_up_to_date(member, private_key, passphrase)
    member.unlocked_private_key = private_key  # type: ignore[attr-defined]
    return member


def log_out_everywhere(*, member: Member) -> None:
    """End every session of ``member``: bump their session epoch, delete the sessions.

    Bumping the epoch makes every session fail Django's auth check at once; deleting
    the session rows destroys the wrapped private keys they held.
    """
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
    Returns the member and their unlocked private key. ``password_hash`` is ignored
    (accepted for callers written before decision 0072: no password hash is kept).
    """
    record, private_key = new_member_keys(
        normalise_passphrase(passphrase), kdf=keys_service.kdf_cost()
    )
    member = Member(group=group, joined_at=joined_at or timezone.now(), is_active=is_active)
    set_passphrase_record(member, record)
    with keyring.using(keys):
        member.pseudonym = pseudonym
        member.save()
    keys_service.grant_all(member, keys_service.keys_for_group(keys, group.pk))
    return member, private_key
