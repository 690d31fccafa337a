"""Exponential ElGamal with its two zero-knowledge proofs (docs/ballots.md, sections 3-5).

A value ``σ`` is encrypted under the vote key ``K = g^s`` as ``(α, β) = (g^ξ, K^(σ+ξ))``,
ElectionGuard 2.0's encoding (section 3.3): adding ciphertexts adds values, and decrypting
gives ``K^σ``, whose small logarithm is found by search (``tally.discrete_logs``).

- ``prove_in_set`` / ``check_in_set``: a disjunctive Chaum–Pedersen proof (Cramer,
  Damgård and Schoenmakers 1994; in the compact (c_j, v_j) form of ElectionGuard 2.0's
  range proofs, section 3.3.5) that a ciphertext encrypts one of a few allowed values.
- ``prove_dleq`` / ``check_dleq``: a Chaum–Pedersen proof (1992) that a teller's
  decryption factor ``M = A^s_i`` uses the same ``s_i`` as its key ``K_i = g^s_i``
  (ElectionGuard 2.0, section 3.6; Belenios' decryption proofs).

Challenges are Fiat–Shamir hashes whose first input is a per-proof tag and whose next is
the caller's context (the manifest digest, the ballot digest and the statement number),
so a proof cannot be moved to another statement, ballot or vote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from veche.crypto.election.group import (
    POINT_BYTES,
    SCALAR_BYTES,
    Point,
    Q,
    base_mul,
    hash_to_scalar,
    random_scalar,
    scalar_from_bytes,
    scalar_to_bytes,
    sum_points,
)

CIPHERTEXT_BYTES = 2 * POINT_BYTES
BRANCH_BYTES = 2 * SCALAR_BYTES  # one (c_j, v_j) pair of a proof

_RANGE_TAG = b"veche/ballots/v1/range"
_DLEQ_TAG = b"veche/ballots/v1/decryption"


class Ciphertext(NamedTuple):
    """An exponential ElGamal ciphertext ``(α, β)``."""

    alpha: Point
    beta: Point

    def __add__(self, other: object) -> Ciphertext:
        assert isinstance(other, Ciphertext)  # noqa: S101 - only ciphertexts are added
        return Ciphertext(self.alpha + other.alpha, self.beta + other.beta)

    def scaled(self, weight: int) -> Ciphertext:
        """Return the encryption of ``weight`` times the value (public weight)."""
        if weight == 1:
            return self
        return Ciphertext(self.alpha.mul(weight), self.beta.mul(weight))

    def to_bytes(self) -> bytes:
        return self.alpha.to_bytes() + self.beta.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Ciphertext:
        return cls(Point.from_bytes(data[:POINT_BYTES]), Point.from_bytes(data[POINT_BYTES:]))


def add_all(ciphertexts: Sequence[Ciphertext]) -> Ciphertext:
    """Return the homomorphic sum of ``ciphertexts`` (two libsecp256k1 calls)."""
    return Ciphertext(
        sum_points([c.alpha for c in ciphertexts]), sum_points([c.beta for c in ciphertexts])
    )


def encrypt(key: Point, value: int, nonce: int) -> Ciphertext:
    """Return ``(g^nonce, K^(value+nonce))``; both multiplications are constant-time."""
    return Ciphertext(base_mul(nonce), key.mul_secret(value + nonce))


def prove_in_set(
    key: Point,
    ciphertext: Ciphertext,
    nonce: int,
    allowed: Sequence[int],
    index: int,
    context: Sequence[bytes],
) -> bytes:
    """Return the proof that ``ciphertext`` encrypts ``allowed[index]`` with ``nonce``.

    Every branch costs the same two constant-time multiplications whether it is the true
    one or a simulated one, so the time taken does not depend on the value.
    """
    value = allowed[index]
    challenges = [random_scalar() for _ in allowed]
    commit_nonces = [random_scalar() for _ in allowed]
    commitments: list[bytes] = []
    for j, allowed_value in enumerate(allowed):
        # For j != index this is the simulated branch: b_j = K^(u_j + c_j (σ - M_j)).
        shift = 0 if j == index else challenges[j] * (value - allowed_value)
        commitments.append(base_mul(commit_nonces[j]).to_bytes())
        commitments.append(key.mul_secret(commit_nonces[j] + shift).to_bytes())
    total = hash_to_scalar(_RANGE_TAG, [*context, ciphertext.to_bytes(), *commitments])
    others = sum(c for j, c in enumerate(challenges) if j != index)
    challenges[index] = (total - others) % Q
    proof = bytearray()
    for challenge, commit_nonce in zip(challenges, commit_nonces, strict=True):
        proof += scalar_to_bytes(challenge)
        proof += scalar_to_bytes(commit_nonce - challenge * nonce)
    return bytes(proof)


def check_in_set(
    key: Point,
    ciphertext: Ciphertext,
    allowed: Sequence[int],
    proof: bytes,
    context: Sequence[bytes],
) -> bool:
    """Return True iff ``proof`` shows ``ciphertext`` encrypts one of ``allowed``.

    Raises GroupError if the proof holds a scalar that is not below Q.
    """
    if len(proof) != BRANCH_BYTES * len(allowed):
        return False
    commitments: list[bytes] = []
    total = 0
    for j, allowed_value in enumerate(allowed):
        at = j * BRANCH_BYTES
        challenge = scalar_from_bytes(proof[at : at + SCALAR_BYTES])
        response = scalar_from_bytes(proof[at + SCALAR_BYTES : at + BRANCH_BYTES])
        total += challenge
        a = base_mul(response) + ciphertext.alpha.mul(challenge)
        b = key.mul(response - allowed_value * challenge) + ciphertext.beta.mul(challenge)
        commitments += (a.to_bytes(), b.to_bytes())
    expected = hash_to_scalar(_RANGE_TAG, [*context, ciphertext.to_bytes(), *commitments])
    return expected == total % Q


def prove_dleq(share: int, alpha: Point, factor: Point, context: Sequence[bytes]) -> bytes:
    """Return the proof that ``factor = alpha^share`` and ``K_i = g^share`` share ``share``."""
    nonce = random_scalar()
    a, b = base_mul(nonce), alpha.mul_secret(nonce)
    challenge = hash_to_scalar(
        _DLEQ_TAG,
        [*context, alpha.to_bytes(), factor.to_bytes(), a.to_bytes(), b.to_bytes()],
    )
    return scalar_to_bytes(challenge) + scalar_to_bytes(nonce - challenge * share)


def check_dleq(
    verification_key: Point, alpha: Point, factor: Point, proof: bytes, context: Sequence[bytes]
) -> bool:
    """Return True iff ``proof`` shows ``factor = alpha^s`` where ``verification_key = g^s``."""
    if len(proof) != BRANCH_BYTES:
        return False
    challenge = scalar_from_bytes(proof[:SCALAR_BYTES])
    response = scalar_from_bytes(proof[SCALAR_BYTES:])
    a = base_mul(response) + verification_key.mul(challenge)
    b = alpha.mul(response) + factor.mul(challenge)
    expected = hash_to_scalar(
        _DLEQ_TAG,
        [*context, alpha.to_bytes(), factor.to_bytes(), a.to_bytes(), b.to_bytes()],
    )
    return expected == challenge


__all__ = [
    "BRANCH_BYTES",
    "CIPHERTEXT_BYTES",
    "Ciphertext",
    "add_all",
    "check_dleq",
    "check_in_set",
    "encrypt",
    "prove_dleq",
    "prove_in_set",
]
