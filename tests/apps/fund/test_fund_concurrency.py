"""Fifty simultaneous attempts to pay one adopted decision create exactly one payment.

Each thread has its own database connection (Django's are per thread) and closes it.
Runs on SQLite (IMMEDIATE transactions) and, with DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import secrets
import threading

import pytest

from veche.apps.fund import services
from veche.apps.fund.models import Entry, FundTransaction
from veche.apps.fund.selectors import load_ledger, verify_fund
from veche.apps.proposals.services import carry_group_position
from veche.domain.consensus import Position
from veche.domain.errors import DomainError

ATTEMPTS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_disbursements_of_one_decision_pay_once(
    federation, group_a, group_b, make_member
):
    ca = make_member(group_a, "coral", coordinator=True)
    cb = make_member(group_b, "bianca", coordinator=True)
    services.contribute(actor=ca, amount=100_000, currency="EUR", idempotency_key="seed-token-1")
    request = services.request_money(
        actor=cb, amount=2_500, currency="EUR", purpose="Rent", idempotency_key="seed-token-2"
    )
    for coordinator in (ca, cb):
        carry_group_position(row=request.proposal, coordinator=coordinator, position=Position.AGREE)

    from django.db import connection

    barrier = threading.Barrier(ATTEMPTS)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        actor = ca if index % 2 else cb
        try:
            barrier.wait()
            services.disburse(
                actor=actor,
                proposal_id=request.proposal_id,
                idempotency_key=secrets.token_urlsafe(16),
            )
            outcome = "paid"
        except DomainError as error:
            outcome = f"refused: {error.message}"
        except Exception as error:  # report it; the asserts below fail
            outcome = f"error: {type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == ATTEMPTS
    assert results.count("paid") == 1, results
    assert all(r == "paid" or r.startswith("refused") for r in results), results
    assert FundTransaction.objects.filter(kind="disbursement").count() == 1
    assert Entry.objects.count() == 4
    assert load_ledger().balance("fund", "EUR") == 97_500
    assert verify_fund()[0]
