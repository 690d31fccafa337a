"""Ballots: a plain vector encrypted entry by entry, with a proof per entry and constraint.

A ballot is fixed-size bytes (docs/ballots.md, section 4): the ciphertexts of its ``n``
entries, then one disjunctive proof per entry and one per constraint of the shape, each
``64 * len(allowed)`` bytes. Every ballot of a vote, abstention included, has
``shape.ballot_bytes()`` bytes. Every proof hashes the manifest digest, the digest of the
ballot's ciphertexts and its own number, so no proof can be moved to another ballot.

The **receipt** is the first 100 bits of a hash of the whole ballot, in base 32 (A-Z,
2-7), four groups of five: short enough to write down, long enough that nobody can make
another ballot with the same receipt (2^100 tries for a given receipt).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from veche.crypto.election.elgamal import (
    BRANCH_BYTES,
    CIPHERTEXT_BYTES,
    Ciphertext,
    add_all,
    check_in_set,
    encrypt,
    prove_in_set,
)
from veche.crypto.election.group import GroupError, random_scalar
from veche.crypto.election.manifest import ElectionError, Manifest, Shape

_BALLOT_TAG = b"veche/ballots/v1/ballot"
_RECEIPT_TAG = b"veche/ballots/v1/receipt"
RECEIPT_CHARS = 20


def encrypt_ballot(manifest: Manifest, vector: Sequence[int]) -> bytes:
    """Return the encrypted ballot of ``vector`` with its proofs; ElectionError if invalid.

    The vector's values never leave this call; the time it takes depends on the shape
    only, not on the values (docs/decisions/0060-ballot-group-secp256k1.md).
    """
    shape = manifest.shape
    values = _check_vector(shape, vector)
    nonces = [random_scalar() for _ in values]
    key = manifest.public_key
    ciphertexts = [encrypt(key, v, r) for v, r in zip(values, nonces, strict=True)]
    head = b"".join(c.to_bytes() for c in ciphertexts)
    context = _context(manifest, head)
    proofs = []
    statements = _statements(shape, ciphertexts, values, nonces)
    for number, (allowed, ciphertext, value, nonce) in enumerate(statements):
        proofs.append(
            prove_in_set(
                key, ciphertext, nonce, allowed, allowed.index(value), [*context, _u32(number)]
            )
        )
    return head + b"".join(proofs)


def _check_vector(shape: Shape, vector: Sequence[int]) -> list[int]:
    if len(vector) != shape.length:
        raise ElectionError(f"a ballot has {shape.length} entries, not {len(vector)}")
    values = []
    for number, (value, allowed) in enumerate(zip(vector, shape.entries, strict=True)):
        if isinstance(value, bool) or value not in allowed:
            raise ElectionError(f"entry {number} is {value!r}, not one of {allowed}")
        values.append(int(value))
    for number, constraint in enumerate(shape.constraints):
        total = sum(values[i] * w for i, w in constraint.terms)
        if total not in constraint.allowed:
            raise ElectionError(f"constraint {number} sums to {total}, not one allowed")
    return values


def _statements(
    shape: Shape,
    ciphertexts: Sequence[Ciphertext],
    values: Sequence[int],
    nonces: Sequence[int],
) -> list[tuple[tuple[int, ...], Ciphertext, int, int]]:
    """Return (allowed, ciphertext, value, nonce) per proof; values/nonces may be dummies."""
    statements = [
        (allowed, c, v, r)
        for allowed, c, v, r in zip(shape.entries, ciphertexts, values, nonces, strict=True)
    ]
    for constraint in shape.constraints:
        combined = add_all([ciphertexts[i].scaled(w) for i, w in constraint.terms])
        value = sum(values[i] * w for i, w in constraint.terms)
        nonce = sum(nonces[i] * w for i, w in constraint.terms)
        statements.append((constraint.allowed, combined, value, nonce))
    return statements


def _context(manifest: Manifest, head: bytes) -> list[bytes]:
    return [manifest.digest, hashlib.sha256(_BALLOT_TAG + head).digest()]


def _u32(number: int) -> bytes:
    return number.to_bytes(4, "big")


def read_ciphertexts(manifest: Manifest, ballot: bytes) -> list[Ciphertext]:
    """Return the ballot's ciphertexts; raise ElectionError if it is malformed."""
    shape = manifest.shape
    if not isinstance(ballot, bytes) or len(ballot) != shape.ballot_bytes():
        raise ElectionError(f"a ballot of this vote is {shape.ballot_bytes()} bytes")
    try:
        return [
            Ciphertext.from_bytes(ballot[i * CIPHERTEXT_BYTES : (i + 1) * CIPHERTEXT_BYTES])
            for i in range(shape.length)
        ]
    except GroupError as error:
        raise ElectionError(f"a ciphertext is malformed: {error}") from None


def check_ballot(manifest: Manifest, ballot: bytes) -> list[Ciphertext]:
    """Return the ballot's ciphertexts if every proof holds; raise ElectionError saying why."""
    ciphertexts = read_ciphertexts(manifest, ballot)
    shape = manifest.shape
    head_end = shape.length * CIPHERTEXT_BYTES
    context = _context(manifest, ballot[:head_end])
    at = head_end
    zeros = [0] * shape.length
    statements = _statements(shape, ciphertexts, zeros, zeros)
    for number, (allowed, ciphertext, _, _) in enumerate(statements):
        end = at + BRANCH_BYTES * len(allowed)
        try:
            valid = check_in_set(
                manifest.public_key, ciphertext, allowed, ballot[at:end], [*context, _u32(number)]
            )
        except GroupError as error:
            raise ElectionError(f"proof {number} is malformed: {error}") from None
        if not valid:
            what = (
                f"entry {number}"
                if number < shape.length
                else (f"constraint {number - shape.length}")
            )
            raise ElectionError(f"the proof that {what} holds an allowed value fails")
        at = end
    return ciphertexts


def receipt(manifest: Manifest, ballot: bytes) -> str:
    """Return the ballot's receipt: 20 base-32 characters in four groups of five."""
    digest = hashlib.sha256(_RECEIPT_TAG + manifest.digest + ballot).digest()
    text = base64.b32encode(digest).decode()[:RECEIPT_CHARS]
    return "-".join(text[i : i + 5] for i in range(0, RECEIPT_CHARS, 5))


def normalise_receipt(text: str) -> str | None:
    """Return ``text`` as a receipt (case, spaces, dashes and 0/1/8 look-alikes forgiven)."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_\t")
    cleaned = cleaned.translate(str.maketrans("018", "OIB"))
    if len(cleaned) != RECEIPT_CHARS or not all(ch.isalpha() or ch in "234567" for ch in cleaned):
        return None
    if not cleaned.isascii():
        return None
    return "-".join(cleaned[i : i + 5] for i in range(0, RECEIPT_CHARS, 5))
