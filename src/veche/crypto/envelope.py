"""Authenticated encryption of content under scoped, versioned keys.

Blob format (all of it is authenticated)::

    b"V1" | len(scope) (1 byte) | scope (ASCII) | epoch (4 bytes, big-endian)
          | nonce (24 bytes) | XChaCha20-Poly1305-IETF ciphertext + tag (16 bytes)

AAD = header (everything before the nonce) + b"\\x00" + context (UTF-8). The context names
where the blob lives (e.g. ``"proposal:42:body"``), so a blob copied to another row or
field, or relabelled with another key id, fails to decrypt.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import nacl.bindings
import nacl.exceptions
import nacl.public
import nacl.utils

from veche.crypto.keys import (
    KEY_BYTES,
    CannotDecrypt,
    CryptoError,
    MissingKey,
    open_sealed,
    seal_to,
)

__all__ = [
    "FEDERATION",
    "KeyId",
    "Keyring",
    "decode_keys",
    "encode_keys",
    "group_scope",
    "key_id_of",
    "open_key",
    "seal_key",
]

MAGIC: Final = b"V1"
NONCE_BYTES: Final = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
TAG_BYTES: Final = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
FEDERATION: Final = "f"
MAX_EPOCH: Final = 2**32 - 1
# "f" or "g<group id>"; no leading zeros, so each group has exactly one spelling.
_SCOPE_RE = re.compile(r"f|g(?:0|[1-9][0-9]*)")
_EPOCH = struct.Struct(">I")


def group_scope(group_id: int) -> str:
    """The scope of a group's key: ``"g<id>"``."""
    if isinstance(group_id, bool) or not isinstance(group_id, int) or group_id < 0:
        raise CryptoError("group id must be a non-negative integer")
    return f"g{group_id}"


def _check_scope(scope: str) -> None:
    if not isinstance(scope, str) or len(scope) > 255 or not _SCOPE_RE.fullmatch(scope):
        raise CryptoError("key scope must be 'f' or 'g<group id>'")


def _check_context(context: str) -> bytes:
    if not isinstance(context, str) or not context:
        raise CryptoError("context must be a non-empty string")
    return context.encode("utf-8")


@dataclass(frozen=True, order=True)
class KeyId:
    """Which key: a scope (``"f"`` = federation, ``"g<id>"`` = a group) and an epoch >= 1."""

    scope: str
    epoch: int

    def __post_init__(self) -> None:
        _check_scope(self.scope)
        if isinstance(self.epoch, bool) or not isinstance(self.epoch, int):
            raise CryptoError("key epoch must be an integer")
        if not 1 <= self.epoch <= MAX_EPOCH:
            raise CryptoError("key epoch must be between 1 and 2**32 - 1")

    def __str__(self) -> str:
        return f"{self.scope}:{self.epoch}"

    @classmethod
    def parse(cls, text: str) -> KeyId:
        """Inverse of ``str()``: ``"g3:2"`` -> ``KeyId("g3", 2)``."""
        scope, sep, epoch = text.partition(":")
        if not sep or not epoch.isascii() or not epoch.isdigit():
            raise CryptoError("malformed key id")
        return cls(scope, int(epoch))

    def header(self) -> bytes:
        scope = self.scope.encode("ascii")
        return MAGIC + bytes([len(scope)]) + scope + _EPOCH.pack(self.epoch)


# Headers already read, and the key id each names: a page opens dozens of values under
# the same few keys. Headers are public (the scope and epoch of a key); bounded.
_HEADERS: dict[bytes, KeyId] = {}
_HEADERS_HELD = 1024


def _parse(blob: bytes) -> tuple[KeyId, bytes, bytes, bytes]:
    """Split a blob into (key id, header, nonce, ciphertext); raise CannotDecrypt."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise CannotDecrypt("not an encrypted blob")
    blob = bytes(blob)
    if len(blob) < 3 or blob[:2] != MAGIC:
        raise CannotDecrypt("not an encrypted blob")
    n = blob[2]
    end = 3 + n + _EPOCH.size
    if len(blob) < end + NONCE_BYTES + TAG_BYTES:
        raise CannotDecrypt("truncated encrypted blob")
    header = blob[:end]
    key_id = _HEADERS.get(header)
    if key_id is None:
        try:
            scope = blob[3 : 3 + n].decode("ascii")
            (epoch,) = _EPOCH.unpack(blob[3 + n : end])
            key_id = KeyId(scope, epoch)
        except (UnicodeDecodeError, CryptoError):
            raise CannotDecrypt("malformed encrypted blob header") from None
        if len(_HEADERS) < _HEADERS_HELD:
            _HEADERS[header] = key_id
    return key_id, header, blob[end : end + NONCE_BYTES], blob[end + NONCE_BYTES :]


def encode_keys(keys: Mapping[KeyId, bytes]) -> bytes:
    """Return ``{KeyId: key}`` as canonical JSON bytes, for a box sealed under a secret
    (an invitation's keys, a feed's read-only copy)."""
    payload: dict[str, str] = {}
    for key_id, key in keys.items():
        if not isinstance(key_id, KeyId):
            raise CryptoError("key id must be a KeyId")
        payload[str(key_id)] = _check_key(key).hex()
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")


def decode_keys(data: bytes) -> dict[KeyId, bytes]:
    """Inverse of ``encode_keys``; raise ValueError or CryptoError on anything else."""
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError("not a mapping of keys")
    keys: dict[KeyId, bytes] = {}
    for name, hex_key in payload.items():
        if not isinstance(hex_key, str):
            raise ValueError("a key is not hex text")
        key = bytes.fromhex(hex_key)
        if len(key) != KEY_BYTES:
            raise ValueError("a key is not 32 bytes")
        keys[KeyId.parse(name)] = key
    return keys


def key_id_of(blob: bytes) -> KeyId:
    """The key id named in a blob's header, read without decrypting (unauthenticated)."""
    return _parse(blob)[0]


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise CryptoError("keys must be 32 bytes")
    return key


