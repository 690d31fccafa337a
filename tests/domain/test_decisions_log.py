"""The decision log detects, and locates, any tampering with its records."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veche.domain.decisions_log import (
    GENESIS_DIGEST,
    Head,
    ProblemKind,
    Record,
    append,
    compute_digest,
    head,
    records_from_jsonl,
    records_to_jsonl,
    verify,
    verify_against,
)
from veche.domain.errors import ChainError


def build(payloads: list[dict[str, Any]], kind: str = "decision") -> list[Record]:
    log: list[Record] = []
    for payload in payloads:
        log.append(append(log, kind, payload))
    return log


def rehash(record: Record, **changes: Any) -> Record:
    changed = dataclasses.replace(record, **changes)
    digest = compute_digest(changed.seq, changed.kind, changed.payload, changed.prev_digest)
    return dataclasses.replace(changed, digest=digest)


def found(records: list[Record]) -> set[tuple[ProblemKind, int]]:
    return {(p.kind, p.position) for p in verify(records).problems}


json_leaf = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text()
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
payloads = st.dictionaries(st.text(max_size=8), json_value, max_size=4)
chains = st.lists(payloads, min_size=2, max_size=10).map(build)


# --- building -------------------------------------------------------------------------


def test_first_record_links_to_the_genesis_digest() -> None:
    record = append([], "decision", {"outcome": "adopted"})
    assert record.seq == 0
    assert record.prev_digest == GENESIS_DIGEST == "0" * 64


def test_digest_is_sha256_over_prefix_and_canonical_json() -> None:
    record = append([], "fund", {"b": 1, "a": "é"})
    body = '{"kind":"fund","payload":{"a":"é","b":1},"prev":"' + "0" * 64 + '","seq":0}'
    expected = hashlib.sha256(b"veche-log-v1\n" + body.encode()).hexdigest()
    assert record.digest == expected


def test_append_does_not_mutate_the_log_or_share_the_payload() -> None:
    payload: dict[str, Any] = {"tally": {"yes": 3}, "options": ("a", "b")}
    log = build([{"x": 1}])
    record = append(log, "decision", payload)
    payload["tally"]["yes"] = 99
    assert len(log) == 1
    assert record.seq == 1 and record.prev_digest == log[0].digest
    assert record.payload == {"tally": {"yes": 3}, "options": ["a", "b"]}


@pytest.mark.parametrize(
    "payload",
    [
        {"x": math.nan},
        {"x": 0.5},
        {"x": {1, 2}},
        {"when": datetime(2024, 1, 1, tzinfo=UTC)},
        {"x": 2**53},
        {"nested": {1: "int key"}},
    ],
)
def test_non_portable_json_payload_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ChainError) as info:
        append([], "decision", payload)
    assert info.value.field == "payload"


def test_payload_must_be_a_mapping() -> None:
    with pytest.raises(ChainError):
        append([], "decision", ["not", "a", "mapping"])  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["", "Decision", "has space", 3])
def test_bad_kind_is_refused(kind: Any) -> None:
    with pytest.raises(ChainError) as info:
        append([], kind, {})
    assert info.value.field == "kind"
    record = append([], "decision", {})
    with pytest.raises(ChainError) as info:
        dataclasses.replace(record, kind=kind)
    assert info.value.field == "kind"


def test_append_refuses_a_log_whose_seqs_are_out_of_step() -> None:
    log = build([{"a": 1}])
    odd = rehash(log[0], seq=5)
    with pytest.raises(ChainError):
        append([odd], "decision", {})


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", -1), ("seq", True), ("digest", "XYZ"), ("prev_digest", "0" * 63), ("payload", [])],
)
def test_record_rejects_malformed_fields(field: str, value: Any) -> None:
    record = append([], "decision", {})
    with pytest.raises(ChainError) as info:
        dataclasses.replace(record, **{field: value})
    assert info.value.field == field


# --- verifying ------------------------------------------------------------------------


def test_empty_log_verifies() -> None:
    assert verify([]).ok
    assert head([]) == Head(0, GENESIS_DIGEST)


@given(chains)
def test_a_valid_chain_always_verifies(log: list[Record]) -> None:
    report = verify(log)
    assert report.ok and report.problems == ()
    assert verify_against(log, head(log)).ok


@given(chains, st.data())
def test_altering_a_record_is_detected_at_that_record(log: list[Record], data: Any) -> None:
    i = data.draw(st.integers(0, len(log) - 1))
    tampered = list(log)
    tampered[i] = dataclasses.replace(log[i], payload={"forged": True})
    assert found(tampered) == {(ProblemKind.ALTERED, i)}


@given(chains, st.data())
def test_altering_and_rehashing_a_record_is_detected_at_that_record(
    log: list[Record], data: Any
) -> None:
    i = data.draw(st.integers(0, len(log) - 2))
    tampered = list(log)
    tampered[i] = rehash(log[i], payload={"forged": True})
    assert found(tampered) == {(ProblemKind.ALTERED, i)}


@given(chains, st.data())
def test_altering_a_records_seq_or_digest_is_detected(log: list[Record], data: Any) -> None:
    i = data.draw(st.integers(0, len(log) - 2))
    field = data.draw(st.sampled_from(["seq", "digest", "prev_digest"]))
    value: Any = {"seq": log[i].seq + 7, "digest": "f" * 64, "prev_digest": "e" * 64}[field]
    tampered = list(log)
    tampered[i] = dataclasses.replace(log[i], **{field: value})
    assert (ProblemKind.ALTERED, i) in found(tampered)
    assert not verify(tampered).ok


@given(chains, st.data())
def test_rehashed_record_with_a_changed_seq_is_located(log: list[Record], data: Any) -> None:
    i = data.draw(st.integers(0, len(log) - 2))
    tampered = list(log)
    tampered[i] = rehash(log[i], seq=log[i].seq + 3)
    assert found(tampered) == {(ProblemKind.ALTERED, i)}


@given(chains, st.data())
def test_removing_a_record_is_detected_where_it_was(log: list[Record], data: Any) -> None:
    i = data.draw(st.integers(0, len(log) - 2))
    tampered = log[:i] + log[i + 1 :]
    report = verify(tampered)
    assert [(p.kind, p.position, p.seq) for p in report.problems] == [(ProblemKind.REMOVED, i, i)]


@given(chains, st.data())
def test_inserting_a_forged_record_is_detected_where_it_is(log: list[Record], data: Any) -> None:
    i = data.draw(st.integers(0, len(log) - 1))
    style = data.draw(st.sampled_from(["well-formed", "junk", "copy"]))
    if style == "well-formed":
        intruder = append(log[:i], "fund", {"forged": True})
    elif style == "junk":
        intruder = Record(
            seq=data.draw(st.integers(0, 20)),
            kind="decision",
            payload={"junk": 1},
            prev_digest=data.draw(st.sampled_from(["a" * 64, GENESIS_DIGEST])),
            digest="b" * 64,
        )
    else:
        intruder = log[data.draw(st.integers(0, len(log) - 1))]
    tampered = [*log[:i], intruder, *log[i:]]
    # A verbatim copy next to its original is indistinguishable from it: either may be
    # named as the insertion.
    allowed = {i} | {
        p for p in (i - 1, i + 1) if 0 <= p < len(tampered) and tampered[p] == intruder
    }
    inserted = {pos for kind, pos in found(tampered) if kind is ProblemKind.INSERTED}
    assert inserted & allowed


@given(chains, st.data())
def test_swapping_two_records_is_detected_at_both(log: list[Record], data: Any) -> None:
    i = data.draw(st.integers(0, len(log) - 2))
    j = data.draw(st.integers(i + 1, len(log) - 1))
    tampered = list(log)
    tampered[i], tampered[j] = tampered[j], tampered[i]
    assert found(tampered) == {(ProblemKind.REORDERED, i), (ProblemKind.REORDERED, j)}


def test_a_record_moved_among_other_damage_is_reported_as_reordered() -> None:
    log = build([{"n": n} for n in range(5)])
    tampered = [log[0], log[2], log[1], dataclasses.replace(log[3], payload={}), log[4]]
    kinds = {p.kind for p in verify(tampered).problems}
    assert ProblemKind.REORDERED in kinds
    assert ProblemKind.ALTERED in kinds


def test_a_record_moved_back_to_the_end_is_reordered() -> None:
    log = build([{"n": n} for n in range(4)])
    tampered = [dataclasses.replace(log[0], payload={}), log[2], log[3], log[1]]
    assert (ProblemKind.REORDERED, 3) in found(tampered)


def test_a_record_moved_back_before_another_is_reordered() -> None:
    log = build([{"n": n} for n in range(5)])
    tampered = [dataclasses.replace(log[0], payload={}), log[2], log[3], log[1], log[4]]
    assert (ProblemKind.REORDERED, 3) in found(tampered)


def test_swap_combined_with_a_rehashed_record_is_still_detected() -> None:
    log = build([{"n": n} for n in range(3)])
    tampered = [log[0], log[2], rehash(log[1], payload={"n": 9})]
    assert not verify(tampered).ok


def test_first_record_linking_elsewhere_is_altered() -> None:
    log = build([{"n": 1}, {"n": 2}])
    forged_first = rehash(log[0], prev_digest="c" * 64)
    assert found([forged_first, log[1]]) == {(ProblemKind.ALTERED, 0)}


def test_report_is_not_ok_and_says_what_happened() -> None:
    log = build([{"n": n} for n in range(4)])
    report = verify([log[0], log[1], log[3]])
    assert not report.ok
    (problem,) = report.problems
    assert "seq 2..2" in problem.detail


# --- heads: the tail ------------------------------------------------------------------


@given(chains, st.data())
def test_truncated_tail_is_only_seen_against_a_published_head(log: list[Record], data: Any) -> None:
    keep = data.draw(st.integers(0, len(log) - 1))
    truncated = log[:keep]
    assert verify(truncated).ok
    report = verify_against(truncated, head(log))
    assert [(p.kind, p.position) for p in report.problems] == [(ProblemKind.REMOVED, keep)]


def test_rehashed_last_record_is_seen_against_a_published_head() -> None:
    log = build([{"n": 1}, {"n": 2}])
    tampered = [log[0], rehash(log[1], payload={"n": 3})]
    assert verify(tampered).ok
    report = verify_against(tampered, head(log))
    assert [(p.kind, p.position) for p in report.problems] == [(ProblemKind.ALTERED, 1)]


def test_growth_after_a_published_head_is_fine() -> None:
    log = build([{"n": 1}, {"n": 2}])
    old_head = head(log[:1])
    assert verify_against(log, old_head).ok
    assert verify_against(log, Head(0, GENESIS_DIGEST)).ok


def test_empty_head_with_a_non_genesis_digest_is_a_problem() -> None:
    report = verify_against([], Head(0, "1" * 64))
    assert [p.kind for p in report.problems] == [ProblemKind.ALTERED]


# --- export ---------------------------------------------------------------------------


@given(chains)
def test_jsonl_round_trips_and_verifies_offline(log: list[Record]) -> None:
    text = records_to_jsonl(log)
    assert text.count("\n") == len(log)
    back = records_from_jsonl(text)
    assert back == log
    assert verify(back).ok


def test_jsonl_skips_blank_lines() -> None:
    log = build([{"n": 1}])
    assert records_from_jsonl("\n" + records_to_jsonl(log) + "\n\n") == log


def test_jsonl_of_a_tampered_line_reads_but_does_not_verify() -> None:
    log = build([{"n": 1}, {"n": 2}])
    lines = records_to_jsonl(log).splitlines()
    obj = json.loads(lines[0])
    obj["payload"]["n"] = 9
    lines[0] = json.dumps(obj)
    back = records_from_jsonl("\n".join(lines))
    assert found(back) == {(ProblemKind.ALTERED, 0)}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("{not json", 1),
        ('{"seq": 0}', 1),
        ("[]", 1),
        (
            '\n{"seq":-1,"kind":"decision","payload":{},"prev":"'
            + "0" * 64
            + '","digest":"'
            + "0" * 64
            + '"}',
            2,
        ),
    ],
)
def test_malformed_jsonl_names_the_line(text: str, line: int) -> None:
    with pytest.raises(ChainError, match=f"^line {line}:"):
        records_from_jsonl(text)


def test_record_with_unserialisable_payload_does_not_verify() -> None:
    record = append([], "decision", {})
    bad = dataclasses.replace(record, payload={"x": {1, 2}})
    assert found([bad]) == {(ProblemKind.ALTERED, 0)}


def test_appending_after_the_last_record_is_the_same_as_appending_to_the_chain() -> None:
    from veche.domain.decisions_log import append, append_after

    chain = []
    for i in range(3):
        by_tail = append_after(chain[-1] if chain else None, "decision", {"n": i})
        assert by_tail == append(chain, "decision", {"n": i})
        chain.append(by_tail)
    assert verify(chain).ok


def test_appending_after_refuses_what_append_refuses() -> None:
    from veche.domain.decisions_log import append_after
    from veche.domain.errors import ChainError

    with pytest.raises(ChainError):
        append_after(None, "decision", {"amount": 1.5})
    with pytest.raises(ChainError):
        append_after(None, "Not A Kind", {})


def test_a_chain_verified_in_two_parts_gives_the_same_verdict_as_in_one() -> None:
    from veche.domain.decisions_log import Head, append

    chain: list = []
    for i in range(6):
        chain.append(append(chain, "decision", {"n": i}))
    checked = Head(count=3, digest=chain[2].digest)
    assert verify(chain[3:], after=checked).ok
    altered = [chain[3], dataclasses.replace(chain[4], payload={"n": 99}), chain[5]]
    report = verify(altered, after=checked)
    assert report.problems[0].kind.value == "altered"
    assert report.problems[0].seq == 4
    # A continuation that does not link to the verified part is caught at its start.
    assert not verify(chain[3:], after=Head(count=3, digest=chain[1].digest)).ok
    assert not verify(chain[4:], after=checked).ok


_LEAVES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3),
    st.integers(min_value=-(2**60), max_value=2**60), st.floats(allow_nan=False),
)  # fmt: skip
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=2), inner, max_size=3),
        st.dictionaries(st.integers(0, 3), inner, max_size=2),
    ),
    max_leaves=12,
)


@given(_VALUES)
def test_the_quick_json_check_accepts_only_what_the_full_one_accepts(value: Any) -> None:
    from veche.domain.decisions_log import ChainError, _check_json, _explain_json, _plain_json

    def refusal(check: Any) -> str | None:
        try:
            check(value, "payload")
        except ChainError as exc:
            return str(exc.message)
        return None

    full = refusal(_explain_json)
    if _plain_json(value):
        assert full is None
    # Whichever way it goes, the answer and the message are the full check's.
    assert refusal(_check_json) == full
