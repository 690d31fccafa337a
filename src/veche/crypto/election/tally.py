"""Closing a secret vote: sum the ballots, tellers' decryption shares, the totals.

docs/ballots.md, sections 6-7. The sums are computed on ciphertexts; each teller gives
``M_i = A^s_i`` for every summed ciphertext ``(A, B)`` with a Chaum–Pedersen proof; any
``k`` valid shares give ``K^t = B / prod M_i^λ_i`` (Lagrange at 0), and ``t`` is found
by baby-step giant-step, bounded by ballots × the largest allowed value of the entry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from veche.crypto.election.elgamal import (
    BRANCH_BYTES,
    CIPHERTEXT_BYTES,
    Ciphertext,
    add_all,
    check_dleq,
    prove_dleq,
)
from veche.crypto.election.group import (
    POINT_BYTES,
    GroupError,
    Point,
    Q,
    sum_encoded,
    sum_points,
)
from veche.crypto.election.manifest import ElectionError, Manifest, TellerKey

SHARE_ENTRY_BYTES = POINT_BYTES + BRANCH_BYTES
_MAX_TABLE = 1 << 22  # baby steps kept in memory at most (~0.5 GB would be far beyond)


def sum_ballots(manifest: Manifest, ballots: Sequence[bytes]) -> list[Ciphertext]:
    """Return the entry-wise sums of encrypted ballots (bytes as stored); ElectionError if
    one is malformed. Proofs are not checked here: each was checked when it was cast."""
    length = manifest.shape.ballot_bytes()
    for number, ballot in enumerate(ballots):
        if not isinstance(ballot, bytes) or len(ballot) != length:
            raise ElectionError(f"ballot {number} is not {length} bytes")
    sums = []
    try:
        for entry in range(manifest.shape.length):
            at = entry * CIPHERTEXT_BYTES
            alpha = sum_encoded([b[at : at + POINT_BYTES] for b in ballots])
            beta = sum_encoded([b[at + POINT_BYTES : at + CIPHERTEXT_BYTES] for b in ballots])
            sums.append(Ciphertext(alpha, beta))
    except GroupError as error:
        raise ElectionError(f"a ballot's ciphertext is malformed: {error}") from None
    return sums


def sum_ciphertexts(
    manifest: Manifest, ballots: Sequence[Sequence[Ciphertext]]
) -> list[Ciphertext]:
    """Return the entry-wise homomorphic sums of ballots' ciphertexts (identity if none)."""
    return [
        add_all([ballot[entry] for ballot in ballots]) for entry in range(manifest.shape.length)
    ]


@dataclass(frozen=True)
class DecryptionShare:
    """Teller ``index``'s factors ``M_i,e = A_e^s_i`` for every sum, with their proofs."""

    index: int
    factors: tuple[Point, ...]
    proofs: tuple[bytes, ...]

    def to_bytes(self) -> bytes:
        return b"".join(f.to_bytes() + p for f, p in zip(self.factors, self.proofs, strict=True))

    @classmethod
    def from_bytes(cls, index: int, data: bytes, entries: int) -> DecryptionShare:
        """Return the share ``data`` encodes; raise ElectionError if it is malformed."""
        if len(data) != entries * SHARE_ENTRY_BYTES:
            raise ElectionError(f"a decryption share is {entries * SHARE_ENTRY_BYTES} bytes")
        factors, proofs = [], []
        try:
            for at in range(0, len(data), SHARE_ENTRY_BYTES):
                factors.append(Point.from_bytes(data[at : at + POINT_BYTES]))
                proofs.append(data[at + POINT_BYTES : at + SHARE_ENTRY_BYTES])
        except GroupError as error:
            raise ElectionError(f"a decryption factor is malformed: {error}") from None
        return cls(index=index, factors=tuple(factors), proofs=tuple(proofs))


def decryption_share(
    manifest: Manifest, key: TellerKey, sums: Sequence[Ciphertext]
) -> DecryptionShare:
    """Return the teller's decryption share of ``sums``, with a proof per factor."""
    if len(sums) != manifest.shape.length:
        raise ElectionError(f"there are {manifest.shape.length} sums, not {len(sums)}")
    share = key._share
    factors, proofs = [], []
    for entry, total in enumerate(sums):
        factor = total.alpha.mul_secret(share)
        factors.append(factor)
        proofs.append(prove_dleq(share, total.alpha, factor, _context(manifest, key.index, entry)))
    return DecryptionShare(index=key.index, factors=tuple(factors), proofs=tuple(proofs))


