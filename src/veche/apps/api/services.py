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
from typing import Any

from django.db import DatabaseError, connections
from django.db.models.query import get_related_populators
from django.utils import timezone

from veche.apps.accounts.keys import keys_for_group, open_grants
from veche.apps.accounts.models import KeyGrant, Member
from veche.apps.api.models import AccessKey
from veche.apps.core.busy import short_waits
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


class _Statement:
    """A SELECT compiled once per process, then run with a fresh value in one place.

    Every API request and feed read looks up its secret and opens its key grants: two
    small indexed queries, which Django took longer to build than to run. These are built
    once (with ``placeholder`` where the value goes) and their rows converted as Django's
    own iterators convert them.
    """

    def __init__(self, queryset: Any, placeholder: Any) -> None:
        self.alias = queryset.db
        compiler = queryset.query.get_compiler(using=self.alias)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.at = self.params.index(placeholder)
        self.select = compiler.select
        self.klass_info = compiler.klass_info
        self.converters = compiler.get_converters([col for col, _sql, _alias in self.select])

    def rows(self, value: Any) -> list[list[Any]]:
        params = list(self.params)
        params[self.at] = value
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            found = [list(row) for row in cursor.fetchall()]
        for row in found:
            for at, (converters, expression) in self.converters.items():
                for converter in converters:
                    row[at] = converter(row[at], expression, connection)
        return found


class _Lookup:
    """The row of a secret's hash, with its member and their group: one indexed query."""

    def __init__(self, kinds: tuple[str, ...]) -> None:
        placeholder = "0" * 64
        self.statement = _Statement(
            AccessKey.objects.select_related("member", "member__group")
            .filter(secret_hash=placeholder, kind__in=kinds)
            .order_by()[:1],  # secret_hash is unique
            placeholder,
        )
        select, klass_info = self.statement.select, self.statement.klass_info
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [col.target.attname for col, _sql, _alias in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, self.statement.alias)

    def find(self, secret_hash: str) -> AccessKey | None:
        """Return the row, made as ``.select_related("member", "member__group")`` makes it."""
        for row in self.statement.rows(secret_hash):
            key = AccessKey.from_db(
                self.statement.alias, self.init_list, row[self.start : self.end]
            )
            for populator in self.populators:
                populator.populate(row, key)
            return key
        return None


@functools.cache
def _lookup(kinds: tuple[str, ...]) -> _Lookup:
    return _Lookup(kinds)


@functools.cache
def _grants() -> _Statement:
    """The member's key grants, as ``accounts.keys.keyring_for`` reads them."""
    placeholder = -1_000_000_007  # no member's id
    return _Statement(
        KeyGrant.objects.filter(member_id=placeholder).values_list("scope", "epoch", "sealed_key"),
        placeholder,
    )


def authenticate(
    secret: str, *, kinds: tuple[str, ...], now: dt.datetime | None = None
) -> Holder | None:
    """Return who ``secret`` speaks for and its keys, or None (unknown, revoked, removed).

    A member who has left or whose group was dissolved is nobody here, as on the pages.
    """
    if not secret or len(secret) > 200:
        return None
    row = _lookup(kinds).find(access_lookup_hash(secret))
    if row is None or not _usable_member(row.member):
        return None
    keyring = Keyring()
    try:
        if row.kind == AccessKey.Kind.TOKEN:
            private_key = unwrap_token_key(secret, bytes(row.sealed))
            keyring = open_grants(_grants().rows(row.member_id), private_key)
        elif row.sealed:
            for key_id, key in unpack_feed_keys(secret, bytes(row.sealed)).items():
                keyring.add(key_id, key)
    except CannotDecrypt:
        return None
    _mark_used(row, timezone.localdate(now or timezone.now()))
    return Holder(key=row, member=row.member, keyring=keyring)
