"""A secret vote's record (its bulletin board) as JSON, and the check of all of it.

The record holds the manifest, every ballot with its proofs, the homomorphic sums, the
tellers' decryption shares with their proofs, the totals and the domain's outcome (which
this package carries but does not read: ``veche.verify_vote`` recomputes it).
``verify_record`` checks everything a record claims except the outcome and returns one
``Problem`` per failure; ballots are checked in parallel over the machine's cores.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import multiprocessing
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from veche.crypto.election.ballots import check_ballot, normalise_receipt, read_ciphertexts, receipt
from veche.crypto.election.elgamal import CIPHERTEXT_BYTES, Ciphertext, add_all
from veche.crypto.election.group import GroupError
from veche.crypto.election.manifest import ElectionError, Manifest, check_manifest
from veche.crypto.election.tally import (
    DecryptionShare,
    bounds,
    check_share,
    decrypted_powers,
)

RECORD_FORMAT = "veche-vote-record/1"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: where, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class Record:
    """Everything published about a closed secret vote."""

    manifest: Manifest
    ballots: tuple[bytes, ...]
    sums: tuple[Ciphertext, ...]
    shares: tuple[DecryptionShare, ...]
    totals: tuple[int, ...]
    outcome: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        manifest: Manifest,
        ballots: Sequence[bytes],
        sums: Sequence[Ciphertext],
        shares: Sequence[DecryptionShare],
        totals: Sequence[int],
        outcome: Mapping[str, Any],
    ) -> Record:
        """Return the record with its ballots sorted by their bytes.

        Sorted, the board's order is random (ciphertexts are) and says nothing about
        when each ballot was cast, which the roll's times could otherwise reveal.
        """
        ordered = tuple(sorted(ballots))
        return cls(manifest, ordered, tuple(sums), tuple(shares), tuple(totals), outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "manifest": self.manifest.to_dict(),
            "ballots": [base64.b64encode(b).decode() for b in self.ballots],
            "sums": [base64.b64encode(s.to_bytes()).decode() for s in self.sums],
            "shares": [
                {"teller": s.index, "factors": base64.b64encode(s.to_bytes()).decode()}
                for s in self.shares
            ],
            "totals": list(self.totals),
            "outcome": self.outcome,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @property
    def digest(self) -> str:
        """SHA-256 of the record's JSON, hex: what a decision records about its board."""
        return hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_json(cls, data: bytes | str) -> Record:
        """Return the record in ``data``; raise ElectionError saying what is malformed."""
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise ElectionError(f"not a JSON document ({error})") from None
        if not isinstance(parsed, dict) or parsed.get("format") != RECORD_FORMAT:
            raise ElectionError(f"not a {RECORD_FORMAT} record")
        manifest = Manifest.from_dict(parsed.get("manifest"))
        ballots = tuple(_b64(b, f"ballot {i}") for i, b in enumerate(_list(parsed, "ballots")))
        sums = []
        for i, text in enumerate(_list(parsed, "sums")):
            raw = _b64(text, f"sum {i}")
            if len(raw) != CIPHERTEXT_BYTES:
                raise ElectionError(f"sum {i} is not {CIPHERTEXT_BYTES} bytes")
            try:
                sums.append(Ciphertext.from_bytes(raw))
            except GroupError as error:
                raise ElectionError(f"sum {i} is malformed: {error}") from None
        shares = []
        for i, item in enumerate(_list(parsed, "shares")):
            if not isinstance(item, dict) or not _is_int(item.get("teller")):
                raise ElectionError(f"share {i} is malformed")
            raw = _b64(item.get("factors"), f"share {i}")
            try:
                shares.append(DecryptionShare.from_bytes(item["teller"], raw, len(sums)))
            except ElectionError as error:
                raise ElectionError(f"share {i}: {error}") from None
        totals = _list(parsed, "totals")
        if not all(_is_int(t) for t in totals):
            raise ElectionError("the totals are not all integers")
        outcome = parsed.get("outcome", {})
        if not isinstance(outcome, dict):
            raise ElectionError("the outcome is not an object")
        return cls(manifest, ballots, tuple(sums), tuple(shares), tuple(totals), outcome)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(parsed: dict[str, Any], name: str) -> list[Any]:
    value = parsed.get(name)
    if not isinstance(value, list):
        raise ElectionError(f"the record's {name} are missing or not a list")
    return value


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise ElectionError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ElectionError(f"{what} is not valid base64") from None


def find_receipt(record: Record, text: str) -> int | None:
    """Return the number of the ballot whose receipt is ``text``, or None."""
    wanted = normalise_receipt(text)
    if wanted is None:
        return None
    for number, ballot in enumerate(record.ballots):
        if receipt(record.manifest, ballot) == wanted:
            return number
    return None


