"""The decision log: an append-only, hash-chained record anyone can verify offline.

Each record commits to its position (``seq``), its ``kind``, its ``payload`` and the digest
of the record before it. The digest is::

    sha256(b"veche-log-v1\\n" + canonical_json({"seq", "kind", "payload", "prev"})).hexdigest()

where ``canonical_json`` is ``json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8. The first record's ``prev`` is
:data:`GENESIS_DIGEST` (64 zeros). The prefix separates these digests from any other
SHA-256 use in veche, so a digest from elsewhere can never pass for a log record.

Payloads are restricted to JSON types that every language encodes the same way: objects
with string keys, arrays, strings, booleans, null and integers within ±(2**53 - 1).
Floats are refused (write a decimal string or integer minor units instead): their text
form differs between JSON libraries, which would make offline verifiers disagree.

What verification can and cannot see: :func:`verify` detects and locates any altered,
removed, inserted or reordered record *inside* the log. Removing records from the
*end*, or re-hashing the last record, leaves a shorter or different but internally
consistent chain; that is only detectable against a head published earlier (count and
last digest, see :func:`head`) with :func:`verify_against`. Publish heads, e.g. in each
members' digest, so that members hold the evidence.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from veche.domain.errors import ChainError, _

__all__ = [
    "GENESIS_DIGEST",
    "Head",
    "Problem",
    "ProblemKind",
    "Record",
    "VerifyReport",
    "append",
    "append_after",
    "compute_digest",
    "extends_checked",
    "head",
    "records_from_jsonl",
    "records_to_jsonl",
    "self_consistent",
    "verify",
    "verify_against",
    "verify_since",
]

GENESIS_DIGEST = "0" * 64
DOMAIN_PREFIX = b"veche-log-v1\n"
# The largest integer a JavaScript (IEEE double) verifier reads back exactly.
MAX_SAFE_INT = 2**53 - 1

_HEX64 = re.compile(r"[0-9a-f]{64}")
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_JSONL_KEYS = frozenset({"seq", "kind", "payload", "prev", "digest"})


@dataclass(frozen=True)
class Record:
    """One entry of the log: what happened, and the digest that chains it to the last."""

    seq: int
    kind: str
    payload: Mapping[str, Any]
    prev_digest: str
    digest: str

    def __post_init__(self) -> None:
        # Only shapes are checked here: a record read back from an export must be
        # constructible even when its digest is wrong, so that verify() can say so.
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 0:
            raise ChainError(_("seq must be a non-negative integer"), field="seq")
        if not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind):
            raise ChainError(
                _("kind must be lower-case letters, digits, '_', '.', '-'"), field="kind"
            )
        if not isinstance(self.payload, Mapping):
            raise ChainError(_("payload must be a mapping"), field="payload")
        for name in ("prev_digest", "digest"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise ChainError(
                    _("%(name)s must be 64 lower-case hex digits"),
                    params={"name": name},
                    field=name,
                )


class ProblemKind(enum.Enum):
    """What went wrong with a record."""

    ALTERED = "altered"
    REMOVED = "removed"
    INSERTED = "inserted"
    REORDERED = "reordered"


@dataclass(frozen=True)
class Problem:
    """One finding of verification: which record, and what is wrong with it.

    ``position`` is the 0-based index in the sequence that was verified. ``seq`` is the
    sequence number concerned: the record's own for altered, inserted and reordered
    records; the first missing one for removed records (which are, by nature, absent:
    ``position`` is then where they would have been).
    """

    kind: ProblemKind
    position: int
    seq: int
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of verification: ``ok`` when there are no problems."""

    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Return True when the log verified without any problem."""
        return not self.problems


@dataclass(frozen=True)
class Head:
    """The published summary of a log: how many records, and the last record's digest."""

    count: int
    digest: str


