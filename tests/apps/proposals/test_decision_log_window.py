"""A decision log's page checks its chains from their checkpoints, within a bounded window.

Issue 8: a view of the log must not read a whole chain. Each append moves an intact
chain's checkpoint along (decision 0137), so the page checks the newest record against
what was verified, whatever the chain's length. A chain whose check lags (never checked,
as on an install from before 0137, or appended to after its end was changed) costs the
page at most its window, and the page names what it left. Tampering inside the window
or at the checkpoint is found on the page; before it, by `veche verify`.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from veche.apps.proposals import presenters, services
from veche.apps.proposals.models import ChainCheckpoint, DecisionRecord, chain_name
from veche.domain.decisions_log import compute_digest

pytestmark = pytest.mark.django_db

WINDOW = 5


@pytest.fixture
def window(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(presenters, "CHAIN_WINDOW", WINDOW)
    return WINDOW


def _append(n: int) -> None:
    for i in range(n):
        services.append_to_log(
            group_id=None, kind="note", payload={"i": i, "at": "2030-01-07T09:05:00+00:00"}
        )


def _tamper(seq: int) -> None:
    DecisionRecord.objects.filter(chain="federation", seq=seq).update(
        payload={"i": "forged", "at": "2030-01-07T09:05:00+00:00"}
    )


def _rehash(seq: int) -> None:
    """Alter a record as someone who knows the format would: its digest recomputed."""
    row = DecisionRecord.objects.get(chain="federation", seq=seq)
    payload = {"i": "forged", "at": "2030-01-07T09:05:00+00:00"}
    digest = compute_digest(row.seq, row.kind, payload, row.prev_digest)
    DecisionRecord.objects.filter(pk=row.pk).update(payload=payload, digest=digest)


def _lagging() -> None:
    """A chain appended to before checkpoints moved with appends: never checked."""
    ChainCheckpoint.objects.all().delete()


def test_appends_keep_the_checkpoint_at_the_chains_end(window: int) -> None:
    _append(3 * WINDOW)
    checkpoint = ChainCheckpoint.objects.get(chain="federation")
    assert checkpoint.seq == 3 * WINDOW - 1 and checkpoint.checked_at is None
    with CaptureQueriesContext(connection) as queries:
        status = presenters.chain_status("federation")
    assert status["ok"] and status["count"] == 3 * WINDOW and status["unchecked"] is None
    assert status["appended"] == {"first": 1, "last": 3 * WINDOW}
    assert status["checked_count"] == 0
    assert len(queries) == 3  # the checkpoint, the chain's tip, its newest record


def test_a_long_chain_whose_check_lags_costs_the_page_its_window_and_says_what_it_left(
    window: int,
) -> None:
    _append(3 * WINDOW)
    _lagging()
    with CaptureQueriesContext(connection) as queries:
        status = presenters.chain_status("federation")
    assert status["ok"] and status["count"] == 3 * WINDOW
    # Records 1..10 (1-based) wait for `veche verify`; 11..15 were checked as a
    # continuation of record 10.
    assert status["unchecked"] == {"first": 1, "last": 2 * WINDOW}
    assert len(queries) == 3  # the checkpoint, the chain's tip, the window
    assert len(queries[-1]["sql"]) < 1000


def test_a_short_chain_whose_check_lags_is_checked_whole_on_the_page(window: int) -> None:
    _append(WINDOW)
    _lagging()
    status = presenters.chain_status("federation")
    assert status["ok"] and status["count"] == WINDOW and status["unchecked"] is None


def test_tampering_inside_the_window_is_found_by_the_page(window: int) -> None:
    _append(3 * WINDOW)
    _lagging()
    _tamper(3 * WINDOW - 2)
    status = presenters.chain_status("federation")
    assert not status["ok"]
    assert {p.seq for p in status["problems"]} >= {3 * WINDOW - 2}


def test_tampering_before_the_window_is_left_to_the_full_check_which_finds_it(
    window: int,
) -> None:
    _append(3 * WINDOW)
    _lagging()
    _tamper(2)
    assert presenters.chain_status("federation")["ok"]  # the page says it did not look there
    assert not services.check_chain("federation").ok


@pytest.mark.parametrize("change", [_tamper, _rehash])
def test_the_newest_record_changed_after_it_was_checked_is_found_by_the_page(
    window: int, change: Any
) -> None:
    _append(3 * WINDOW)
    change(3 * WINDOW - 1)
    status = presenters.chain_status("federation")
    assert not status["ok"]
    assert {p.seq for p in status["problems"]} == {3 * WINDOW - 1}


def test_the_newest_record_removed_after_it_was_checked_is_found_by_the_page(
    window: int,
) -> None:
    _append(3 * WINDOW)
    DecisionRecord.objects.filter(chain="federation", seq=3 * WINDOW - 1).delete()
    status = presenters.chain_status("federation")
    assert not status["ok"] and status["count"] == 3 * WINDOW - 1


def test_a_chain_whose_end_was_changed_stops_moving_its_checkpoint(window: int) -> None:
    _append(3 * WINDOW)
    _rehash(3 * WINDOW - 1)
    _append(2)
    assert ChainCheckpoint.objects.get(chain="federation").seq == 3 * WINDOW - 1
    status = presenters.chain_status("federation")
    assert not status["ok"]  # still found on every view, however much is appended after


def test_a_checked_record_changed_before_the_newest_is_left_to_the_full_check(
    window: int,
) -> None:
    _append(3 * WINDOW)
    _rehash(3 * WINDOW - 3)  # breaks the next link, which the page checked when appended
    assert presenters.chain_status("federation")["ok"]
    assert not services.check_chain("federation").ok


def test_after_a_full_check_the_page_says_what_came_since(window: int) -> None:
    _append(3 * WINDOW)
    _lagging()
    assert services.check_chain("federation").ok
    _append(2)
    status = presenters.chain_status("federation")
    assert status["ok"] and status["unchecked"] is None
    assert status["checked_count"] == 3 * WINDOW and status["count"] == 3 * WINDOW + 2
    assert status["appended"] == {"first": 3 * WINDOW + 1, "last": 3 * WINDOW + 2}


def test_the_log_page_names_the_records_left_to_the_full_check(
    window: int, client_for: Any, member_a: Any
) -> None:
    _append(3 * WINDOW)
    _lagging()
    page = client_for(member_a).get("/decisions/").content.decode()
    assert "records 1 to 10 are left to the next full check (veche verify)" in page


def test_the_log_page_says_how_each_part_of_a_chain_was_checked(
    window: int, client_for: Any, member_a: Any
) -> None:
    _append(WINDOW)
    assert services.check_chain("federation").ok
    _append(2)
    page = client_for(member_a).get("/decisions/").content.decode()
    assert f"records 1 to {WINDOW} checked in full" in page
    assert f"records {WINDOW + 1} to {WINDOW + 2} checked as they were appended" in page
    assert ", the rest on this view" in page


def _status_from_what_the_page_read(chain: str, stop: int) -> dict[str, Any]:
    from veche.apps.proposals.selectors import NewestDecisions

    decisions = NewestDecisions([chain])
    decisions[0:stop]
    newest = decisions.newest(chain)
    assert newest is not None
    return presenters.chain_status(chain, newest)


HISTORIES = [
    "empty", "short", "long", "checked then more", "newest forged", "newest re-hashed",
    "newest removed", "lagging", "lagging, forged in the window", "lagging, forged before it",
    "lagging, a link removed in the window", "forged after a check",
]  # fmt: skip
BROKEN = {
    "newest forged", "newest re-hashed", "newest removed", "lagging, forged in the window",
    "lagging, a link removed in the window", "forged after a check",
}  # fmt: skip


@pytest.mark.parametrize("stop", [WINDOW + 1, 3 * WINDOW])
@pytest.mark.parametrize("history", HISTORIES)
def test_the_page_judges_a_chain_from_what_it_read_as_from_the_chain_itself(
    window: int, history: str, stop: int
) -> None:
    if history != "empty":
        _append(WINDOW - 1 if history == "short" else 3 * WINDOW)
    if history.startswith("lagging"):
        _lagging()
    if history in ("checked then more", "forged after a check"):
        assert services.check_chain("federation").ok
        _append(2)
    if history == "newest forged":
        _tamper(3 * WINDOW - 1)
    if history == "newest re-hashed":
        _rehash(3 * WINDOW - 1)
    if history == "newest removed":
        DecisionRecord.objects.filter(chain="federation", seq=3 * WINDOW - 1).delete()
    if history == "lagging, forged in the window":
        _tamper(3 * WINDOW - 2)
    if history == "lagging, forged before it":
        _tamper(2)
    if history == "lagging, a link removed in the window":
        DecisionRecord.objects.filter(chain="federation", seq=3 * WINDOW - 3).delete()
    if history == "forged after a check":
        _tamper(3 * WINDOW + 1)
    with CaptureQueriesContext(connection) as queries:
        read = _status_from_what_the_page_read("federation", stop)
    assert len(queries) == 2  # the page's own read of the newest records, the checkpoint
    assert read == presenters.chain_status("federation")
    assert read["ok"] is (history not in BROKEN)


def test_what_a_short_slice_did_not_read_is_read_for_the_window(window: int) -> None:
    from veche.apps.proposals.selectors import NewestDecisions

    _append(3 * WINDOW)
    _lagging()
    decisions = NewestDecisions(["federation"])
    decisions[0:2]
    assert decisions.newest("group-1") is None  # never read
    with CaptureQueriesContext(connection) as queries:
        status = presenters.chain_status("federation", decisions.newest("federation"))
    assert len(queries) == 2  # the checkpoint, the window's older records
    assert status == presenters.chain_status("federation")


def test_a_full_check_refuses_a_newest_record_rehashed_behind_the_checkpoint(
    window: int, federation: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`veche verify` holds the chain to what was verified before: a re-hashed end is
    internally consistent, but must not become the new checkpoint."""
    import argparse

    from veche.cli import cmd_verify

    _append(3 * WINDOW)
    before = ChainCheckpoint.objects.get(chain="federation").digest
    _rehash(3 * WINDOW - 1)
    assert cmd_verify(argparse.Namespace(file=None, head=None)) == 1
    assert f"federation: record {3 * WINDOW - 1}" in capsys.readouterr().err
    assert not services.check_chain("federation").ok
    assert ChainCheckpoint.objects.get(chain="federation").digest == before
    assert not presenters.chain_status("federation")["ok"]


