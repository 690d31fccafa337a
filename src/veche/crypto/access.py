"""Secrets that reach a member's content without a login: API tokens and private feeds.

A token's or a feed's secret (32 random bytes, URL-safe base64) is given to the member
once and never stored. From it come three unrelated values, each by its own
domain-separated hash, so that none of them opens another:

* ``access_lookup_hash``: SHA-256 of a fixed prefix and the secret, stored to find the row;
* for an API token, a ``SecretBox`` key (BLAKE2b-256, person ``veche-token-v1``) that wraps
  a copy of the member's private key: the token reads and writes as the member does,
  through their key grants, so it follows key rotations and stops reading what the member
  may no longer read (their grants are deleted when they are removed);
* for a feed "with titles", a ``SecretBox`` key (person ``veche-feed-v1``) that packs a
  read-only copy of the member's group and federation keys (never the private key: a
  feed reader cannot act, and holds only what was current when the feed was made).

Deleting the row destroys the sealed copy: the secret then opens nothing.
See docs/decisions/0120-api-tokens-and-feeds.md.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping

import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.secret
from nacl.encoding import RawEncoder

from veche.crypto.envelope import KeyId, decode_keys, encode_keys
from veche.crypto.keys import KEY_BYTES, CannotDecrypt, CryptoError, PrivateKey

__all__ = [
    "access_lookup_hash",
    "new_access_secret",
    "pack_feed_keys",
    "unpack_feed_keys",
    "unwrap_token_key",
    "wrap_token_key",
]

_SECRET_BYTES = 32
_TOKEN_PERSON = b"veche-token-v1"
_FEED_PERSON = b"veche-feed-v1"
_LOOKUP_PREFIX = b"veche-access-lookup-v1:"


def new_access_secret() -> str:
    """Return a fresh secret: 32 random bytes as URL-safe base64 without padding (43 chars)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_SECRET_BYTES)).rstrip(b"=").decode()


def access_lookup_hash(secret: str) -> str:
    """Return the hex SHA-256 under which a token's or feed's row is found (never the secret)."""
    return hashlib.sha256(_LOOKUP_PREFIX + secret.encode("utf-8", "replace")).hexdigest()


def _box(secret: str, person: bytes) -> nacl.secret.SecretBox:
    if not isinstance(secret, str) or not secret:
        raise CannotDecrypt("a secret is required")
    key = nacl.hash.blake2b(
        secret.encode("utf-8", "replace"), digest_size=KEY_BYTES, person=person, encoder=RawEncoder
    )
    return nacl.secret.SecretBox(key)


def wrap_token_key(secret: str, private_key: nacl.public.PrivateKey) -> bytes:
    """Return the member's private key encrypted under a key derived from a token's secret."""
    return bytes(_box(secret, _TOKEN_PERSON).encrypt(bytes(private_key)))


def unwrap_token_key(secret: str, blob: bytes) -> PrivateKey:
    """Open a ``wrap_token_key`` value; raise CannotDecrypt."""
    try:
        return PrivateKey(_box(secret, _TOKEN_PERSON).decrypt(bytes(blob)))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt("token keys cannot be opened") from None


def pack_feed_keys(secret: str, keys: Mapping[KeyId, bytes]) -> bytes:
    """Encrypt ``{KeyId: key}`` (a read-only copy) under a key derived from a feed's secret."""
    return bytes(_box(secret, _FEED_PERSON).encrypt(encode_keys(keys)))


def unpack_feed_keys(secret: str, blob: bytes) -> dict[KeyId, bytes]:
    """Decrypt a ``pack_feed_keys`` value; raise CannotDecrypt."""
    try:
        data = _box(secret, _FEED_PERSON).decrypt(bytes(blob))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt("feed keys cannot be opened") from None
    try:
        keys = decode_keys(data)
    except (ValueError, CryptoError):
        raise CannotDecrypt("feed keys are malformed") from None
    return keys