def _plain_json(value: object) -> bool:
    """Return whether ``value`` is portable JSON (what :func:`_check_json` accepts).

    The check every digest makes, without the path a refusal names: a page checks a
    hundred records, and building each value's path cost more than checking it. A walk
    with a stack, not a recursion: a payload holds a few dozen values.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -MAX_SAFE_INT <= item <= MAX_SAFE_INT:  # type: ignore[operator]
                continue
            return False
        if kind is dict:
            for key in item:  # type: ignore[attr-defined]
                if type(key) is not str:
                    return False
            stack.extend(item.values())  # type: ignore[attr-defined]
            continue
        if kind is list:
            stack.extend(item)  # type: ignore[arg-type]
            continue
        return False  # anything else (floats, tuples, mappings, subclasses): the long way
    return True


def _check_json(value: object, path: str) -> None:
    if _plain_json(value):
        return
    _explain_json(value, path)


def _explain_json(value: object, path: str) -> None:
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise ChainError(
                _("%(path)s: integer outside ±(2**53 - 1)"), params={"path": path}, field="payload"
            )
        return
    if isinstance(value, float):
        raise ChainError(
            _("%(path)s: floats are not allowed; use an integer or a decimal string"),
            params={"path": path},
            field="payload",
        )
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ChainError(
                    _("%(path)s: object keys must be strings"),
                    params={"path": path},
                    field="payload",
                )
            _check_json(item, f"{path}.{key}")
        return
    raise ChainError(
        _("%(path)s: %(type)s is not JSON-serialisable"),
        params={"path": path, "type": type(value).__name__},
        field="payload",
    )


def _canonical(seq: int, kind: str, payload: Mapping[str, Any], prev: str) -> bytes:
    document = {"seq": seq, "kind": kind, "payload": payload, "prev": prev}
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_digest(seq: int, kind: str, payload: Mapping[str, Any], prev_digest: str) -> str:
    """Return the hex digest a record with this content must carry.

    Raises ChainError when the payload is not plain, portable JSON.
    """
    _check_json(payload, "payload")
    return hashlib.sha256(DOMAIN_PREFIX + _canonical(seq, kind, payload, prev_digest)).hexdigest()


def append(log: Sequence[Record], kind: str, payload: Mapping[str, Any]) -> Record:
    """Return the record that extends ``log`` with ``payload`` (``log`` is not changed).

    The payload is copied through JSON, so later changes to the caller's dict cannot
    reach the record, and tuples come back as lists exactly as a verifier will see them.
    """
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ChainError(_("kind must be lower-case letters, digits, '_', '.', '-'"), field="kind")
    if not isinstance(payload, Mapping):
        raise ChainError(_("payload must be a mapping"), field="payload")
    _check_json(payload, "payload")
    copied: dict[str, Any] = json.loads(json.dumps(payload))
    seq = len(log)
    prev = log[-1].digest if log else GENESIS_DIGEST
    if log and log[-1].seq != seq - 1:
        raise ChainError(_("cannot append to a log whose last seq is not its length - 1"))
    digest = compute_digest(seq, kind, copied, prev)
    return Record(seq=seq, kind=kind, payload=copied, prev_digest=prev, digest=digest)


def append_after(last: Record | None, kind: str, payload: Mapping[str, Any]) -> Record:
    """Return the record that follows ``last`` (None: the first of its chain).

    What a store that keeps only its chain's last record calls: the same checks as
    :func:`append`, without needing the whole chain in memory.
    """
    return append([] if last is None else _Tail(last), kind, payload)


class _Tail(Sequence[Record]):
    """A chain seen from its last record: as long as that record's position says."""

    def __init__(self, last: Record) -> None:
        self._last = last

    def __len__(self) -> int:
        return self._last.seq + 1

    def __getitem__(self, index: Any) -> Any:
        if index in (-1, self._last.seq):
            return self._last
        raise IndexError(index)


def head(records: Sequence[Record]) -> Head:
    """Return the head to publish for ``records``: their count and the last digest."""
    return Head(count=len(records), digest=records[-1].digest if records else GENESIS_DIGEST)


def self_consistent(record: Record) -> bool:
    """Return whether a record's content gives the digest it carries (its own check only).

    Worked out once per record and kept on it: a page checks the records it shows and
    the chain they belong to, which hold the same records. A record is a value (its
    payload is never changed once made; ``append`` copies it), so the answer holds.
    """
    known = record.__dict__.get("_self_consistent")
    if known is None:
        try:
            expected = compute_digest(record.seq, record.kind, record.payload, record.prev_digest)
        except (ChainError, TypeError, ValueError):
            known = False
        else:
            known = expected == record.digest
        object.__setattr__(record, "_self_consistent", known)  # frozen: kept beside its fields
    return bool(known)


def _reordered(
    records: Sequence[Record], self_ok: Sequence[bool], start: Head
) -> list[Problem] | None:
    """Return the misplaced records if sorting by seq would give a valid chain, else None."""
    seqs = [record.seq for record in records]
    expected = list(range(start.count, start.count + len(records)))
    if seqs == expected or sorted(seqs) != expected:
        return None
    if not all(self_ok):
        return None
    ordered = sorted(records, key=lambda record: record.seq)
    prev = start.digest
    for record in ordered:
        if record.prev_digest != prev:
            return None
        prev = record.digest
    return [
        Problem(
            ProblemKind.REORDERED,
            position,
            record.seq,
            f"record seq {record.seq} is at position {position}",
        )
        for position, record in enumerate(records)
        if record.seq != start.count + position
    ]