@pytest.mark.parametrize("whole_up_to", [5, 101])
def test_any_slice_of_the_newest_decisions_is_the_orms_far_from_the_newest_too(
    monkeypatch: pytest.MonkeyPatch, group_a: Any, whole_up_to: int, client_for: Any, member_a: Any
) -> None:
    """Deep slices read ids first, then the window's records (page 100 of a long log
    read 5,000 whole records per chain): the same records, in the same order."""
    from veche.apps.proposals import selectors

    monkeypatch.setattr(selectors, "_READ_WHOLE_UP_TO", whole_up_to)
    for i in range(23):
        for j, group_id in enumerate((None, group_a.pk, None)):
            services.append_to_log(
                group_id=group_id,
                kind="note",
                payload={"i": 3 * i + j, "group": group_id, "at": "2030-01-07T09:05:00+00:00"},
            )
    chains = ["federation", f"group-{group_a.pk}"]
    everything = DecisionRecord.objects.filter(chain__in=chains).order_by("-pk")
    for start, stop in [(0, 6), (5, 11), (10, 16), (30, 36), (60, 66), (66, 72), (100, 106)]:
        got = selectors.NewestDecisions(chains)[start:stop]
        assert [r.pk for r in got] == [r.pk for r in everything[start:stop]], (start, stop)
        with CaptureQueriesContext(connection) as queries:
            [(r.title, r.record) for r in got]  # read with the records
        assert len(queries) == 0
    page = client_for(member_a).get("/decisions/?page=2")
    assert page.status_code == 200 and "TAMPERED" not in page.content.decode()


