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


def test_a_balance_before_an_instant_is_planned_for_its_instant(coordinator_a: Any) -> None:
    """Whether any entry precedes the instant decides the plan (a generic plan walked the
    whole account): that statement carries its values in its text (prepared, it is planned
    for them alone), and reads right either way."""
    import datetime as dt

    from django.utils import timezone

    from veche.apps.fund import selectors
    from veche.apps.fund import services as fund
    from veche.apps.fund.models import Account

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    base = timezone.now() - dt.timedelta(days=10)
    for i in (1, 2, 3):
        at = base + dt.timedelta(days=i)
        fund.contribute(
            actor=coordinator_a,
            amount=100 * i,
            currency="EUR",
            idempotency_key=f"plan-token-{i}",
            now=at,
        )
    account = Account.objects.get(key="fund")
    for _ in range(4):
        assert selectors.balance_before(account, base) == {"EUR": 0}
        assert selectors.balance_before(account, base + dt.timedelta(days=2.5)) == {"EUR": 300}
        assert selectors.balance_before(account, base + dt.timedelta(days=5)) == {"EUR": 600}
    prepared = _prepared()
    assert any('"fund_balance"' in statement for statement in prepared)  # its neighbour is
    reads = [s for s in prepared if s.startswith("SELECT") and '"balance_after"' in s]
    assert not any("$1" in statement for statement in reads)
