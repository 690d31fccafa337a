"""A chain's check moves with its appends, and what follows a check is verified from it.

Decision 0137: ``extends_checked`` says when an append keeps a chain checked to its end;
``verify_since`` checks a chain from the record an earlier check ended on. Tampering by
someone who can write the database is tried as they would: altering, re-hashing or
removing a record at or after the check, or cutting the chain short.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.domain.test_decisions_log import build, chains, rehash
from veche.domain.decisions_log import (
    Head,
    ProblemKind,
    Record,
    append_after,
    extends_checked,
    head,
    verify,
    verify_since,
)


def checked_at(log: list[Record], k: int) -> Head:
    """The head a check that ended on record ``k`` saw."""
    return Head(count=k + 1, digest=log[k].digest)


def test_an_empty_chain_is_checked_and_its_first_record_extends_it() -> None:
    assert extends_checked(None, None)
    assert extends_checked(Head(0, "0" * 64), None)


def test_a_chain_never_checked_is_not_extended_by_an_append() -> None:
    log = build([{"a": 1}])
    assert not extends_checked(None, log[-1])


@given(chains)
def test_appending_to_a_chain_checked_to_its_end_keeps_it_checked(log: list[Record]) -> None:
    checked = head(log)
    assert extends_checked(checked, log[-1])
    new = append_after(log[-1], "decision", {"next": True})
    # What the append's check claims is what a full check would find.
    assert verify([*log, new]).ok
    assert verify_since([log[-1], new], checked).ok


@given(chains, st.data())
def test_an_append_does_not_extend_a_check_that_lags_or_whose_end_changed(
    log: list[Record], data: Any
) -> None:
    k = data.draw(st.integers(0, len(log) - 2))
    assert not extends_checked(checked_at(log, k), log[-1])  # the check ended earlier
    forged = dataclasses.replace(log[-1], payload={"forged": True})
    assert not extends_checked(head(log), forged)  # altered, digest left as it was
    assert not extends_checked(head(log), rehash(log[-1], payload={"forged": True}))


MUTATIONS = ["none", "alter", "rehash", "remove", "cut short"]


@given(chains, st.data())
def test_a_check_from_the_checkpoint_finds_every_change_a_chain_can_show(
    log: list[Record], data: Any
) -> None:
    """Any change at or after the checked record is found, but those only a published
    head reveals (the newest record re-hashed or removed, when it is not the checked one)."""
    k = data.draw(st.integers(0, len(log) - 1))
    mutation = data.draw(st.sampled_from(MUTATIONS))
    j = data.draw(st.integers(k, len(log) - 1))
    tampered = list(log)
    if mutation == "alter":
        tampered[j] = dataclasses.replace(log[j], payload={"forged": True})
    elif mutation == "rehash":
        tampered[j] = rehash(log[j], payload={"forged": True})
    elif mutation == "remove":
        del tampered[j]
    elif mutation == "cut short":
        tampered = tampered[: data.draw(st.integers(0, k))]
    newest_only = j == len(log) - 1 and j > k and mutation in ("rehash", "remove")
    # The page reads from the checked record on (what it read of the newest records).
    since = [r for r in tampered if r.seq >= k]
    report = verify_since(since, checked_at(log, k))
    assert report.ok is (mutation == "none" or newest_only)


@given(chains, st.data())
def test_what_the_check_finds_is_named_by_seq(log: list[Record], data: Any) -> None:
    k = data.draw(st.integers(0, len(log) - 1))
    tampered = list(log)
    tampered[k] = rehash(log[k], payload={"forged": True})
    problems = verify_since(tampered[k:], checked_at(log, k)).problems
    assert (ProblemKind.ALTERED, k) in {(p.kind, p.seq) for p in problems}
    cut = verify_since(log[:k], checked_at(log, k)).problems
    assert [(p.kind, p.seq) for p in cut] == [(ProblemKind.REMOVED, k)]


def test_records_before_the_checked_one_are_skipped() -> None:
    log = build([{"i": i} for i in range(5)])
    assert verify_since(log, checked_at(log, 2)).ok
    assert verify_since(log[2:], Head(0, "0" * 64)).ok is False  # from the start: seq 2 is not 0