# How many opened texts a keyring keeps (see Keyring.decrypt): more than any page names,
# and a bound for the keyrings that live longer than a request (building the demo).
OPENED_HELD = 512


class Keyring:
    """The content keys one request may use. Its repr lists key ids, never keys.

    It also keeps the texts it has opened, so a value a page shows twice (a name beside
    each of its messages) is decrypted once. They live as long as the keyring, which is
    one request's: what the request may read anyway, never kept past it.
    """

    __slots__ = ("_keys", "_opened")

    def __init__(self, keys: Mapping[KeyId, bytes] = MappingProxyType({})) -> None:
        self._keys: dict[KeyId, bytes] = {}
        self._opened: dict[tuple[bytes, str], str] = {}
        for key_id, key in keys.items():
            self.add(key_id, key)

    def __repr__(self) -> str:
        ids = ", ".join(str(k) for k in sorted(self._keys))
        return f"<Keyring [{ids}]>"

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[KeyId]:
        return iter(sorted(self._keys))

    def add(self, key_id: KeyId, key: bytes) -> None:
        if not isinstance(key_id, KeyId):
            raise CryptoError("key id must be a KeyId")
        key = _check_key(key)
        held = self._keys.get(key_id)
        if held is not None and not nacl.bindings.sodium_memcmp(held, key):
            raise CryptoError(f"a different key is already held for {key_id}")
        self._keys[key_id] = key

    def has(self, key_id: KeyId) -> bool:
        return key_id in self._keys

    def get(self, key_id: KeyId) -> bytes:
        """The raw key (to seal it to a member or pack it into an invitation)."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise MissingKey(f"no key held for {key_id}") from None

    def latest(self, scope: str) -> KeyId | None:
        """The highest epoch held for ``scope``, or None."""
        _check_scope(scope)
        epochs = [k.epoch for k in self._keys if k.scope == scope]
        return KeyId(scope, max(epochs)) if epochs else None

    def encrypt_bytes(self, scope: str, plaintext: bytes, *, context: str) -> bytes:
        """Encrypt with the latest key of ``scope``; raise MissingKey if none is held."""
        if not isinstance(plaintext, bytes | bytearray | memoryview):
            raise CryptoError("plaintext must be bytes")
        aad_tail = _check_context(context)
        key_id = self.latest(scope)
        if key_id is None:
            raise MissingKey(f"no key held for scope {scope}")
        header = key_id.header()
        nonce = nacl.utils.random(NONCE_BYTES)
        ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            bytes(plaintext), header + b"\x00" + aad_tail, nonce, self._keys[key_id]
        )
        return header + nonce + ciphertext

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        """Decrypt; raise CannotDecrypt (MissingKey if the key is not held)."""
        aad_tail = _check_context(context)
        key_id, header, nonce, ciphertext = _parse(blob)
        key = self._keys.get(key_id)
        if key is None:
            raise MissingKey(f"no key held for {key_id}")
        try:
            return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                ciphertext, header + b"\x00" + aad_tail, nonce, key
            )
        except nacl.exceptions.CryptoError:
            raise CannotDecrypt("decryption failed: wrong key, context or tampered") from None

    def encrypt(self, scope: str, plaintext: str, *, context: str) -> bytes:
        """Encrypt text (UTF-8) with the latest key of ``scope``."""
        if not isinstance(plaintext, str):
            raise CryptoError("plaintext must be str")
        return self.encrypt_bytes(scope, plaintext.encode("utf-8"), context=context)

    def decrypt(self, blob: bytes, *, context: str) -> str:
        # Only what opened is kept: a blob opens under its context or never, and a key
        # once held stays held, so a kept text is what decrypting again would give.
        kept = (bytes(blob), context)
        found = self._opened.get(kept)
        if found is not None:
            return found
        raw = self.decrypt_bytes(blob, context=context)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CannotDecrypt("decrypted value is not text") from None
        if len(self._opened) >= OPENED_HELD:
            self._opened.clear()
        self._opened[kept] = text
        return text

    def try_decrypt(self, blob: bytes | None, *, context: str, fallback: str = "") -> str:
        """Like decrypt, but ``fallback`` for None or anything that cannot be decrypted."""
        if blob is None:
            return fallback
        try:
            return self.decrypt(blob, context=context)
        except CannotDecrypt:
            return fallback


# Sealing a content key to a member, bound to its key id: a sealed key moved to another
# (scope, epoch) row of the database is refused instead of being used under the wrong label.
def seal_key(public_key: bytes, key_id: KeyId, key: bytes) -> bytes:
    """``seal_to`` of ``key`` prefixed with its key id header."""
    return seal_to(public_key, key_id.header() + _check_key(key))


def open_key(private_key: nacl.public.PrivateKey, key_id: KeyId, sealed: bytes) -> bytes:
    """Open a ``seal_key`` value; raise CannotDecrypt if it is not the key for ``key_id``."""
    raw = open_sealed(private_key, sealed)
    header = key_id.header()
    if len(raw) != len(header) + KEY_BYTES or not nacl.bindings.sodium_memcmp(
        raw[: len(header)], header
    ):
        raise CannotDecrypt("sealed key does not belong to this key id")
    return raw[len(header) :]