def _context(manifest: Manifest, index: int, entry: int) -> list[bytes]:
    return [manifest.digest, index.to_bytes(4, "big"), entry.to_bytes(4, "big")]


def check_share(
    manifest: Manifest, sums: Sequence[Ciphertext], share: DecryptionShare
) -> str | None:
    """Return why ``share`` is not a correct decryption share of ``sums``, or None."""
    if not 1 <= share.index <= manifest.tellers:
        return f"teller {share.index} is not one of this vote's {manifest.tellers} tellers"
    if len(share.factors) != len(sums) or len(share.proofs) != len(sums):
        return f"the share has {len(share.factors)} factors for {len(sums)} sums"
    key = manifest.verification_keys[share.index - 1]
    for entry, (total, factor, proof) in enumerate(
        zip(sums, share.factors, share.proofs, strict=True)
    ):
        try:
            valid = check_dleq(
                key, total.alpha, factor, proof, _context(manifest, share.index, entry)
            )
        except GroupError as error:
            return f"the proof for sum {entry} is malformed: {error}"
        if not valid:
            return f"the proof of correct decryption of sum {entry} fails"
    return None


def lagrange_at_zero(indices: Sequence[int]) -> list[int]:
    """Return the Lagrange coefficients at 0 for the tellers ``indices`` (mod Q)."""
    coefficients = []
    for i in indices:
        numerator, denominator = 1, 1
        for j in indices:
            if j != i:
                numerator = numerator * j % Q
                denominator = denominator * (j - i) % Q
        coefficients.append(numerator * pow(denominator, -1, Q) % Q)
    return coefficients


def decrypted_powers(
    manifest: Manifest, sums: Sequence[Ciphertext], shares: Sequence[DecryptionShare]
) -> list[Point]:
    """Return ``K^t_e = B_e / prod M_i,e^λ_i`` for each sum from the first k shares.

    The shares must already be checked; fewer than k raise ElectionError.
    """
    chosen = _distinct(shares)[: manifest.threshold]
    if len(chosen) < manifest.threshold:
        raise ElectionError(
            f"{len(chosen)} valid decryption shares, {manifest.threshold} are needed"
        )
    weights = lagrange_at_zero([s.index for s in chosen])
    return [
        total.beta
        - sum_points(share.factors[entry].mul(w) for share, w in zip(chosen, weights, strict=True))
        for entry, total in enumerate(sums)
    ]


def _distinct(shares: Sequence[DecryptionShare]) -> list[DecryptionShare]:
    seen: dict[int, DecryptionShare] = {}
    for share in shares:
        seen.setdefault(share.index, share)
    return [seen[i] for i in sorted(seen)]


def bounds(manifest: Manifest, cast: int) -> list[int]:
    """Return the largest total each entry can reach with ``cast`` valid ballots."""
    return [cast * max(allowed) for allowed in manifest.shape.entries]


def combine(
    manifest: Manifest,
    sums: Sequence[Ciphertext],
    shares: Sequence[DecryptionShare],
    *,
    cast: int,
) -> tuple[int, ...]:
    """Return the totals, from at least k decryption shares; ElectionError if impossible.

    Every share is checked first: a wrong share is refused by name, never combined.
    """
    for share in shares:
        problem = check_share(manifest, sums, share)
        if problem is not None:
            raise ElectionError(f"teller {share.index}'s share: {problem}")
    powers = decrypted_powers(manifest, sums, shares)
    return discrete_logs(manifest.public_key, powers, bounds(manifest, cast))


def discrete_logs(base: Point, powers: Sequence[Point], limits: Sequence[int]) -> tuple[int, ...]:
    """Return each ``t`` with ``base^t == power`` and ``0 <= t <= limit`` (baby-step giant-step).

    One table of ``m`` baby steps serves every power, ``m`` balancing the table against
    the giant steps all powers need; raises ElectionError if some power is out of range.
    """
    span = sum(limit + 1 for limit in limits)
    m = max(1, min(_MAX_TABLE, math.isqrt(span) + 1))
    table: dict[bytes, int] = {}
    step = Point.identity()
    for j in range(min(m, max(limits, default=0) + 1)):
        table.setdefault(step.to_bytes(), j)
        step = step + base
    giant = -base.mul(m)
    results = []
    for entry, (power, limit) in enumerate(zip(powers, limits, strict=True)):
        current = power
        for i in range(limit // m + 1):
            baby = table.get(current.to_bytes())
            if baby is not None and i * m + baby <= limit:
                results.append(i * m + baby)
                break
            current = current + giant
        else:
            raise ElectionError(f"total {entry} is not between 0 and {limit}")
    return tuple(results)
