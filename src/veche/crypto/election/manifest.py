"""What a secret vote publishes when it opens, and how its key is dealt to the tellers.

The **shape** says which plain vectors are ballots: each entry takes one of a few allowed
values, and each constraint says which values a weighted sum of entries may take (the
domain builds it from the voting method: ``veche.domain.voting.vectors``). The
**manifest** binds the vote's id, the shape, the domain's context (method, options, tie
seed), the vote key ``K``, the Feldman commitments and the tellers' verification keys;
every proof hashes its digest.

``deal`` is the trusted dealer of docs/ballots.md section 2: it draws the vote's secret
key, splits it with Shamir's scheme (threshold k of n), publishes ``K``, the commitments
``C_j = g^a_j`` and each teller's ``K_i = g^P(i)``, seals each share to its teller's
X25519 key (libsodium's sealed box), and returns no secret.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.public

from veche.crypto.election.elgamal import BRANCH_BYTES, CIPHERTEXT_BYTES
from veche.crypto.election.group import (
    SCALAR_BYTES,
    GroupError,
    Point,
    Q,
    base_mul,
    random_scalar,
    scalar_from_bytes,
    scalar_to_bytes,
)
from veche.crypto.keys import CannotDecrypt, CryptoError

FORMAT = "veche-vote/1"
GROUP = "secp256k1"
MAX_TELLERS = 255
MAX_ALLOWED = 1 << 40  # allowed values stay small: totals are found by search
_SHARE_MAGIC = b"VS1"


class ElectionError(CryptoError):
    """A malformed shape, manifest, ballot, share or record; the message says what."""


@dataclass(frozen=True)
class Constraint:
    """``sum(weight * entry for entry, weight in terms)`` must be one of ``allowed``."""

    terms: tuple[tuple[int, int], ...]
    allowed: tuple[int, ...]


@dataclass(frozen=True)
class Shape:
    """Which plain vectors are ballots: allowed values per entry, and constraints."""

    entries: tuple[tuple[int, ...], ...]
    constraints: tuple[Constraint, ...] = ()

    def __post_init__(self) -> None:
        if not self.entries:
            raise ElectionError("a ballot shape has at least one entry")
        for number, allowed in enumerate(self.entries):
            _check_allowed(allowed, f"entry {number}")
        for number, constraint in enumerate(self.constraints):
            _check_allowed(constraint.allowed, f"constraint {number}")
            if not constraint.terms:
                raise ElectionError(f"constraint {number} has no terms")
            for term in constraint.terms:
                if not (
                    isinstance(term, tuple)
                    and len(term) == 2
                    and all(_is_int(x) for x in term)
                    and 0 <= term[0] < len(self.entries)
                    and 0 < term[1] < MAX_ALLOWED
                ):
                    raise ElectionError(f"constraint {number} has a bad term {term!r}")

    @property
    def length(self) -> int:
        return len(self.entries)

    def statements(self) -> tuple[tuple[int, ...], ...]:
        """Return the allowed values of every proof of a ballot: entries, then constraints."""
        return self.entries + tuple(c.allowed for c in self.constraints)

    def ballot_bytes(self) -> int:
        """Return the length of every ballot of this shape, abstentions included."""
        branches = sum(len(allowed) for allowed in self.statements())
        return CIPHERTEXT_BYTES * self.length + BRANCH_BYTES * branches

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [list(a) for a in self.entries],
            "constraints": [
                {"terms": [list(t) for t in c.terms], "allowed": list(c.allowed)}
                for c in self.constraints
            ],
        }

    @classmethod
    def from_dict(cls, data: object) -> Shape:
        """Return the shape ``data`` describes; raise ElectionError if it is malformed."""
        try:
            assert isinstance(data, dict)  # noqa: S101 - caught just below
            entries = tuple(_int_tuple(a) for a in data["entries"])
            constraints = tuple(
                Constraint(
                    terms=tuple(_int_tuple(t) for t in c["terms"]),  # type: ignore[misc]
                    allowed=_int_tuple(c["allowed"]),
                )
                for c in data["constraints"]
            )
        except (AssertionError, KeyError, TypeError) as error:
            raise ElectionError(f"malformed ballot shape ({type(error).__name__})") from None
        return cls(entries=entries, constraints=constraints)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_tuple(values: object) -> tuple[int, ...]:
    if not isinstance(values, list | tuple) or not all(_is_int(v) for v in values):
        raise TypeError("not a list of integers")
    return tuple(values)


def _check_allowed(allowed: object, what: str) -> None:
    if not (isinstance(allowed, tuple) and allowed and all(_is_int(v) for v in allowed)):
        raise ElectionError(f"{what}: allowed values must be a non-empty tuple of integers")
    if len(set(allowed)) != len(allowed) or not all(0 <= v < MAX_ALLOWED for v in allowed):
        raise ElectionError(f"{what}: allowed values must be distinct, small and >= 0")


@dataclass(frozen=True)
class Manifest:
    """A secret vote's public parameters; ``digest`` is bound into every proof."""

    vote_id: str
    shape: Shape
    threshold: int
    public_key: Point
    commitments: tuple[Point, ...]
    verification_keys: tuple[Point, ...]  # teller i (1-based) has verification_keys[i-1]
    context: Mapping[str, Any]

    @property
    def tellers(self) -> int:
        return len(self.verification_keys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "group": GROUP,
            "vote_id": self.vote_id,
            "shape": self.shape.to_dict(),
            "threshold": self.threshold,
            "public_key": self.public_key.to_bytes().hex(),
            "commitments": [c.to_bytes().hex() for c in self.commitments],
            "verification_keys": [k.to_bytes().hex() for k in self.verification_keys],
            "context": self.context,
        }

    @property
    def digest(self) -> bytes:
        """SHA-256 of the manifest's canonical JSON (sorted keys, no spaces, ASCII)."""
        cached: bytes | None = self.__dict__.get("_digest")
        if cached is None:
            cached = hashlib.sha256(canonical_json(self.to_dict())).digest()
            object.__setattr__(self, "_digest", cached)
        return cached

    @classmethod
    def from_dict(cls, data: object) -> Manifest:
        """Return the manifest ``data`` describes; raise ElectionError if it is malformed.

        Only the form is checked here; ``check_manifest`` checks the keys agree.
        """
        if not isinstance(data, dict):
            raise ElectionError("the manifest is not an object")
        if data.get("format") != FORMAT or data.get("group") != GROUP:
            raise ElectionError(f"the manifest is not {FORMAT} over {GROUP}")
        try:
            vote_id = data["vote_id"]
            threshold = data["threshold"]
            context = data["context"]
            public_key = _point_hex(data["public_key"])
            commitments = tuple(_point_hex(c) for c in data["commitments"])
            keys = tuple(_point_hex(k) for k in data["verification_keys"])
        except KeyError as error:
            raise ElectionError(f"the manifest lacks {error}") from None
        except (TypeError, ValueError) as error:
            raise ElectionError(f"the manifest holds a bad key: {error}") from None
        if not isinstance(vote_id, str) or not isinstance(context, dict):
            raise ElectionError("the manifest's vote id or context is malformed")
        if not _is_int(threshold) or not 1 <= threshold <= len(keys) <= MAX_TELLERS:
            raise ElectionError("the manifest's threshold or tellers are out of range")
        manifest = cls(
            vote_id=vote_id,
            shape=Shape.from_dict(data.get("shape")),
            threshold=threshold,
            public_key=public_key,
            commitments=commitments,
            verification_keys=keys,
            context=context,
        )
        canonical_json(manifest.to_dict())  # refuses floats and other non-canonical values
        return manifest