def verify(records: Sequence[Record], *, after: Head | None = None) -> VerifyReport:
    """Return a report of every altered, removed, inserted or reordered record.

    The scan walks the log keeping the last record it accepted. A record the next one
    skips over (the next links to the accepted one) was inserted; a record whose content
    does not give its digest was altered; a record that is self-consistent but links to
    something absent while its seq jumps ahead follows removed records; one whose seq is
    right but links to a different predecessor means the predecessor was altered and
    re-hashed (or replaced). See the module docstring for what only a head can reveal.

    With ``after`` (the head of a part already verified: its count and last digest),
    ``records`` are the ones that follow it, verified as its continuation: a page checks
    what was appended since the last full check without reading the whole chain.
    """
    start = after if after is not None else Head(count=0, digest=GENESIS_DIGEST)
    self_ok = [self_consistent(record) for record in records]
    reordered = _reordered(records, self_ok, start)
    if reordered is not None:
        return VerifyReport(tuple(reordered))

    problems: list[Problem] = []

    def report(kind: ProblemKind, position: int, seq: int, detail: str) -> None:
        # Two rules can point at the same record (e.g. an altered digest field breaks
        # its own check and the next link): say it once.
        if not any(p.kind is kind and p.position == position for p in problems):
            problems.append(Problem(kind, position, seq, detail))

    prev_digest = start.digest
    prev_seq = start.count - 1
    last_position: int | None = None
    seen: dict[str, int] = {}
    positions_of: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        positions_of.setdefault(record.digest, []).append(position)
    for position, record in enumerate(records):
        following = records[position + 1] if position + 1 < len(records) else None
        if (
            following is not None
            and self_ok[position + 1]
            and following.prev_digest == prev_digest
            and following.prev_digest != record.digest
            # A verbatim copy right after its original shares the original's link;
            # the copy is the insertion, found by the duplicate rule below.
            and following.digest != record.digest
        ):
            # Skipped over: either a stranger (inserted) or a genuine, unique record
            # that belongs after one further down or before one already seen (moved).
            later = [p for p in positions_of.get(record.prev_digest, []) if p > position]
            moved = bool(later) or record.seq <= prev_seq
            if self_ok[position] and len(positions_of[record.digest]) == 1 and moved:
                report(
                    ProblemKind.REORDERED,
                    position,
                    record.seq,
                    f"seq {record.seq} is out of place at position {position}",
                )
            else:
                report(
                    ProblemKind.INSERTED,
                    position,
                    record.seq,
                    f"the next record links past position {position}",
                )
            continue
        if self_ok[position] and record.digest in seen:
            report(
                ProblemKind.INSERTED,
                position,
                record.seq,
                f"duplicate of the record at position {seen[record.digest]}",
            )
            continue
        link_ok = record.prev_digest == prev_digest
        seq_ok = record.seq == prev_seq + 1
        if not self_ok[position]:
            report(
                ProblemKind.ALTERED,
                position,
                record.seq,
                "content does not match its digest",
            )
            prev_seq += 1
        elif link_ok and seq_ok:
            prev_seq = record.seq
        elif link_ok:
            report(
                ProblemKind.ALTERED,
                position,
                record.seq,
                f"seq {record.seq} where {prev_seq + 1} was expected",
            )
            prev_seq += 1
        elif record.seq > prev_seq + 1:
            missing = record.seq - prev_seq - 1
            report(
                ProblemKind.REMOVED,
                position,
                prev_seq + 1,
                f"{missing} record(s) missing: seq {prev_seq + 1}..{record.seq - 1}",
            )
            prev_seq = record.seq
        elif seq_ok:
            # Linked to a predecessor other than the one in the log: that one was
            # altered and re-hashed, or replaced wholesale.
            culprit = last_position if last_position is not None else position
            report(
                ProblemKind.ALTERED,
                culprit,
                records[culprit].seq,
                f"does not match the digest the record at position {position} links to",
            )
            prev_seq = record.seq
        else:
            report(
                ProblemKind.REORDERED,
                position,
                record.seq,
                f"seq {record.seq} comes after seq {prev_seq}",
            )
            prev_seq = record.seq
        prev_digest = record.digest
        last_position = position
        seen.setdefault(record.digest, position)
    return VerifyReport(tuple(problems))


