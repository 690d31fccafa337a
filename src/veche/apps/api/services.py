"""Making, using and revoking API tokens and private feeds.

A secret is shown to the member once, when it is made; the server keeps its hash and
what it unlocks sealed under a key derived from it (veche.crypto.access). Using a
secret opens that copy for one request; revoking deletes the row, so the secret answers
404 from the next request on. See docs/decisions/0120-api-tokens-and-feeds.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from dataclasses import dataclass, field

from django.db import DatabaseError
from django.utils import timezone

from veche.apps.accounts.keys import grants_of, keys_for_group, open_grants
from veche.apps.accounts.models import Member
from veche.apps.api.models import AccessKey
from veche.apps.core.busy import short_waits
from veche.apps.core.statements import ModelStatement
from veche.apps.federation.permissions import is_group_member
from veche.crypto import (
    CannotDecrypt,
    Keyring,
    PrivateKey,
    access_lookup_hash,
    new_access_secret,
    pack_feed_keys,
    unpack_feed_keys,
    unwrap_token_key,
    wrap_token_key,
)

# At most this many tokens and feeds per member: a runaway script cannot fill the table.
MAX_PER_MEMBER = 20


class TooMany(Exception):
    """The member already holds ``MAX_PER_MEMBER`` tokens and feeds."""


@dataclass
class Holder:
    """Who a presented secret speaks for, and the keys it opened for this request."""

    key: AccessKey
    member: Member
    keyring: Keyring = field(repr=False)

    @property
    def may_act(self) -> bool:
        return self.key.kind == AccessKey.Kind.TOKEN and self.key.scope == AccessKey.Scope.ACT


def _check_room(member: Member) -> None:
    if AccessKey.objects.filter(member=member).count() >= MAX_PER_MEMBER:
        raise TooMany


def create_token(
    *, member: Member, private_key: PrivateKey, may_act: bool, now: dt.datetime | None = None
) -> tuple[AccessKey, str]:
    """Make an API token for ``member``; return its row and its secret (shown once)."""
    _check_room(member)
    secret = new_access_secret()
    row = AccessKey.objects.create(
        member=member,
        kind=AccessKey.Kind.TOKEN,
        scope=AccessKey.Scope.ACT if may_act else AccessKey.Scope.READ,
        secret_hash=access_lookup_hash(secret),
        sealed=wrap_token_key(secret, private_key),
        created_at=now or timezone.now(),
    )
    return row, secret


def create_feed(
    *,
    member: Member,
    kind: str,
    keyring: Keyring | None = None,
    now: dt.datetime | None = None,
) -> tuple[AccessKey, str]:
    """Make a private feed; with ``keyring``, one with titles (it keeps a copy of the keys)."""
    if kind not in (AccessKey.Kind.INBOX_FEED, AccessKey.Kind.DECISIONS_FEED):
        raise ValueError(kind)
    _check_room(member)
    secret = new_access_secret()
    sealed = None
    if keyring is not None and member.group_id is not None:
        sealed = pack_feed_keys(secret, keys_for_group(keyring, member.group_id))
    row = AccessKey.objects.create(
        member=member,
        kind=kind,
        with_titles=sealed is not None,
        secret_hash=access_lookup_hash(secret),
        sealed=sealed,
        created_at=now or timezone.now(),
    )
    return row, secret


def revoke(*, member: Member, key_id: int) -> bool:
    """Delete one of the member's tokens or feeds (and its sealed keys); return if it was."""
    deleted, _ = AccessKey.objects.filter(member=member, pk=key_id).delete()
    return bool(deleted)


def revoke_all(*, member: Member) -> int:
    """Delete every token and feed of the member; return how many."""
    deleted, _ = AccessKey.objects.filter(member=member).delete()
    return deleted


def _usable_member(member: Member) -> bool:
    group = member.group if member.group_id is not None else None
    return group is not None and is_group_member(member, group)


def _mark_used(row: AccessKey, today: dt.date) -> None:
    # At most one write a day per secret; a busy database skips it (it is a courtesy).
    if row.last_used_on == today:
        return
    with contextlib.suppress(DatabaseError), short_waits():
        AccessKey.objects.filter(pk=row.pk).update(last_used_on=today)
    row.last_used_on = today


@functools.cache
def _lookup(kinds: tuple[str, ...]) -> ModelStatement:
    """The row of a secret's hash, with its member and their group: one indexed query."""
    placeholder = "0" * 64
    return ModelStatement(
        AccessKey.objects.select_related("member", "member__group")
        .filter(secret_hash=placeholder, kind__in=kinds)
        .order_by()[:1],  # secret_hash is unique
        (placeholder,),
    )


def authenticate(
    secret: str, *, kinds: tuple[str, ...], now: dt.datetime | None = None
) -> Holder | None:
    """Return who ``secret`` speaks for and its keys, or None (unknown, revoked, removed).

    A member who has left or whose group was dissolved is nobody here, as on the pages.
    """
    if not secret or len(secret) > 200:
        return None
    found = _lookup(kinds).objects(access_lookup_hash(secret))
    row = found[0] if found else None
    if row is None or not _usable_member(row.member):
        return None
    keyring = Keyring()
    try:
        if row.kind == AccessKey.Kind.TOKEN:
            private_key = unwrap_token_key(secret, bytes(row.sealed))
            keyring = open_grants(grants_of(row.member_id), private_key)
        elif row.sealed:
            for key_id, key in unpack_feed_keys(secret, bytes(row.sealed)).items():
                keyring.add(key_id, key)
    except CannotDecrypt:
        return None
    _mark_used(row, timezone.localdate(now or timezone.now()))
    return Holder(key=row, member=row.member, keyring=keyring)
