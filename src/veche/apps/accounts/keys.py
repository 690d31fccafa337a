"""Writes about keys: members' key pairs, grants of group and federation keys, rotation.

The server never stores a group's or the federation's key in clear: each exists only
sealed to members' public keys (``KeyGrant``) or packed into an unused invitation under
a key derived from the invitation's secret. New epochs are made by a member's request
(which holds the keys) or, before anyone has joined, by the operator's command.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from veche.apps.accounts.models import KeyEpoch, KeyGrant, Member
from veche.apps.core.statements import Statement
from veche.crypto import (
    DEFAULT_KDF,
    FAST_KDF_FOR_TESTS,
    FEDERATION,
    CannotDecrypt,
    KeyId,
    Keyring,
    PrivateKey,
    group_scope,
    new_secret_key,
    open_key,
    seal_key,
)


def kdf_cost() -> tuple[int, int]:
    """Return the Argon2id cost for new key records (cheap only when tests ask for it)."""
    if getattr(settings, "VECHE_FAST_KDF", False):
        return tuple(FAST_KDF_FOR_TESTS)  # type: ignore[return-value]
    return tuple(DEFAULT_KDF)  # type: ignore[return-value]


def latest_epoch(scope: str) -> int:
    """Return the newest epoch of the scope's key (0: it has none yet)."""
    return KeyEpoch.objects.filter(scope=scope).aggregate(m=Max("epoch"))["m"] or 0


def new_key(scope: str, *, now: dt.datetime | None = None) -> tuple[KeyId, bytes]:
    """Create the scope's next epoch; return its id and the key (to grant, never to store)."""
    epoch = latest_epoch(scope) + 1
    KeyEpoch.objects.create(scope=scope, epoch=epoch, created_at=now or timezone.now())
    return KeyId(scope, epoch), new_secret_key()


def grant(member: Member, key_id: KeyId, key: bytes) -> None:
    """Seal ``key`` to the member (idempotent for one key id)."""
    KeyGrant.objects.update_or_create(
        member=member,
        scope=key_id.scope,
        epoch=key_id.epoch,
        defaults={"sealed_key": seal_key(bytes(member.public_key), key_id, key)},
    )


def grant_all(member: Member, keys: Mapping[KeyId, bytes]) -> None:
    """Seal every key in ``keys`` to the member."""
    for key_id, key in keys.items():
        grant(member, key_id, key)


def keys_for_group(keyring: Keyring, group_id: int) -> dict[KeyId, bytes]:
    """Return every key in ``keyring`` a member of the group should hold: theirs and the
    federation's, all epochs (so a newcomer can read what was written before they joined)."""
    wanted = {group_scope(group_id), FEDERATION}
    return {key_id: keyring.get(key_id) for key_id in keyring if key_id.scope in wanted}


def rotate(scope: str, holders: Iterable[Member], *, now: dt.datetime | None = None) -> KeyId:
    """Make a new epoch of the scope's key and seal it to each of ``holders``.

    Content written afterwards uses the new epoch; whoever is not among ``holders``
    (a removed member) cannot read it.
    """
    key_id, key = new_key(scope, now=now)
    for member in holders:
        grant(member, key_id, key)
    return key_id


def share_missing_keys(keyring: Keyring, member: Member) -> int:
    """Seal the newest keys ``keyring`` holds to active members who should hold them but
    do not; return how many grants were made.

    Any holder may share a key with anyone entitled to it, since members' public keys
    are public: so someone who joined with an invitation made before a rotation gets
    the new epoch the next time a fellow member logs in, with nobody needing to act.
    """
    made = 0
    for scope in (FEDERATION, group_scope(member.group_id)):
        key_id = keyring.latest(scope)
        if key_id is None or key_id.epoch != latest_epoch(scope):
            continue
        entitled = Member.objects.filter(is_active=True, group__dissolved_at__isnull=True)
        if scope != FEDERATION:
            entitled = entitled.filter(group_id=member.group_id)
        have = KeyGrant.objects.filter(scope=scope, epoch=key_id.epoch).values("member_id")
        for other in entitled.exclude(pk__in=have):
            grant(other, key_id, keyring.get(key_id))
            made += 1
    return made


# No member has this id: it marks where the id goes when the statement is compiled.
_MEMBER_ID = -1_000_000_007


@functools.cache
def _grants_of() -> Statement:
    """A member's ``(scope, epoch, sealed_key)`` grants, compiled once (read by every request)."""
    return Statement(
        KeyGrant.objects.filter(member_id=_MEMBER_ID).values_list("scope", "epoch", "sealed_key"),
        (_MEMBER_ID,),
    )


def grants_of(member_id: int) -> list[list[Any]]:
    """Return the member's key grants as :func:`open_grants` takes them."""
    return _grants_of().rows(member_id)


# Where a member read with their grants (accounts.backends) keeps them until opened.
_READ_GRANTS = "_grants_read_with_member"


def remember_grants(member: Member, grants: list[list[Any]]) -> None:
    """Keep the grants read with ``member`` for the first :func:`keyring_for` to open."""
    setattr(member, _READ_GRANTS, grants)


def keyring_for(member: Member, private_key: PrivateKey) -> Keyring:
    """Return a keyring holding every key granted to ``member`` that opens with ``private_key``.

    The grants read with the member (at the start of a request) serve once, for the
    request's keyring; any later call reads them afresh, after whatever the request wrote.
    """
    # Attribute access, not __dict__: the request's member is Django's lazy proxy of it.
    grants = getattr(member, _READ_GRANTS, None)
    if grants is not None:
        delattr(member, _READ_GRANTS)
    return open_grants(grants_of(member.pk) if grants is None else grants, private_key)


def open_grants(grants: Iterable[Any], private_key: PrivateKey) -> Keyring:
    """Return a keyring holding the keys of ``grants`` (a member's ``(scope, epoch,
    sealed_key)`` rows, as :func:`keyring_for` reads them) that open with ``private_key``."""
    keyring = Keyring()
    for scope, epoch, sealed in grants:
        try:
            key_id = KeyId(scope, epoch)
            keyring.add(key_id, open_key(private_key, key_id, bytes(sealed)))
        except CannotDecrypt:
            # A grant that does not open is someone's mistake, never a reason to stop
            # the member from reading what their other keys open.
            continue
    return keyring


def share_on_login(member: Member, private_key: PrivateKey) -> None:
    """Pass the newest keys ``member`` holds to fellow members who lack them."""
    share_missing_keys(keyring_for(member, private_key), member)
