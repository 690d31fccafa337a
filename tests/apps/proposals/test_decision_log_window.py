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
