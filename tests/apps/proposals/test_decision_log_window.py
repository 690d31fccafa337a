"""A decision log's page checks a bounded window beyond the last full check, and says so.

Issue 8: a chain that `veche verify` has not checked for a long while must not make every
view of the log read the whole chain; what the page leaves unchecked it names. Tampering
inside the window is still found on the page; tampering before it, by `veche verify`.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from veche.apps.proposals import presenters, services
from veche.apps.proposals.models import DecisionRecord

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


def test_a_short_chain_is_checked_whole_on_the_page(window: int) -> None:
    _append(WINDOW)
    status = presenters.chain_status("federation")
    assert status["ok"] and status["count"] == WINDOW and status["unchecked"] is None


def test_a_long_unchecked_chain_costs_the_page_its_window_and_says_what_it_left(
    window: int,
) -> None:
    _append(3 * WINDOW)
    with CaptureQueriesContext(connection) as queries:
        status = presenters.chain_status("federation")
    assert status["ok"] and status["count"] == 3 * WINDOW
    # Records 1..10 (1-based) wait for `veche verify`; 11..15 were checked as a
    # continuation of record 10.
    assert status["unchecked"] == {"first": 1, "last": 2 * WINDOW}
    assert len(queries) == 3  # the checkpoint, the chain's tip, the window
    assert len(queries[-1]["sql"]) < 1000


def test_tampering_inside_the_window_is_found_by_the_page(window: int) -> None:
    _append(3 * WINDOW)
    _tamper(3 * WINDOW - 2)
    status = presenters.chain_status("federation")
    assert not status["ok"]
    assert {p.seq for p in status["problems"]} >= {3 * WINDOW - 2}


def test_tampering_before_the_window_is_left_to_the_full_check_which_finds_it(
    window: int,
) -> None:
    _append(3 * WINDOW)
    _tamper(2)
    assert presenters.chain_status("federation")["ok"]  # the page says it did not look there
    assert not services.check_chain("federation").ok


def test_after_a_full_check_the_page_checks_only_what_came_since(window: int) -> None:
    _append(3 * WINDOW)
    assert services.check_chain("federation").ok
    _append(2)
    status = presenters.chain_status("federation")
    assert status["ok"] and status["unchecked"] is None
    assert status["checked_count"] == 3 * WINDOW and status["count"] == 3 * WINDOW + 2


def test_the_log_page_names_the_records_left_to_the_full_check(
    window: int, client_for: Any, member_a: Any
) -> None:
    _append(3 * WINDOW)
    page = client_for(member_a).get("/decisions/").content.decode()
    assert "records 1 to 10 are left to the next full check (veche verify)" in page


def _status_from_what_the_page_read(chain: str, stop: int) -> dict[str, Any]:
    from veche.apps.proposals.selectors import NewestDecisions

    decisions = NewestDecisions([chain])
    decisions[0:stop]
    newest = decisions.newest(chain, WINDOW + 1)
    assert newest is not None
    return presenters.chain_status(chain, newest)


@pytest.mark.parametrize("stop", [WINDOW + 1, 3 * WINDOW])
@pytest.mark.parametrize(
    "history",
    ["empty", "short", "long", "checked then more", "forged in the window",
     "forged before it", "a link removed in the window", "forged after a check"],
)  # fmt: skip
def test_the_page_judges_a_chain_from_what_it_read_as_from_the_chain_itself(
    window: int, history: str, stop: int
) -> None:
    if history != "empty":
        _append(WINDOW - 1 if history == "short" else 3 * WINDOW)
    if history in ("checked then more", "forged after a check"):
        assert services.check_chain("federation").ok
        _append(2)
    if history == "forged in the window":
        _tamper(3 * WINDOW - 2)
    if history == "forged before it":
        _tamper(2)
    if history == "a link removed in the window":
        DecisionRecord.objects.filter(chain="federation", seq=3 * WINDOW - 3).delete()
    if history == "forged after a check":
        _tamper(3 * WINDOW + 1)
    with CaptureQueriesContext(connection) as queries:
        read = _status_from_what_the_page_read("federation", stop)
    assert len(queries) == 2  # the page's own read of the newest records, the checkpoint
    assert read == presenters.chain_status("federation")
    assert read["ok"] is (history not in ("forged in the window", "a link removed in the window",
                                          "forged after a check"))  # fmt: skip


def test_records_read_for_a_shorter_slice_are_not_taken_for_the_window(window: int) -> None:
    from veche.apps.proposals.selectors import NewestDecisions

    _append(3 * WINDOW)
    decisions = NewestDecisions(["federation"])
    decisions[0:WINDOW]
    assert decisions.newest("federation", WINDOW + 1) is None
    assert decisions.newest("group-1", 1) is None  # never read
