"""Under the charter's small amount, a request goes to the smaller body's decision kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from veche.apps.federation.selectors import get_charter
from veche.apps.federation.services import put_charter
from veche.apps.fund import services
from veche.domain.charter import (
    ConsensusRule,
    DecisionKind,
    Mode,
    Power,
    Scope,
    with_kind,
)

pytestmark = pytest.mark.django_db


def _charter_with_small_amounts(amounts: dict[str, int]) -> None:
    small = DecisionKind(
        key="disbursement-small",
        name="A small disbursement",
        scope=Scope.FEDERATION,
        mode=Mode.SPOKES,
        consensus=ConsensusRule(period=timedelta(days=2)),
        power=Power.DISBURSE_SMALL,
    )
    charter = with_kind(get_charter(), small)
    put_charter(charter=replace(charter, fund_small_amounts=amounts), at=timezone.now())


def _ask(coordinator, amount: int, currency: str) -> str:
    request = services.request_money(
        actor=coordinator, amount=amount, currency=currency, purpose="Leaflets",
        idempotency_key=services.new_token(),
    )  # fmt: skip
    return request.proposal.kind_key


def test_small_requests_go_to_the_smaller_body_and_others_to_the_federation(group_a, make_member):
    coordinator = make_member(group_a, "coral", coordinator=True)
    assert _ask(coordinator, 10_000, "EUR") == "disbursement"  # no small amounts yet
    _charter_with_small_amounts({"EUR": 50_000})
    assert _ask(coordinator, 49_999, "EUR") == "disbursement-small"
    assert _ask(coordinator, 50_000, "EUR") == "disbursement"
    assert _ask(coordinator, 100, "USD") == "disbursement"  # no limit in that currency
