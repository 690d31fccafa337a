"""Member key pairs, passphrase wrapping, sealing and keyed hashes (libsodium via PyNaCl).

Each member has an X25519 key pair. The private key is stored only encrypted
(``SecretBox``, XSalsa20-Poly1305) under a key derived from the member's passphrase with
Argon2id. Group and federation keys are sealed to members' public keys (``SealedBox``).
See docs/decisions/0030-key-hierarchy.md.

Nothing here imports Django. Error messages never contain plaintext or key material.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import NamedTuple

import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils
from nacl.encoding import RawEncoder
from nacl.public import PublicKey, SealedBox

__all__ = [
    "DEFAULT_KDF",
    "FAST_KDF_FOR_TESTS",
    "KEY_BYTES",
    "CannotDecrypt",
    "CryptoError",
    "KdfCost",
    "KdfParams",
    "MemberKeys",
    "MissingKey",
    "PrivateKey",
    "WrongPassphrase",
    "keyed_hash",
    "new_member_keys",
    "new_secret_key",
    "open_sealed",
    "rewrap",
    "seal_to",
    "unlock",
]

KEY_BYTES = 32


class CryptoError(Exception):
    """Base class of every error raised by ``veche.crypto``."""


class WrongPassphrase(CryptoError):
    """The passphrase does not open the member's private key."""


class CannotDecrypt(CryptoError):
    """A ciphertext cannot be opened: wrong or missing key, tampered data, wrong context."""


class MissingKey(CannotDecrypt):
    """The keyring does not hold the key a blob needs (or any key for a scope)."""


class PrivateKey(nacl.public.PrivateKey):
    """A member's X25519 private key whose ``str``/``repr`` never show the key.

    PyNaCl's own ``PrivateKey.__str__`` returns ``str(bytes(key))``, so an f-string or a log
    line would leak it; every private key ``veche.crypto`` returns is this subclass.
    Functions taking a private key accept any ``nacl.public.PrivateKey``.
    """

    def __repr__(self) -> str:
        return "<PrivateKey (hidden)>"

    __str__ = __repr__


class KdfCost(NamedTuple):
    """Argon2id cost: ``(opslimit, memlimit in bytes)``; a ``tuple[int, int]``."""

    opslimit: int
    memlimit: int


# At or above OWASP's Argon2id recommendation (m=19 MiB, t=2, p=1); libsodium's argon2id
# always uses p=1. Same cost as the login hasher (decision 0013).
DEFAULT_KDF = KdfCost(opslimit=3, memlimit=64 * 1024 * 1024)
# For tests only: the Django layer selects it when its settings say so.
FAST_KDF_FOR_TESTS = KdfCost(opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters used to derive the key that wraps one member's private key."""

    salt: bytes
    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        if not isinstance(self.salt, bytes) or len(self.salt) != argon2id.SALTBYTES:
            raise CryptoError(f"KDF salt must be {argon2id.SALTBYTES} bytes")
        _check_cost(self.opslimit, self.memlimit)

    @classmethod
    def fresh(cls, kdf: tuple[int, int] | None = None) -> KdfParams:
        opslimit, memlimit = DEFAULT_KDF if kdf is None else kdf
        return cls(nacl.utils.random(argon2id.SALTBYTES), opslimit, memlimit)


def _check_cost(opslimit: int, memlimit: int) -> None:
    if not argon2id.OPSLIMIT_MIN <= opslimit <= argon2id.OPSLIMIT_MAX:
        raise CryptoError("Argon2id opslimit out of range")
    if not argon2id.MEMLIMIT_MIN <= memlimit <= argon2id.MEMLIMIT_MAX:
        raise CryptoError("Argon2id memlimit out of range")


_MEMBER_KEYS_MAGIC = b"MK1"
_MEMBER_KEYS_FIXED = struct.Struct(">3s32s16sIQ")  # magic, public key, salt, ops, mem


@dataclass(frozen=True)
class MemberKeys:
    """What the server stores for a member: the public key and the wrapped private key."""

    public_key: bytes
    sealed_private_key: bytes = field(repr=False)
    kdf: KdfParams

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, bytes) or len(self.public_key) != KEY_BYTES:
            raise CryptoError("public key must be 32 bytes")
        if not isinstance(self.sealed_private_key, bytes):
            raise CryptoError("sealed private key must be bytes")

    def to_bytes(self) -> bytes:
        """One versioned binary value, for storing the record in a single column."""
        head = _MEMBER_KEYS_FIXED.pack(
            _MEMBER_KEYS_MAGIC,
            self.public_key,
            self.kdf.salt,
            self.kdf.opslimit,
            self.kdf.memlimit,
        )
        return head + self.sealed_private_key

    @classmethod
    def from_bytes(cls, data: bytes) -> MemberKeys:
        size = _MEMBER_KEYS_FIXED.size
        if len(data) <= size:
            raise CryptoError("malformed member keys record")
        magic, public_key, salt, opslimit, memlimit = _MEMBER_KEYS_FIXED.unpack(data[:size])
        if magic != _MEMBER_KEYS_MAGIC:
            raise CryptoError("malformed member keys record")
        return cls(public_key, bytes(data[size:]), KdfParams(salt, opslimit, memlimit))


