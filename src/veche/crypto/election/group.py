"""The prime-order group of secret ballots: secp256k1 through libsecp256k1 (coincurve).

Every point operation of ``veche.crypto.election`` goes through this module, so that the
group could be swapped for another (ristretto255, say) by rewriting only this file; see
docs/decisions/0060-ballot-group-secp256k1.md. Points are the opaque 64-byte structures
libsecp256k1 works on, reached through coincurve's cffi module because coincurve's
``PublicKey`` wrapper costs a third more per operation and hides the constant-time
multiplication we need for secrets. libsecp256k1 has no identity element (its "point at
infinity" is an error), so ``Point`` represents it explicitly as ``_raw is None``: a sum
of ciphertexts, or ``K^0`` for a total of zero, is the identity and must work.

Two multiplications: ``mul`` is variable-time and only ever sees public scalars (the
verifier's challenges and responses); ``mul_secret`` and ``base_mul`` are constant-time
(libsecp256k1's ``ecdh`` and ``ec_pubkey_create``) and take every secret: encryption
nonces, proof nonces, key shares.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from coincurve._libsecp256k1 import ffi as _ffi_untyped
from coincurve._libsecp256k1 import lib as _lib_untyped
from coincurve.context import Context

__all__ = [
    "POINT_BYTES",
    "SCALAR_BYTES",
    "GroupError",
    "Point",
    "Q",
    "base_mul",
    "hash_to_scalar",
    "random_scalar",
    "scalar_from_bytes",
    "scalar_to_bytes",
    "sum_encoded",
    "sum_points",
]

ffi: Any = _ffi_untyped
lib: Any = _lib_untyped

Q = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The order of secp256k1's group (prime): scalars live in Z_Q."""

POINT_BYTES = 64  # x || y, big-endian; all zeros is the identity (not a curve point)
SCALAR_BYTES = 32
_IDENTITY_BYTES = bytes(POINT_BYTES)
_UNCOMPRESSED = 2  # SECP256K1_EC_UNCOMPRESSED

# Our own randomised context: coincurve's Context blinds ec_pubkey_create with a fresh seed.
_CTX: Any = Context(name="veche-ballots").ctx


class GroupError(ValueError):
    """Bytes that are not a point or a scalar of the group."""


def _copy_xy_into(output: Any, x32: Any, y32: Any, data: Any) -> int:
    # libsecp256k1's ecdh hands the shared point's coordinates to a "hash" function; ours
    # copies them, turning ecdh into a constant-time multiplication by a secret scalar.
    output[0] = 4
    ffi.memmove(output + 1, x32, 32)
    ffi.memmove(output + 33, y32, 32)
    return 1


_copy_xy = ffi.callback("int(unsigned char *, unsigned char *, unsigned char *, void *)")(
    _copy_xy_into
)