def extends_checked(checked: Head | None, last: Record | None) -> bool:
    """Return whether a record appended after ``last`` extends a chain checked to its end.

    ``checked`` is how far the chain was checked from its start (None: never). A chain
    with no record is checked trivially; otherwise ``last`` must be the record the check
    ended on, unchanged since (its content still gives the digest the check saw). Then the
    record appended after it, which the append itself links to ``last``, is checked too:
    the check moves with the chain, one link per append, instead of leaving every new
    record to the next full check.
    """
    if last is None:
        return checked is None or checked.count == 0
    return (
        checked is not None
        and checked.count == last.seq + 1
        and checked.digest == last.digest
        and self_consistent(last)
    )


def verify_since(records: Sequence[Record], checked: Head) -> VerifyReport:
    """Return the report on what follows a check: ``records`` from the one it ended on.

    ``records`` start with the record the earlier check ended on (seq ``checked.count -
    1``) and run to the chain's end. That record must still be what the check saw; the
    ones after it are verified as its continuation. A chain that no longer reaches the
    checked record lost its end. Problems' positions are indices into ``records``.
    """
    if checked.count == 0:
        return verify(records)
    first_seq = checked.count - 1
    if not records or records[0].seq > first_seq or records[-1].seq < first_seq:
        return VerifyReport(
            (
                Problem(
                    ProblemKind.REMOVED,
                    0,
                    first_seq,
                    f"the chain no longer holds seq {first_seq}, which an earlier check saw",
                ),
            )
        )
    at = next(i for i, record in enumerate(records) if record.seq >= first_seq)
    problems: list[Problem] = []
    first = records[at]
    if first.seq != first_seq or first.digest != checked.digest or not self_consistent(first):
        problems.append(
            Problem(
                ProblemKind.ALTERED,
                at,
                first.seq,
                f"seq {first_seq} differs from the record an earlier check saw",
            )
        )
    rest = verify(records[at + 1 :], after=checked)
    problems += [replace(p, position=p.position + at + 1) for p in rest.problems]
    return VerifyReport(tuple(problems))


def verify_against(records: Sequence[Record], expected: Head) -> VerifyReport:
    """Return :func:`verify`'s report plus what a previously published head reveals.

    Records after the head are fine (the log grew since). Fewer records than the head
    counted means the tail was removed; a different digest at the head's position means
    that record was altered and re-hashed.
    """
    problems = list(verify(records).problems)
    count = len(records)
    if count < expected.count:
        problems.append(
            Problem(
                ProblemKind.REMOVED,
                count,
                count,
                f"{expected.count - count} record(s) missing from the end "
                f"(the published head counts {expected.count})",
            )
        )
    elif expected.count == 0:
        if expected.digest != GENESIS_DIGEST:
            problems.append(
                Problem(ProblemKind.ALTERED, 0, 0, "an empty head must carry the genesis digest")
            )
    elif records[expected.count - 1].digest != expected.digest:
        position = expected.count - 1
        problems.append(
            Problem(
                ProblemKind.ALTERED,
                position,
                records[position].seq,
                "digest differs from the published head",
            )
        )
    return VerifyReport(tuple(problems))


def records_to_jsonl(records: Sequence[Record]) -> str:
    """Return the records as JSON Lines, one canonical object per record, for export."""
    lines = [
        json.dumps(
            {
                "seq": record.seq,
                "kind": record.kind,
                "payload": record.payload,
                "prev": record.prev_digest,
                "digest": record.digest,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
        for record in records
    ]
    return "".join(line + "\n" for line in lines)


def records_from_jsonl(text: str) -> list[Record]:
    """Return the records read from a JSON Lines export (blank lines are skipped).

    Raises ChainError naming the 1-based line number on malformed input. Digests are
    not checked here: pass the result to :func:`verify`.
    """
    records: list[Record] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ChainError(
                _("line %(number)d: not valid JSON (%(error)s)"),
                params={"number": number, "error": exc.msg},
            ) from exc
        if not isinstance(obj, dict) or set(obj) != _JSONL_KEYS:
            raise ChainError(
                _("line %(number)d: expected an object with keys %(keys)s"),
                params={"number": number, "keys": sorted(_JSONL_KEYS)},
            )
        try:
            records.append(
                Record(
                    seq=obj["seq"],
                    kind=obj["kind"],
                    payload=obj["payload"],
                    prev_digest=obj["prev"],
                    digest=obj["digest"],
                )
            )
        except ChainError as exc:
            raise ChainError(
                _("line %(number)d: %(error)s"),
                params={"number": number, "error": exc},
                field=exc.field,
            ) from exc
    return records
