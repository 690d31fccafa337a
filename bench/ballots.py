"""What threshold-encrypted secret ballots cost: a cast, the close, the offline check.

    .venv/bin/python bench/ballots.py [--ballots 10000] [--rounds 15] [--processes N]
                                      [--cache FILE] [--cast-only | --skip-cast]
                                      [--skip-verify]

The cast is measured as the web app does it: encrypt with proofs, then one INSERT of a
``SealedBallot`` row through the real model into a fresh SQLite database (in its own
transaction; ``--no-store`` leaves the storage out, and Django with it). Baselines
measured in the same run:

- "today's box rewrite" (decision 0031): decrypt the vote's box, a JSON list of N
  ballots (XChaCha20-Poly1305, as ``Keyring.encrypt``), append, sort, re-encrypt;
  at 100, 1,000 and 10,000 ballots already cast;
- "today's close": decrypt the box of N ballots and ``tally`` them in the clear;
- "serial verification": ``verify_record`` on one process, over a slice, scaled up.

Targets (issue 9): one cast <= 50 ms whatever the number already cast; the close plus
k teller shares for 10,000 ballots <= 10 s; verification parallel over cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import nacl.bindings
import nacl.public
import nacl.utils

from veche.crypto.election import (
    Manifest,
    Record,
    Shape,
    combine,
    deal,
    decryption_share,
    encrypt_ballot,
    open_share,
    sum_ballots,
    verify_record,
)
from veche.domain.voting import Method, VoteSpec, tally
from veche.domain.voting.vectors import ballot_vector, vector_shape

OPTIONS = 10
TELLERS, THRESHOLD = 3, 2
SEED = b"bench seed"


def median_ms(action: Callable[[], object], rounds: int) -> float:
    action()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def random_ballot(spec: VoteSpec, rng: random.Random) -> object:
    m = len(spec.options)
    if spec.method is Method.APPROVAL:
        return rng.sample(range(m), rng.randint(0, m))
    order = rng.sample(range(m), m)
    return order[: rng.randint(0, m)]


# --- the cast ------------------------------------------------------------------------


def cast(
    manifest: Manifest, vector: Sequence[int], store: Callable[[bytes], None] | None = None
) -> bytes:
    """One cast as the server does it: encrypt with proofs, then store (one row)."""
    ballot = encrypt_ballot(manifest, vector)
    if store is not None:
        store(ballot)
    return ballot


class Box:
    """Today's secret ballot box (decision 0031), reproduced without Django."""

    def __init__(self, ballots: list[Any]) -> None:
        self.key = nacl.utils.random(32)
        self.blob = self._seal(ballots)

    def _seal(self, ballots: list[Any]) -> bytes:
        nonce = nacl.utils.random(24)
        plain = json.dumps(ballots).encode()
        aad = b"proposal:1:box:vote"
        return nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plain, aad, nonce, self.key
        )

    def open(self) -> list[Any]:
        plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            self.blob[24:], b"proposal:1:box:vote", self.blob[:24], self.key
        )
        loaded: list[Any] = json.loads(plain)
        return loaded

    def put(self, ballot: Any) -> None:
        ballots = self.open()
        ballots.append(ballot)
        ballots.sort(key=lambda b: json.dumps(b, sort_keys=True))
        self.blob = self._seal(ballots)


def new_vote(spec: VoteSpec, max_ballots: int) -> tuple[Manifest, tuple[bytes, ...], list[Any]]:
    tellers = [nacl.public.PrivateKey.generate() for _ in range(TELLERS)]
    shape = Shape.from_dict(vector_shape(spec, max_ballots=max_ballots).to_dict())
    dealt = deal(
        vote_id="bench",
        shape=shape,
        context={},
        teller_keys=[bytes(t.public_key) for t in tellers],
        threshold=THRESHOLD,
    )
    return dealt.manifest, dealt.sealed_shares, tellers


def sqlite_store(where: Path) -> Callable[[bytes], None]:
    """Return a function storing one ballot as the web app does: one ``SealedBallot`` row.

    A fresh SQLite database under ``where``, migrated, with the production pragmas; the
    vote's row is made with foreign keys off (no proposal is needed to time an INSERT).
    """
    os.environ["VECHE_DATA_DIR"] = str(where)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veche.config.settings")
    from veche.cli import _migrate, setup_django

    setup_django()
    _migrate()
    from django.db import connection, transaction

    from veche.apps.proposals.models import SealedBallot, SecretVote

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys=OFF")
    vote = SecretVote.objects.create(proposal_id=1, round="vote", manifest={})

    def store(ballot: bytes) -> None:
        with transaction.atomic():  # one commit per cast, as the voter's transaction
            SealedBallot.objects.create(vote=vote, ciphertext=ballot)

    return store