class Point:
    """A point of secp256k1, or the identity; immutable."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Any) -> None:
        self._raw = raw  # a "secp256k1_pubkey *", or None for the identity

    @classmethod
    def identity(cls) -> Point:
        return cls(None)

    @classmethod
    def from_bytes(cls, data: bytes) -> Point:
        """Return the point ``data`` encodes (x || y); raise GroupError if it is not one."""
        if not isinstance(data, bytes) or len(data) != POINT_BYTES:
            raise GroupError(f"a point is {POINT_BYTES} bytes")
        if data == _IDENTITY_BYTES:
            return cls(None)
        raw = ffi.new("secp256k1_pubkey *")
        if not lib.secp256k1_ec_pubkey_parse(_CTX, raw, b"\x04" + data, POINT_BYTES + 1):
            raise GroupError("not a point on the curve")
        return cls(raw)

    @property
    def is_identity(self) -> bool:
        return self._raw is None

    def to_bytes(self) -> bytes:
        """Return the 64-byte encoding (x || y), all zeros for the identity."""
        if self._raw is None:
            return _IDENTITY_BYTES
        out = ffi.new("unsigned char[65]")
        size = ffi.new("size_t *", 65)
        lib.secp256k1_ec_pubkey_serialize(_CTX, out, size, self._raw, _UNCOMPRESSED)
        return bytes(ffi.buffer(out, 65))[1:]

    def __add__(self, other: Point) -> Point:
        return sum_points((self, other))

    def __neg__(self) -> Point:
        if self._raw is None:
            return self
        raw = ffi.new("secp256k1_pubkey *")
        ffi.memmove(raw, self._raw, POINT_BYTES)
        lib.secp256k1_ec_pubkey_negate(_CTX, raw)
        return Point(raw)

    def __sub__(self, other: Point) -> Point:
        return sum_points((self, -other))

    def mul(self, scalar: int) -> Point:
        """Return ``scalar * self`` in variable time: only for public scalars."""
        scalar %= Q
        if self._raw is None or scalar == 0:
            return Point(None)
        raw = ffi.new("secp256k1_pubkey *")
        ffi.memmove(raw, self._raw, POINT_BYTES)
        lib.secp256k1_ec_pubkey_tweak_mul(_CTX, raw, scalar.to_bytes(SCALAR_BYTES, "big"))
        return Point(raw)

    def mul_secret(self, scalar: int) -> Point:
        """Return ``scalar * self`` in constant time (libsecp256k1's ecdh)."""
        scalar %= Q
        if self._raw is None or scalar == 0:
            return Point(None)
        out = ffi.new("unsigned char[65]")
        key = scalar.to_bytes(SCALAR_BYTES, "big")
        lib.secp256k1_ecdh(_CTX, out, self._raw, key, _copy_xy, ffi.NULL)
        raw = ffi.new("secp256k1_pubkey *")
        lib.secp256k1_ec_pubkey_parse(_CTX, raw, out, 65)
        return Point(raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"Point({self.to_bytes()[:8].hex()}…)" if self._raw is not None else "Point(0)"

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        # Lets points cross to worker processes of the parallel verifier.
        return (Point.from_bytes, (self.to_bytes(),))


def base_mul(scalar: int) -> Point:
    """Return ``scalar * G`` in constant time (the generator's precomputed table)."""
    scalar %= Q
    if scalar == 0:
        return Point(None)
    raw = ffi.new("secp256k1_pubkey *")
    lib.secp256k1_ec_pubkey_create(_CTX, raw, scalar.to_bytes(SCALAR_BYTES, "big"))
    return Point(raw)


def sum_points(points: Iterable[Point]) -> Point:
    """Return the sum of ``points`` (the identity for none), in one libsecp256k1 call."""
    raws = [p._raw for p in points if p._raw is not None]
    if not raws:
        return Point(None)
    if len(raws) == 1:
        return Point(raws[0])
    out = ffi.new("secp256k1_pubkey *")
    array = ffi.new("secp256k1_pubkey *[]", raws)
    # combine fails exactly when the sum is the point at infinity.
    if not lib.secp256k1_ec_pubkey_combine(_CTX, out, array, len(raws)):
        return Point(None)
    return Point(out)


def sum_encoded(encoded: Sequence[bytes]) -> Point:
    """Return the sum of the points ``encoded`` (64 bytes each); raise GroupError if one
    is not a point. The close's hot loop: no ``Point`` per summand, one ``combine`` call."""
    array = ffi.new("secp256k1_pubkey[]", max(1, len(encoded)))
    pointers = []
    for number, data in enumerate(encoded):
        if len(data) != POINT_BYTES:
            raise GroupError(f"a point is {POINT_BYTES} bytes")
        if data == _IDENTITY_BYTES:
            continue
        slot = array + number
        if not lib.secp256k1_ec_pubkey_parse(_CTX, slot, b"\x04" + data, POINT_BYTES + 1):
            raise GroupError("not a point on the curve")
        pointers.append(slot)
    if not pointers:
        return Point(None)
    out = ffi.new("secp256k1_pubkey *")
    if not lib.secp256k1_ec_pubkey_combine(_CTX, out, pointers, len(pointers)):
        return Point(None)
    return Point(out)


def random_scalar() -> int:
    """Return a uniformly random non-zero scalar."""
    return 1 + secrets.randbelow(Q - 1)


def scalar_to_bytes(scalar: int) -> bytes:
    return (scalar % Q).to_bytes(SCALAR_BYTES, "big")


def scalar_from_bytes(data: bytes) -> int:
    """Return the scalar ``data`` encodes; raise GroupError unless it is below Q."""
    if not isinstance(data, bytes) or len(data) != SCALAR_BYTES:
        raise GroupError(f"a scalar is {SCALAR_BYTES} bytes")
    value = int.from_bytes(data, "big")
    if value >= Q:
        raise GroupError("a scalar is out of range")
    return value


def hash_to_scalar(tag: bytes, parts: Sequence[bytes]) -> int:
    """Return SHA-256 of ``tag`` and the length-prefixed ``parts``, as a scalar mod Q.

    Q is within 2^129 of 2^256, so reducing a 256-bit hash is uniform to 2^-127.
    """
    digest = hashlib.sha256()
    for part in (tag, *parts):
        digest.update(struct.pack(">I", len(part)))
        digest.update(part)
    return int.from_bytes(digest.digest(), "big") % Q


G = base_mul(1)
"""The generator."""
