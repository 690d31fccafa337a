"""Time veche's Schulze and IRV tallies against pref_voting on the same random ballots.

Usage: .venv/bin/python bench/tally.py [--quick]

Ballots are random truncated rankings (each voter ranks 1..m options) drawn from a seeded
NumPy generator and turned into plain Python lists before any timing, as a database
would hand them over. pref_voting's time includes building its profile from those lists.
pref_voting runs are skipped when predicted (linearly, from the next smaller size) to
exceed a cap; the table then shows the extrapolated time, marked as such.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
from pref_voting.iterative_methods import instant_runoff
from pref_voting.margin_based_methods import beat_path
from pref_voting.profiles_with_ties import ProfileWithTies

from veche.domain.voting import Method, VoteSpec, tally

PREF_VOTING_CAP_SECONDS = 60.0


def random_ballots(n: int, m: int, seed: int) -> list[list[int]]:
    """Return n random truncated rankings over m options as plain lists of ints."""
    rng = np.random.default_rng(seed)
    orders = np.argsort(rng.random((n, m)), axis=1)
    lengths = rng.integers(1, m + 1, n)
    return [order[:length].tolist() for order, length in zip(orders, lengths, strict=True)]


def time_veche(method: Method, m: int, ballots: list[list[int]]) -> float:
    spec = VoteSpec(method, tuple(f"option {i}" for i in range(m)))
    start = time.perf_counter()
    tally(spec, ballots, eligible=len(ballots), tie_seed=b"bench")
    return time.perf_counter() - start


def pref_voting_schulze(m: int, ballots: list[list[int]]) -> object:
    # Unranked options tied at the bottom: pref_voting's plain strict preference then
    # matches ours (unranked below ranked) without recomputing supports.
    rankings = []
    for ballot in ballots:
        ranks = dict.fromkeys(range(m), len(ballot) + 1)
        ranks.update({option: place + 1 for place, option in enumerate(ballot)})
        rankings.append(ranks)
    profile = ProfileWithTies(rankings, candidates=list(range(m)))
    return beat_path(profile, strength_function=profile.support)


def pref_voting_irv(m: int, ballots: list[list[int]]) -> object:
    # instant_runoff on truncated orders was the fastest fitting path (faster than
    # instant_runoff_for_truncated_linear_orders, which copies the profile every round).
    rankings = [{option: place + 1 for place, option in enumerate(b)} for b in ballots]
    return instant_runoff(ProfileWithTies(rankings, candidates=list(range(m))))


PREF_VOTING: dict[Method, Callable[[int, list[list[int]]], object]] = {
    Method.SCHULZE: pref_voting_schulze,
    Method.IRV: pref_voting_irv,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--cap", type=float, help="seconds a pref_voting run may be predicted to take before "
        "it is extrapolated instead (default 60; 8 with --quick)",
    )  # fmt: skip
    parser.add_argument("--sizes", help="comma-separated ballot counts (default 10k,100k,1M)")
    parser.add_argument("--options", help="comma-separated option counts (default 5,10,20)")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    options = [5, 10] if args.quick else [5, 10, 20]
    if args.sizes:
        sizes = [int(x) for x in args.sizes.split(",")]
    if args.options:
        options = [int(x) for x in args.options.split(",")]
    cap = args.cap if args.cap is not None else (8.0 if args.quick else PREF_VOTING_CAP_SECONDS)

    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
    print(f"# python {platform.python_version()}, numpy {np.__version__}, command: ", end="")
    print(" ".join(["bench/tally.py", *sys.argv[1:]]))
    print()
    print("| ballots | options | method | veche s | pref_voting s | ratio |")
    print("|---:|---:|---|---:|---:|---:|")
    previous: dict[tuple[int, Method], tuple[int, float]] = {}
    for n in sizes:
        for m in options:
            ballots = random_ballots(n, m, seed=n + m)
            for method in (Method.SCHULZE, Method.IRV):
                ours = min(time_veche(method, m, ballots) for _ in range(2 if n < 10**6 else 1))
                known = previous.get((m, method))
                predicted = known[1] * n / known[0] if known else 0.0
                if predicted <= cap:
                    start = time.perf_counter()
                    PREF_VOTING[method](m, ballots)
                    theirs = time.perf_counter() - start
                    previous[(m, method)] = (n, theirs)
                    shown = f"{theirs:.2f}"
                else:
                    # Linear in n: pref_voting's profile and counts are per-ballot loops.
                    theirs = predicted
                    shown = f"~{theirs:.0f} (extrapolated from {known[0]:,})" if known else "-"
                print(
                    f"| {n:,} | {m} | {method.value} | {ours:.3f} | {shown} | "
                    f"{theirs / ours:.0f}x |",
                    flush=True,
                )
            del ballots


if __name__ == "__main__":
    main()