def bench_cast(rounds: int, max_ballots: int, store: Callable[[bytes], None] | None) -> None:
    what = "one SealedBallot INSERT on SQLite" if store else "storage not included"
    print(f"== one cast, {OPTIONS} options (encrypt + proofs; {what})")
    rng = random.Random(1)
    for method in (Method.SCHULZE, Method.APPROVAL):
        spec = VoteSpec(method, tuple(f"option {i}" for i in range(OPTIONS)))
        manifest, _, _ = new_vote(spec, max_ballots)
        vectors = [
            ballot_vector(spec, random_ballot(spec, rng), max_ballots=max_ballots)
            for _ in range(rounds + 1)
        ]
        it = iter(vectors)
        cast_ms = median_ms(lambda m=manifest, i=it: cast(m, next(i), store), rounds)
        size = manifest.shape.ballot_bytes()
        verdict = "meets" if cast_ms <= 50 else "MISSES"
        print(f"{method.value:9s} cast {cast_ms:7.1f} ms  ballot {size:,} bytes  ({verdict} 50 ms)")
        for already in (100, 1_000, 10_000):
            box = Box([random_ballot(spec, rng) for _ in range(already)])
            box_ms = median_ms(
                lambda b=box, s=spec: b.put(random_ballot(s, rng)), max(3, rounds // 3)
            )
            print(
                f"{'':9s} today's box rewrite at {already:>6,} cast: {box_ms:8.2f} ms"
                f"  -> cast / box = {cast_ms / box_ms:6.2f}"
            )


# --- building a board in parallel -----------------------------------------------------

_WORKER: Manifest | None = None


def _init(manifest: dict[str, Any]) -> None:
    global _WORKER
    _WORKER = Manifest.from_dict(manifest)


def _encrypt(vector: Sequence[int]) -> bytes:
    assert _WORKER is not None
    return encrypt_ballot(_WORKER, vector)


def build_board(spec: VoteSpec, count: int, processes: int, cache: Path | None) -> tuple[Any, ...]:
    """Return (manifest, sealed shares, teller keys, plain ballots, encrypted ballots).

    Encrypting 10,000 Schulze ballots takes minutes; ``cache`` keeps a board between runs.
    """
    if cache is not None and cache.exists():
        data = json.loads(cache.read_text())
        if data["count"] == count:
            print(f"(board of {count:,} ballots read from {cache})")
            return (
                Manifest.from_dict(data["manifest"]),
                tuple(bytes.fromhex(s) for s in data["sealed"]),
                [nacl.public.PrivateKey(bytes.fromhex(k)) for k in data["tellers"]],
                data["plain"],
                [bytes.fromhex(b) for b in data["ballots"]],
            )
    manifest, sealed, tellers = new_vote(spec, count)
    rng = random.Random(2)
    plain = [random_ballot(spec, rng) for _ in range(count)]
    vectors = [ballot_vector(spec, b, max_ballots=count) for b in plain]
    start = time.perf_counter()
    with multiprocessing.get_context().Pool(
        processes, initializer=_init, initargs=(manifest.to_dict(),)
    ) as pool:
        ballots = pool.map(_encrypt, vectors, chunksize=64)
    print(f"(encrypted {count:,} ballots in {time.perf_counter() - start:.1f} s on {processes})")
    if cache is not None:
        cache.write_text(
            json.dumps(
                {
                    "count": count,
                    "manifest": manifest.to_dict(),
                    "sealed": [s.hex() for s in sealed],
                    "tellers": [bytes(t).hex() for t in tellers],
                    "plain": plain,
                    "ballots": [b.hex() for b in ballots],
                }
            )
        )
    return manifest, sealed, tellers, plain, ballots


def bench_close_and_verify(
    count: int, processes: int, cache: Path | None, *, verify: bool = True
) -> None:
    spec = VoteSpec(Method.SCHULZE, tuple(f"option {i}" for i in range(OPTIONS)))
    manifest, sealed, tellers, plain, ballots = build_board(spec, count, processes, cache)
    print(f"== close at {count:,} Schulze ballots, {OPTIONS} options, k={THRESHOLD} of {TELLERS}")

    box = Box(plain)
    start = time.perf_counter()
    tally(spec, box.open(), eligible=count, tie_seed=SEED)
    today = time.perf_counter() - start

    start = time.perf_counter()
    sums = sum_ballots(manifest, ballots)
    summed = time.perf_counter() - start
    start = time.perf_counter()
    keys = [open_share(manifest, i, sealed[i - 1], tellers[i - 1]) for i in (1, 2)]
    shares = [decryption_share(manifest, key, sums) for key in keys]
    shared = time.perf_counter() - start
    start = time.perf_counter()
    totals = combine(manifest, sums, shares, cast=count)
    combined = time.perf_counter() - start
    close = summed + shared + combined
    verdict = "meets" if close <= 10 else "MISSES"
    print(f"sums {summed:.2f} s + {THRESHOLD} teller shares {shared:.2f} s + combine and")
    print(f"discrete logs {combined:.2f} s = {close:.2f} s ({verdict} 10 s)")
    print(
        f"today's close (decrypt the box, tally in the clear): {today:.3f} s"
        f"  -> ratio {close / today:.0f}"
    )

    record = Record.build(manifest, ballots, sums, shares, totals, {})
    if not verify:
        return
    size = len(record.to_json())
    print(f"== verify_record at {count:,} ballots (record {size / 1e6:.1f} MB of JSON)")
    sample = Record(manifest, tuple(ballots[: max(1, count // 20)]), (), (), (), {})
    start = time.perf_counter()
    verify_record(sample, processes=1)
    serial = (time.perf_counter() - start) * count / len(sample.ballots)
    start = time.perf_counter()
    problems = verify_record(record, processes=processes)
    parallel = time.perf_counter() - start
    assert not problems, problems[:3]
    print(
        f"parallel on {processes} processes: {parallel:.1f} s; serial (scaled from "
        f"{len(sample.ballots):,}): {serial:.1f} s  -> speed-up {serial / parallel:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cast-only", action="store_true")
    parser.add_argument("--skip-cast", action="store_true")
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--no-store", action="store_true", help="time the cast without its INSERT")
    parser.add_argument("--cache", type=Path, help="keep the encrypted board in this file")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, processes: {args.processes}")
    if not args.skip_cast:
        if args.no_store:
            bench_cast(args.rounds, args.ballots, None)
        else:
            import tempfile

            with tempfile.TemporaryDirectory() as where:
                bench_cast(args.rounds, args.ballots, sqlite_store(Path(where)))
    if not args.cast_only:
        bench_close_and_verify(
            args.ballots, args.processes, args.cache, verify=not args.skip_verify
        )


if __name__ == "__main__":
    main()