def _decided(author: Any, title: str, group_id: int | None) -> Any:
    row = services.create_proposal(
        author=author, kind_key="group-practice", title=title, body="Why.", draft=True
    )
    payload = {
        "proposal": str(row.pk),
        "outcome": "adopted",
        "reached_by": "consensus",
        "at": "2030-01-07T09:05:00+00:00",
    }
    services.append_to_log(group_id=group_id, kind="decision", payload=payload, proposal=row)
    return row


def test_log_lines_hold_what_the_records_and_their_proposals_hold(
    group_a: Any, member_a: Any
) -> None:
    """The log reads its rows as values, not models: each line must hold the stored
    record (payload, digest, chain) and the title of its proposal's current version."""
    from veche.apps.proposals import selectors
    from veche.apps.proposals.models import Proposal

    first = _decided(member_a, "Meet on <b>Tuesdays</b>", group_a.pk)
    second = _decided(member_a, "Share the van", None)
    services.append_to_log(
        group_id=None, kind="note", payload={"i": 1, "at": "2030-01-07T09:05:00+00:00"}
    )
    chains = ["federation", f"group-{group_a.pk}"]
    # Its current version unrecorded (as rows from before current_version were): the
    # newest version's title, read apart.
    Proposal.objects.filter(pk=second.pk).update(current_version=None)
    lines = selectors.NewestDecisions(chains)[0:10]
    stored = DecisionRecord.objects.filter(chain__in=chains).order_by("-pk")
    assert [line.pk for line in lines] == [r.pk for r in stored]
    for line, row in zip(lines, stored, strict=True):
        assert line.record == selectors.to_record(row)
        assert line.payload == row.payload
        assert (line.chain, line.proposal_id, line.group_id) == (
            row.chain,
            row.proposal_id,
            row.group_id,
        )
    assert [line.title for line in lines] == ["", "Share the van", "Meet on <b>Tuesdays</b>"]
    rows = presenters.decision_rows(lines)
    assert [(r.title, r.proposal, r.federation, r.intact) for r in rows] == [
        ("", None, True, True),
        ("Share the van", second.pk, True, True),
        ("Meet on <b>Tuesdays</b>", first.pk, False, True),
    ]


