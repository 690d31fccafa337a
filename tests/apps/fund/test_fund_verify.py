"""`veche verify` checks the fund's chain and the ledger's invariants."""

from __future__ import annotations

import argparse

import pytest
from fund_steps import contribute

from veche.apps.fund.models import Account, FundTransaction
from veche.apps.fund.selectors import verify_fund
from veche.apps.proposals.commands import cmd_verify

pytestmark = pytest.mark.django_db


def test_verify_reports_an_intact_fund_then_a_forged_record(
    federation, group_a, make_member, client_for, capsys
):
    client = client_for(make_member(group_a, "coral", coordinator=True))
    contribute(client, "10")
    contribute(client, "5")
    assert cmd_verify(argparse.Namespace(file=None, head=None)) == 0
    assert "fund: 2 transactions, intact and balanced" in capsys.readouterr().out

    # Someone with database access appends a payment out of nowhere.
    good = FundTransaction.objects.order_by("-seq").first()
    fund = Account.objects.get(key="fund")
    paid = Account.objects.create(key="paid", kind="disbursements_paid", may_go_negative=True)
    payload = {**good.payload, "id": "tx-forged", "kind": "contribution"}
    forged = FundTransaction.objects.create(
        uid="tx-forged", seq=good.seq + 1, kind="contribution", at=good.at,
        recorded_by=good.recorded_by, payload=payload, prev_digest=good.digest, digest="f" * 64,
    )  # fmt: skip
    forged.entries.create(account=fund, amount=-99_999, currency="EUR")
    forged.entries.create(account=paid, amount=99_999, currency="EUR")
    ok, messages = verify_fund()
    assert not ok
    text = "\n".join(messages)
    assert "digest" in text
    assert "entries differ from the chained record" in text
    assert "would go negative" in text or "may not" in text
    assert cmd_verify(argparse.Namespace(file=None, head=None)) == 1