def _passphrase_key(passphrase: str, kdf: KdfParams) -> bytes:
    if not isinstance(passphrase, str) or not passphrase:
        raise WrongPassphrase("a passphrase is required")
    # The passphrase is used exactly as typed (UTF-8, no normalisation), like the login
    # hasher, so that a passphrase that logs in also unlocks.
    return argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        kdf.salt,
        opslimit=kdf.opslimit,
        memlimit=kdf.memlimit,
    )


def _wrap(
    private_key: nacl.public.PrivateKey, passphrase: str, kdf: tuple[int, int] | None
) -> MemberKeys:
    if not isinstance(passphrase, str) or not passphrase:
        raise CryptoError("a passphrase is required")
    params = KdfParams.fresh(kdf)
    box = nacl.secret.SecretBox(_passphrase_key(passphrase, params))
    sealed = bytes(box.encrypt(bytes(private_key)))
    return MemberKeys(bytes(private_key.public_key), sealed, params)


def new_member_keys(
    passphrase: str, *, kdf: tuple[int, int] | None = None
) -> tuple[MemberKeys, PrivateKey]:
    """Make a key pair; return the record to store and the unlocked private key."""
    private_key = PrivateKey(nacl.utils.random(PrivateKey.SIZE))
    return _wrap(private_key, passphrase, kdf), private_key


def unlock(record: MemberKeys, passphrase: str) -> PrivateKey:
    """Open the member's private key with their passphrase; raise WrongPassphrase."""
    box = nacl.secret.SecretBox(_passphrase_key(passphrase, record.kdf))
    try:
        raw = box.decrypt(record.sealed_private_key)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise WrongPassphrase("the passphrase does not unlock this member's keys") from None
    try:
        private_key = PrivateKey(raw)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt("member keys record is corrupt") from None
    if bytes(private_key.public_key) != record.public_key:
        raise CannotDecrypt("member keys record is corrupt")
    return private_key


def rewrap(
    private_key: nacl.public.PrivateKey, passphrase: str, *, kdf: tuple[int, int] | None = None
) -> MemberKeys:
    """Wrap the same private key under a new passphrase (or new cost), with a fresh salt."""
    return _wrap(private_key, passphrase, kdf)


def new_secret_key() -> bytes:
    """32 random bytes: a group or federation key for one epoch."""
    return nacl.utils.random(KEY_BYTES)


def seal_to(public_key: bytes, secret: bytes) -> bytes:
    """Encrypt ``secret`` so that only the holder of the matching private key can read it."""
    if not isinstance(public_key, bytes) or len(public_key) != KEY_BYTES:
        raise CryptoError("public key must be 32 bytes")
    return bytes(SealedBox(PublicKey(public_key)).encrypt(secret))


def open_sealed(private_key: nacl.public.PrivateKey, sealed: bytes) -> bytes:
    """Open a ``seal_to`` ciphertext; raise CannotDecrypt."""
    try:
        return bytes(SealedBox(private_key).decrypt(sealed))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt("cannot open sealed value") from None


_KEYED_HASH_PERSON = b"veche-keyed-v1"  # BLAKE2b personalisation is at most 16 bytes


def keyed_hash(server_key: bytes, text: str, *, purpose: str) -> str:
    """Hex BLAKE2b-256 of ``text`` under a per-purpose subkey of ``server_key``.

    Used to look a pseudonym up at login without storing it in clear. The text is hashed
    exactly as given: case-folding / normalisation is the caller's job.
    The subkey is ``BLAKE2b(purpose, key=server_key, person="veche-keyed-v1")``, so any
    purpose string works and hashes for different purposes are unrelated. Server keys
    longer than 64 bytes are first hashed with BLAKE2b-512 (as HMAC does with long keys).
    """
    if not isinstance(server_key, bytes) or len(server_key) < 16:
        raise CryptoError("server key must be at least 16 bytes")
    if not isinstance(purpose, str) or not purpose:
        raise CryptoError("purpose must be a non-empty string")
    if len(server_key) > nacl.hash.BLAKE2B_KEYBYTES_MAX:
        server_key = nacl.hash.blake2b(server_key, digest_size=64, encoder=RawEncoder)
    subkey = nacl.hash.blake2b(
        purpose.encode("utf-8"),
        digest_size=32,
        key=server_key,
        person=_KEYED_HASH_PERSON,
        encoder=RawEncoder,
    )
    digest = nacl.hash.blake2b(text.encode("utf-8"), digest_size=32, key=subkey, encoder=RawEncoder)
    return digest.hex()