def _point_hex(text: object) -> Point:
    if not isinstance(text, str):
        raise TypeError("a point is a hex string")
    return Point.from_bytes(bytes.fromhex(text))


def canonical_json(data: object) -> bytes:
    """Return ``data`` as canonical JSON; raise ElectionError for floats and other types."""
    _check_canonical(data)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _check_canonical(data: object) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                raise ElectionError("JSON object keys must be strings")
            _check_canonical(value)
    elif isinstance(data, list | tuple):
        for value in data:
            _check_canonical(value)
    elif not (data is None or isinstance(data, str | int)):  # bool is an int
        raise ElectionError(f"{type(data).__name__} has no canonical JSON form here")


def check_manifest(manifest: Manifest) -> list[str]:
    """Return what is wrong with the manifest's keys (an empty list when nothing is)."""
    problems = []
    if len(manifest.commitments) != manifest.threshold:
        problems.append("there must be one commitment per degree of the sharing polynomial")
    elif manifest.commitments[0] != manifest.public_key:
        problems.append("the first commitment is not the vote key")
    else:
        for index, key in enumerate(manifest.verification_keys, start=1):
            if key != feldman_key(manifest.commitments, index):
                problems.append(f"teller {index}'s verification key disagrees with the commitments")
    if manifest.public_key.is_identity:
        problems.append("the vote key is the identity")
    return problems