def test_a_log_line_whose_payload_was_replaced_reads_as_tampered(
    group_a: Any, member_a: Any, client_for: Any
) -> None:
    """A payload changed in the database (its digest left as it was) is read as stored,
    and the row says it no longer matches its digest."""
    from veche.apps.proposals import selectors

    _decided(member_a, "Share the van", None)
    forged = {"proposal": "1", "outcome": "not_adopted", "reached_by": "consensus"}
    DecisionRecord.objects.filter(chain="federation").update(
        payload={**forged, "at": "2030-01-07T09:05:00+00:00"}
    )
    [line] = selectors.NewestDecisions(["federation"])[0:5]
    assert line.payload["outcome"] == "not_adopted"
    [row] = presenters.decision_rows([line])
    assert not row.intact and str(row.outcome) == "Not adopted"
    body = client_for(member_a).get("/decisions/").content.decode()
    assert "TAMPERED" in body and "Share the van" in body


def test_a_chain_quieter_than_the_page_is_checked_from_its_own_records(
    window: int, group_a: Any, member_a: Any, client_for: Any
) -> None:
    """The page reads the newest records of all its chains at once: a chain none of whose
    records is among them (quiet while the other was busy) is read for its check apart,
    and judged as when read alone."""
    from veche.apps.proposals import selectors

    _append(3)
    for i in range(2 * WINDOW):
        services.append_to_log(
            group_id=group_a.pk,
            kind="note",
            payload={"i": i, "group": group_a.pk, "at": "2030-01-07T09:05:00+00:00"},
        )
    chains = ["federation", f"group-{group_a.pk}"]
    decisions = selectors.NewestDecisions(chains)
    got = decisions[0 : WINDOW + 1]
    assert {line.chain for line in got} == {chains[1]}
    assert decisions.newest("federation") is None
    assert [line.seq for line in decisions.newest(chains[1])] == list(range(WINDOW - 1, 2 * WINDOW))
    assert presenters.chain_status("federation", None) == presenters.chain_status("federation")
    _tamper(2)
    status = presenters.chain_status("federation", decisions.newest("federation"))
    assert not status["ok"]
    assert "TAMPERED" in client_for(member_a).get("/decisions/").content.decode()


@pytest.mark.parametrize(
    "forged",
    [
        {"proposal": "1", "outcome": "adopted", "reached_by": "consensus"},  # no date
        {"outcome": "won", "reached_by": "consensus", "at": "2030-01-07T09:05:00+00:00"},
        {"outcome": "adopted", "reached_by": 7, "at": "yesterday"},
        ["not", "an", "object"],
    ],
)
def test_a_record_changed_after_it_was_shown_is_shown_as_tampered(
    forged: Any, group_a: Any, member_a: Any, client_for: Any
) -> None:
    """What a page learnt of a record is kept by its stored columns: a record changed in
    the database is read and checked afresh, and a payload that no longer says what a row
    shows is shown as tampered, not as a server error."""
    _decided(member_a, "Share the van", None)
    client = client_for(member_a)
    before = client.get("/decisions/").content.decode()
    assert "Share the van" in before and "TAMPERED" not in before
    DecisionRecord.objects.filter(chain="federation").update(payload=forged)
    after = client.get("/decisions/")
    assert after.status_code == 200
    body = after.content.decode()
    assert "TAMPERED" in body and "Share the van" in body


def test_removal_rows_name_their_members_with_one_query_however_many(
    group_a: Any, make_member: Any
) -> None:
    from veche.apps.proposals import selectors

    people = [make_member(group_a, name) for name in ("rowan", "sorrel", "tamsin")]
    for i, person in enumerate(people):
        payload = {"member": person.pk, "at": "2030-01-07T09:05:00+00:00"}
        if i == 0:
            payload["decision"] = 7
        services.append_to_log(group_id=group_a.pk, kind="removal", payload=payload)
    lines = selectors.log_lines(chain_name(group_a.pk), after=-1)
    assert [line.kind for line in lines] == ["removal"] * 3
    with CaptureQueriesContext(connection) as one:
        rows = presenters.decision_rows(lines[:1])
    with CaptureQueriesContext(connection) as three:
        rows = presenters.decision_rows(lines)
    assert len(one.captured_queries) == len(three.captured_queries) == 1
    assert [row.title for row in rows] == [
        f"By the group's decision, {people[0].pseudonym} left the group",
        f"A coordinator removed {people[1].pseudonym} from the group",
        f"A coordinator removed {people[2].pseudonym} from the group",
    ]
    assert [row.proposal for row in rows] == [7, None, None]
