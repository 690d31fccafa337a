"""Check a secret vote's record offline: every proof, the sums, the totals, the result.

``veche verify-vote FILE [--receipt R]`` (or ``python -m veche.verify_vote``) reads a
record written by the server, runs ``veche.crypto.election.verify_record`` over the
machine's cores, recounts the result from the decrypted totals with the domain's
``tally_totals``, checks that it equals the recorded result, and looks a receipt up.
One line per problem; exit 0 when everything holds, 1 when something does not (or the
receipt is not on the board), 2 when the file cannot be read as a record. No Django.

The record's manifest ``context`` and ``outcome`` are the domain's part (built with
``vote_context`` and ``vote_outcome`` below when the vote opens and closes).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from veche.crypto.election import ElectionError, Record, find_receipt, verify_record
from veche.domain.errors import DomainError
from veche.domain.voting import TallyResult, VoteSpec
from veche.domain.voting.vectors import spec_from_dict, spec_to_dict, tally_totals, vector_shape


def vote_context(spec: VoteSpec, *, tie_seed: bytes, max_ballots: int) -> dict[str, Any]:
    """Return the manifest context of a secret vote: what recounting it needs."""
    return {"spec": spec_to_dict(spec), "tie_seed": tie_seed.hex(), "max_ballots": max_ballots}


def vote_outcome(result: TallyResult) -> dict[str, Any]:
    """Return the record's outcome for ``result`` (eligible voters and the result)."""
    return {"eligible": result.eligible, "result": result.to_dict()}


@dataclass(frozen=True)
class Report:
    """What checking a record found: problems (one line each) and the receipt lookup."""

    problems: tuple[str, ...]
    result: TallyResult | None
    receipt_found: int | None = None


def check(record: Record, *, receipt: str | None = None, processes: int | None = None) -> Report:
    """Return every problem with ``record``, the recounted result, and where ``receipt`` is."""
    problems = [str(p) for p in verify_record(record, processes=processes)]
    result: TallyResult | None = None
    try:
        result = _recount(record)
    except (DomainError, KeyError, TypeError, ValueError) as error:
        problems.append(f"result: cannot be recounted: {_reason(error)}")
    if result is not None:
        recorded = record.outcome.get("result")
        if _plain(result.to_dict()) != recorded:
            problems.append("result: the recorded result differs from the recount")
    found = find_receipt(record, receipt) if receipt is not None else None
    return Report(problems=tuple(problems), result=result, receipt_found=found)


def _recount(record: Record) -> TallyResult:
    context = record.manifest.context
    spec = spec_from_dict(context["spec"])
    max_ballots = context["max_ballots"]
    shape = vector_shape(spec, max_ballots=max_ballots)
    if shape.to_dict() != record.manifest.shape.to_dict():
        raise ValueError("the ballots' shape is not the shape of this vote's method")
    return tally_totals(
        spec,
        record.totals,
        cast=len(record.ballots),
        eligible=record.outcome["eligible"],
        tie_seed=bytes.fromhex(context["tie_seed"]),
        max_ballots=max_ballots,
    )


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"the record lacks {error}"
    return str(error) or type(error).__name__


def _plain(data: object) -> object:
    # The recorded result went through JSON: compare like with like.
    return json.loads(json.dumps(data))


def run(
    path: str,
    *,
    receipt: str | None = None,
    processes: int | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Check the record at ``path``, print what was found, and return the exit code."""
    try:
        with open(path, "rb") as handle:
            record = Record.from_json(handle.read())
    except OSError as error:
        say(f"{path}: cannot read: {error.strerror or error}")
        return 2
    except ElectionError as error:
        say(f"{path}: not a readable vote record: {error}")
        return 2
    report = check(record, receipt=receipt, processes=processes)
    for problem in report.problems:
        say(f"{path}: {problem}")
    status = 1 if report.problems else 0
    if not report.problems:
        say(
            f"{path}: OK: {len(record.ballots)} ballots, {len(record.shares)} teller shares, "
            f"the result recounts the same"
        )
    if receipt is not None:
        if report.receipt_found is None:
            say(f"{path}: receipt {receipt!r} is not on this board")
            status = 1
        else:
            say(f"{path}: receipt {receipt!r} is ballot {report.receipt_found}")
    return status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a vote record downloaded from the server")
    parser.add_argument("--receipt", help="a receipt to look up on the board")
    parser.add_argument("--processes", type=int, help="worker processes (default: all cores)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verify-vote", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args.file, receipt=args.receipt, processes=args.processes)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
