"""On PostgreSQL, the statements every page runs are prepared once per connection
(decision 0140): the server plans them no more, and pages read the same as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from veche.apps.proposals import services

pytestmark = pytest.mark.django_db


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_a_pages_statements_are_prepared_and_it_reads_the_same(
    member_a: Any, coordinator_a: Any, client_for: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    row = services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Paint the stairwell", body="Now."
    )
    services.post_comment(author=member_a, body="Green, please.", row=row)
    client = client_for(member_a)
    pages = [client.get(f"/proposals/{row.pk}/").content for _ in range(7)]
    # The same page before and after its statements were prepared.
    assert all(b"Green, please." in page and b"Paint the stairwell" in page for page in pages)
    assert len({page.count(b"<tr") for page in pages}) == 1
    prepared = _prepared()
    for table in ("proposals_proposalevent", "proposals_comment", "django_session"):
        assert any(f'"{table}"' in statement for statement in prepared), table
    # A statement with its values bound by the server reads what the values say.
    other = services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Fix the roof", body="Soon."
    )
    page = client.get(f"/proposals/{other.pk}/").content
    assert b"Fix the roof" in page and b"Green, please." not in page


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _nodes(child))]


def test_a_balance_before_an_instant_has_one_plan_that_reads_no_entry_before_the_first(
    coordinator_a: Any,
) -> None:
    """A statement's opening balance asks for the balance before its first day. A generic
    plan walked the account's every entry back from the newest to find none; now one plan
    serves every instant, prepared, and before the first entry it reads that one alone."""
    import datetime as dt

    from django.utils import timezone

    from veche.apps.fund import selectors
    from veche.apps.fund import services as fund
    from veche.apps.fund.models import Account

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    base = timezone.now() - dt.timedelta(days=10)
    for i in range(1, 31):
        fund.contribute(
            actor=coordinator_a,
            amount=100,
            currency="EUR",
            idempotency_key=f"plan-token-{i}",
            now=base + dt.timedelta(hours=i),
        )
    account = Account.objects.get(key="fund")
    for _ in range(6):
        assert selectors.balance_before(account, base) == {"EUR": 0}
        assert selectors.balance_before(account, base + dt.timedelta(hours=2.5)) == {"EUR": 200}
        assert selectors.balance_before(account, base + dt.timedelta(days=5)) == {"EUR": 3000}
    reads = [s for s in _prepared() if s.startswith("SELECT") and '"balance_after"' in s]
    assert any("$1" in statement for statement in reads)
    # The plan any instant gets, asked for an instant before the account's first entry.
    statement = selectors._balance_after_last_before()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement.sql,
            [account.pk, "EUR", account.pk, "EUR", base, base],
        )
        plan = cursor.fetchone()[0][0]["Plan"]
    walked = [
        node for node in _nodes(plan)
        if node.get("Relation Name") == "fund_entry" and node.get("Alias") == "fund_entry"
    ]  # fmt: skip
    assert walked, plan
    assert all(node["Actual Loops"] == 0 for node in walked), plan
