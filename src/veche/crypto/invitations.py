"""Invitations that carry the content keys they grant.

The invitation secret (in the URL, never stored) yields two unrelated values:

* ``invitation_lookup_hash``: sha256 hex, stored as ``Invitation.token_hash`` to find the row;
* a 32-byte key, BLAKE2b-256 of the secret personalised ``veche-invite-v1``, which encrypts
  (``SecretBox``) the keys the newcomer will receive.

A database dump holds the hash and the encrypted keys, neither of which opens the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import nacl.exceptions
import nacl.hash
import nacl.secret
from nacl.encoding import RawEncoder

from veche.crypto.envelope import KeyId
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
    payload: dict[str, str] = {}
    for key_id, key in keys.items():
        if not isinstance(key_id, KeyId):
            raise CryptoError("key id must be a KeyId")
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise CryptoError("keys must be 32 bytes")
        payload[str(key_id)] = key.hex()
    data = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")
    return bytes(_box(secret).encrypt(data))


def unpack_keys(secret: str, blob: bytes) -> dict[KeyId, bytes]:
    """Decrypt a ``pack_keys`` value; raise CannotDecrypt."""
    try:
        data = _box(secret).decrypt(bytes(blob))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt("invitation keys cannot be opened") from None
    try:
        payload = json.loads(data)
        if not isinstance(payload, dict):
            raise ValueError
        keys: dict[KeyId, bytes] = {}
        for name, hex_key in payload.items():
            if not isinstance(hex_key, str):
                raise ValueError
            key = bytes.fromhex(hex_key)
            if len(key) != KEY_BYTES:
                raise ValueError
            keys[KeyId.parse(name)] = key
    except (ValueError, CryptoError):
        raise CannotDecrypt("invitation keys are malformed") from None
    return keys
