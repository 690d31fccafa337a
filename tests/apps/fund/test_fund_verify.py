"""`veche verify` checks the fund's chain and the ledger's invariants."""

from __future__ import annotations

import argparse

import pytest
from fund_steps import contribute

from veche.apps.fund.models import Account, FundTransaction
from veche.apps.fund.selectors import verify_fund
from veche.cli import cmd_verify

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
    # The forger writes balances that look right on the forged entries, but leaves the
    # stored running totals alone.
    forged.entries.create(account=fund, amount=-99_999, currency="EUR", balance_after=0)
    forged.entries.create(account=paid, amount=99_999, currency="EUR", balance_after=99_999)
    ok, messages = verify_fund()
    assert not ok
    text = "\n".join(messages)
    assert "digest" in text
    assert "entries differ from the chained record" in text
    assert "would go negative" in text or "may not" in text
    assert "balance after is 0, the entries add up to -98499" in text
    assert "the stored balance is 0, the ledger gives 99999" in text
    assert cmd_verify(argparse.Namespace(file=None, head=None)) == 1


def test_verify_finds_a_running_total_changed_behind_the_ledgers_back(
    federation, group_a, make_member, client_for
):
    from veche.apps.fund.models import Balance

    client = client_for(make_member(group_a, "coral", coordinator=True))
    contribute(client, "10")
    assert verify_fund()[0]
    Balance.objects.filter(account__key="fund").update(amount=1_000_000)
    ok, messages = verify_fund()
    assert not ok
    assert any("the stored balance is 1000000, the ledger gives 1000" in m for m in messages)


@pytest.fixture
def two_posted(federation, group_a, make_member, client_for):
    """Two contributions made through the pages, the fund intact: (first, last)."""
    client = client_for(make_member(group_a, "coral", coordinator=True))
    contribute(client, "10")
    contribute(client, "5")
    assert verify_fund()[0]
    first, last = FundTransaction.objects.order_by("seq")
    return first, last


def test_verify_finds_an_entry_numbered_out_of_posting_order(two_posted):
    from veche.apps.fund.models import Entry

    # Someone with database access renumbers the last transaction's entries below the
    # first one's: a statement, which lists entries by their number, would misplace them.
    first, last = two_posted
    low = min(Entry.objects.filter(transaction=first).values_list("pk", flat=True))
    for i, entry in enumerate(Entry.objects.filter(transaction=last).order_by("pk")):
        Entry.objects.create(
            pk=low - 10 - i, transaction=last, account=entry.account, amount=entry.amount,
            currency=entry.currency, balance_after=entry.balance_after,
        )  # fmt: skip
    ok, messages = verify_fund()
    assert not ok
    assert any("numbered before an entry of an earlier transaction" in m for m in messages)


def test_verify_finds_transactions_numbered_out_of_posting_order(two_posted):
    # Someone with database access appends a copy of the last transaction, numbered
    # before the first: a balance at a date, which finds an account's first posting by
    # its transaction's number, would read the wrong one.
    first, last = two_posted
    FundTransaction.objects.create(
        pk=first.pk - 10, uid="tx-early", seq=last.seq + 1, kind=last.kind, at=last.at,
        recorded_by=last.recorded_by, payload={**last.payload, "id": "tx-early"},
        prev_digest=last.digest, digest="e" * 64,
    )  # fmt: skip
    ok, messages = verify_fund()
    assert not ok
    assert "fund: transactions are not numbered in posting order" in messages