def feldman_key(commitments: Sequence[Point], index: int) -> Point:
    """Return ``prod_j C_j^(index^j)``: teller ``index``'s key by Feldman's check."""
    total = Point.identity()
    for power, commitment in enumerate(commitments):
        total = total + commitment.mul(pow(index, power, Q))
    return total


@dataclass(frozen=True)
class Dealt:
    """What opening a secret vote publishes and hands out; no secret key is in it."""

    manifest: Manifest
    sealed_shares: tuple[bytes, ...]  # sealed_shares[i-1] opens only with teller i's key


def deal(
    *,
    vote_id: str,
    shape: Shape,
    context: Mapping[str, Any],
    teller_keys: Sequence[bytes],
    threshold: int,
) -> Dealt:
    """Return a new vote's manifest and its key shares sealed to ``teller_keys`` (X25519).

    The vote's secret key and the polynomial's coefficients exist only in this call's
    memory (Python cannot wipe them, but nothing keeps or returns them).
    """
    n = len(teller_keys)
    if not _is_int(threshold) or not 1 <= threshold <= n <= MAX_TELLERS:
        raise ElectionError(f"need 1 <= threshold <= tellers <= {MAX_TELLERS}")
    if not isinstance(vote_id, str):
        raise ElectionError("the vote id is a string")
    try:
        public_keys = [nacl.public.PublicKey(k) for k in teller_keys]
    except (TypeError, nacl.exceptions.CryptoError) as error:
        raise ElectionError(f"a teller's public key is malformed: {error}") from None
    if len({bytes(key) for key in public_keys}) != n:
        # One person holding two shares would lower the threshold for them.
        raise ElectionError("a teller appears twice")
    recipients = [nacl.public.SealedBox(key) for key in public_keys]
    coefficients = [random_scalar() for _ in range(threshold)]
    shares = [_evaluate(coefficients, index) for index in range(1, n + 1)]
    manifest = Manifest(
        vote_id=vote_id,
        shape=shape,
        threshold=threshold,
        public_key=base_mul(coefficients[0]),
        commitments=tuple(base_mul(a) for a in coefficients),
        verification_keys=tuple(base_mul(s) for s in shares),
        context=dict(context),
    )
    canonical_json(manifest.to_dict())
    sealed = tuple(
        box.encrypt(_SHARE_MAGIC + bytes([index]) + scalar_to_bytes(share))
        for index, (box, share) in enumerate(zip(recipients, shares, strict=True), start=1)
    )
    return Dealt(manifest=manifest, sealed_shares=sealed)


def _evaluate(coefficients: Sequence[int], x: int) -> int:
    result = 0
    for coefficient in reversed(coefficients):
        result = (result * x + coefficient) % Q
    return result


class TellerKey:
    """A teller's share ``s_i`` of one vote's key, opened for one request; never shown."""

    __slots__ = ("_share", "index")

    def __init__(self, index: int, share: int) -> None:
        self.index = index
        self._share = share

    def __repr__(self) -> str:
        return f"<TellerKey {self.index} (hidden)>"

    __str__ = __repr__


def open_share(
    manifest: Manifest, index: int, sealed: bytes, private_key: nacl.public.PrivateKey
) -> TellerKey:
    """Return teller ``index``'s key share; raise CannotDecrypt or ElectionError.

    The share is checked against the published verification key (Feldman), so a teller
    never signs off a tally with a share the dealer got wrong.
    """
    if not _is_int(index) or not 1 <= index <= manifest.tellers:
        raise ElectionError(f"teller {index!r} is not one of this vote's tellers")
    try:
        plain = nacl.public.SealedBox(private_key).decrypt(sealed)
    except (TypeError, nacl.exceptions.CryptoError):
        raise CannotDecrypt("this key share does not open with this key") from None
    if len(plain) != 4 + SCALAR_BYTES or plain[:3] != _SHARE_MAGIC or plain[3] != index:
        raise ElectionError("the opened key share is malformed or for another teller")
    try:
        share = scalar_from_bytes(plain[4:])
    except GroupError:
        raise ElectionError("the opened key share is out of range") from None
    if base_mul(share) != manifest.verification_keys[index - 1]:
        raise ElectionError("the key share disagrees with the teller's verification key")
    return TellerKey(index, share)
