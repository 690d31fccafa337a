"""Invitations that carry the content keys they grant.

The invitation secret (in the URL, never stored) yields two unrelated values:

* ``invitation_lookup_hash``: sha256 hex, stored as ``Invitation.token_hash`` to find the row;
* a 32-byte key, BLAKE2b-256 of the secret personalised ``veche-invite-v1``, which encrypts
  (``SecretBox``) the keys the newcomer will receive.

A database dump holds the hash and the encrypted keys, neither of which opens the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import nacl.exceptions
import nacl.hash
import nacl.secret
from nacl.encoding import RawEncoder

from veche.crypto.envelope import KeyId, decode_keys, encode_keys
from veche.crypto.keys import KEY_BYTES, CannotDecrypt, CryptoError

__all__ = ["invitation_lookup_hash", "pack_keys", "unpack_keys"]

_PERSON = b"veche-invite-v1"


def invitation_lookup_hash(secret: str) -> str:
    """sha256 hex of the secret: what the app stores as ``Invitation.token_hash``."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _box(secret: str) -> nacl.secret.SecretBox:
    if not isinstance(secret, str) or not secret:
        raise CannotDecrypt("an invitation secret is required")
    key = nacl.hash.blake2b(
        secret.encode("utf-8"), digest_size=KEY_BYTES, person=_PERSON, encoder=RawEncoder
    )
    return nacl.secret.SecretBox(key)


def pack_keys(secret: str, keys: Mapping[KeyId, bytes]) -> bytes:
    """Encrypt ``{KeyId: key}`` under the invitation secret."""
    return bytes(_box(secret).encrypt(encode_keys(keys)))


def unpack_keys(secret: str, blob: bytes) -> dict[KeyId, bytes]:
    """Decrypt a ``pack_keys`` value; raise CannotDecrypt."""
    try:
        data = _box(secret).decrypt(bytes(blob))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt("invitation keys cannot be opened") from None
    try:
        keys = decode_keys(data)
    except (ValueError, CryptoError):
        raise CannotDecrypt("invitation keys are malformed") from None
    return keys