def verify_record(record: Record, *, processes: int | None = None) -> list[Problem]:
    """Return every problem with ``record`` (empty when it all holds), outcome aside.

    Checks: the manifest's keys agree (Feldman); the ballots are sorted; each ballot has
    the vote's length, valid points and valid proofs; no two ballots share ciphertexts;
    the sums are the sums of the ballots; each share is from a teller, once, with valid
    proofs; at least k shares hold; each total decrypts its sum. ``processes`` (default:
    the machine's cores) check ballots in parallel.
    """
    manifest = record.manifest
    problems = [Problem("manifest", p) for p in check_manifest(manifest)]
    if any(a > b for a, b in zip(record.ballots, record.ballots[1:], strict=False)):
        problems.append(Problem("ballots", "are not sorted: their order could tell when each came"))
    chunk_results = _check_ballots(manifest, record.ballots, processes)
    partial_sums: list[list[Ciphertext]] = []
    heads: dict[bytes, int] = {}
    parse_failed = False
    for start, ballot_problems, sums_bytes, digests in chunk_results:
        problems += [Problem(f"ballot {n}", reason) for n, reason in ballot_problems]
        if sums_bytes is None:
            parse_failed = True
        else:
            partial_sums.append(_split_sums(sums_bytes))
        for offset, digest in enumerate(digests):
            first = heads.setdefault(digest, start + offset)
            if first != start + offset:
                problems.append(
                    Problem(
                        f"ballot {start + offset}", f"repeats the ciphertexts of ballot {first}"
                    )
                )
    length = manifest.shape.length
    if len(record.sums) != length:
        problems.append(Problem("sums", f"{len(record.sums)} sums for {length} entries"))
        return problems
    if not parse_failed:
        for entry in range(length):
            actual = add_all([part[entry] for part in partial_sums])
            if actual != record.sums[entry]:
                problems.append(Problem(f"sum {entry}", "is not the sum of the ballots"))
    valid_shares = []
    seen: set[int] = set()
    for share in record.shares:
        where = f"teller {share.index}'s share"
        if share.index in seen:
            problems.append(Problem(where, "appears twice"))
            continue
        seen.add(share.index)
        problem = check_share(manifest, record.sums, share)
        if problem is None:
            valid_shares.append(share)
        else:
            problems.append(Problem(where, problem))
    problems += _check_totals(record, valid_shares)
    return problems


def _check_totals(record: Record, shares: Sequence[DecryptionShare]) -> list[Problem]:
    manifest = record.manifest
    if len(record.totals) != manifest.shape.length:
        return [
            Problem("totals", f"{len(record.totals)} totals for {manifest.shape.length} entries")
        ]
    if len(shares) < manifest.threshold:
        return [
            Problem("totals", f"only {len(shares)} valid shares, {manifest.threshold} are needed")
        ]
    problems = []
    powers = decrypted_powers(manifest, record.sums, shares)
    limits = bounds(manifest, len(record.ballots))
    for entry, (total, power, limit) in enumerate(zip(record.totals, powers, limits, strict=True)):
        if not 0 <= total <= limit:
            problems.append(Problem(f"total {entry}", f"{total} is outside 0..{limit}"))
        elif manifest.public_key.mul(total) != power:
            problems.append(
                Problem(f"total {entry}", f"{total} is not what sum {entry} decrypts to")
            )
    return problems


ChunkResult = tuple[int, list[tuple[int, str]], bytes | None, list[bytes]]


def _check_ballots(
    manifest: Manifest, ballots: Sequence[bytes], processes: int | None
) -> list[ChunkResult]:
    workers = processes or os.cpu_count() or 1
    if workers <= 1 or len(ballots) < 64:
        return [_check_chunk(manifest, 0, ballots)]
    size = max(16, -(-len(ballots) // (workers * 4)))
    tasks = [(start, list(ballots[start : start + size])) for start in range(0, len(ballots), size)]
    with multiprocessing.get_context().Pool(
        workers, initializer=_init_worker, initargs=(manifest.to_dict(),)
    ) as pool:
        return pool.starmap(_worker_chunk, tasks)


_WORKER_MANIFEST: Manifest | None = None


def _init_worker(manifest: dict[str, Any]) -> None:
    global _WORKER_MANIFEST
    _WORKER_MANIFEST = Manifest.from_dict(manifest)


def _worker_chunk(start: int, ballots: Sequence[bytes]) -> ChunkResult:
    assert _WORKER_MANIFEST is not None  # noqa: S101 - set by the pool's initializer
    return _check_chunk(_WORKER_MANIFEST, start, ballots)


def _check_chunk(manifest: Manifest, start: int, ballots: Sequence[bytes]) -> ChunkResult:
    """Check ``ballots``; return problems, their partial sums (None if one is unreadable)
    and the digests of their ciphertexts (to find repeats)."""
    problems: list[tuple[int, str]] = []
    readable: list[list[Ciphertext]] = []
    digests: list[bytes] = []
    unreadable = False
    head = CIPHERTEXT_BYTES * manifest.shape.length
    for number, ballot in enumerate(ballots, start=start):
        digests.append(hashlib.sha256(ballot[:head]).digest())
        try:
            readable.append(check_ballot(manifest, ballot))
            continue
        except ElectionError as error:
            problems.append((number, str(error)))
        try:
            readable.append(read_ciphertexts(manifest, ballot))
        except ElectionError:
            unreadable = True
    if unreadable:
        return start, problems, None, digests
    sums = [
        add_all([b[entry] for b in readable]).to_bytes() for entry in range(manifest.shape.length)
    ]
    return start, problems, b"".join(sums), digests


def _split_sums(data: bytes) -> list[Ciphertext]:
    return [
        Ciphertext.from_bytes(data[at : at + CIPHERTEXT_BYTES])
        for at in range(0, len(data), CIPHERTEXT_BYTES)
    ]
