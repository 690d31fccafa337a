"""Reads of the fund: stored running totals, statements, and the full check.

Pages read the running totals written with every posting (``Balance``,
``Entry.balance_after``): their cost does not grow with the fund's history. ``veche
verify`` replays the whole ledger with ``veche.domain.ledger`` and checks the totals
against it (:func:`verify_fund`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from veche.apps.fund.models import (
    FUND_CHAIN,
    Account,
    Balance,
    Entry,
    FundTransaction,
    SupportRequest,
)
from veche.domain import ledger
from veche.domain.decisions_log import Record, verify
from veche.domain.errors import DomainError, LedgerError, _

FUND_KEY = "fund"


def account_key(kind: Account.Kind, group_id: int | None) -> str:
    """Return the stable key of an account (the id the ledger and the chain know it by)."""
    if kind == Account.Kind.FEDERATION_FUND:
        return FUND_KEY
    prefix = {
        Account.Kind.GROUP: "group",
        Account.Kind.CONTRIBUTIONS_RECEIVED: "contributions",
        Account.Kind.DISBURSEMENTS_PAID: "paid",
    }[Account.Kind(kind)]
    return f"{prefix}-{group_id}" if group_id is not None else prefix


def to_domain_account(row: Account) -> ledger.Account:
    """Return the ledger's view of an account row."""
    return ledger.Account(
        row.key,
        ledger.AccountKind(row.kind),
        str(row.group_id) if row.group_id is not None else None,
        row.may_go_negative,
    )


def to_domain_transaction(row: FundTransaction) -> ledger.Transaction:
    """Return the ledger transaction a row stores (from its entries, not its payload)."""
    entries = tuple(
        ledger.Entry(e.account.key, ledger.Money(e.amount, e.currency)) for e in row.entries.all()
    )
    return ledger.Transaction(
        id=row.uid,
        kind=ledger.TransactionKind(row.kind),
        entries=entries,
        at=row.at,
        decision_ref=row.payload.get("decision_ref"),
        reverses=row.reverses.uid if row.reverses_id else None,
        memo_ref=row.payload.get("memo_ref"),
    )


def transaction_rows() -> QuerySet[FundTransaction]:
    """Return every transaction in chain order, entries and accounts fetched alongside."""
    return (
        FundTransaction.objects.order_by("seq")
        .prefetch_related("entries__account")
        .select_related("reverses", "group", "decision")
    )


def domain_accounts() -> list[ledger.Account]:
    return [to_domain_account(a) for a in Account.objects.order_by("pk")]


def domain_transactions(rows: Sequence[FundTransaction] | None = None) -> list[ledger.Transaction]:
    rows = list(transaction_rows()) if rows is None else rows
    return [to_domain_transaction(r) for r in rows]


def load_ledger() -> ledger.Ledger:
    """Return the ledger replayed from its whole history (``veche verify``; raises LedgerError)."""
    return ledger.Ledger.replay(domain_accounts(), domain_transactions())


def resume_ledger(candidate: ledger.Transaction) -> ledger.Ledger:
    """Return the ledger as stored, enough to judge ``candidate`` (no history replayed)."""
    totals = {
        (key, currency): amount
        for key, currency, amount in Balance.objects.values_list(
            "account__key", "currency", "amount"
        )
    }
    last_row = transaction_rows().order_by("-seq").first()
    related: list[ledger.Transaction] = []
    reversed_ids: list[str] = []
    if candidate.reverses is not None:
        original = transaction_rows().filter(uid=candidate.reverses).first()
        if original is not None:
            related.append(to_domain_transaction(original))
            if FundTransaction.objects.filter(reverses=original).exists():
                reversed_ids.append(original.uid)
    return ledger.Ledger.resume(
        domain_accounts(),
        totals,
        last=to_domain_transaction(last_row) if last_row is not None else None,
        related=related,
        reversed_ids=reversed_ids,
    )


def stored_balances() -> dict[str, dict[str, int]]:
    """Return every account's running total per currency, as stored."""
    found: dict[str, dict[str, int]] = {}
    for key, currency, amount in Balance.objects.values_list("account__key", "currency", "amount"):
        found.setdefault(key, {})[currency] = amount
    return found


# --- showing money ---------------------------------------------------------------------------


AMOUNT_SHAPE = re.compile(r"[-+]?[0-9]+(?:\.(?P<fraction>[0-9]+))?")


def parse_amount(text: str, currency: str) -> int:
    """Return ``text`` (like "12.50") as minor units of ``currency``; raise LedgerError."""
    exponent = ledger.minor_unit_exponent(currency)
    raw = (text or "").strip().replace(",", ".").replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise LedgerError(_("say how much"), field="amount")
    if len(raw) > 30:
        raise LedgerError(_("absurd amount"), field="amount")
    # Plain ASCII digits with at most one decimal mark: no exponents, no other scripts'
    # digits, and no thousands separators, which a decimal comma would make ambiguous.
    shape = AMOUNT_SHAPE.fullmatch(raw)
    if shape is None:
        raise LedgerError(_("write the amount as a number, like 12.50"), field="amount")
    value = Decimal(raw)
    if value <= 0:
        raise LedgerError(_("the amount must be more than zero"), field="amount")
    minor = value.scaleb(exponent)
    # "1,000" is a thousand to some and one to others: more decimals than the currency
    # has is refused, even when they are zeros.
    if len(shape.group("fraction") or "") > exponent or minor != minor.to_integral_value():
        raise LedgerError(
            _("%(currency)s has %(exponent)d decimal places at most"),
            field="amount",
            params={"currency": currency, "exponent": exponent},
        )
    amount = int(minor)
    if amount > ledger.MAX_AMOUNT:
        raise LedgerError(_("absurd amount"), field="amount")
    return amount


def format_money(amount: int, currency: str) -> str:
    """Return minor units as a decimal string with the code: 1050, "USD" -> "10.50 USD"."""
    exponent = ledger.CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**exponent)
    digits = f"{whole:,}".replace(",", "\u202f")
    return (
        f"{sign}{digits}.{part:0{exponent}d} {currency}"
        if exponent
        else f"{sign}{digits} {currency}"
    )


def plain_amount(amount: int, currency: str) -> str:
    """Return minor units as a plain decimal ("-10.50"), for CSV."""
    exponent = ledger.CURRENCY_EXPONENTS.get(currency, 2)
    return str(Decimal(amount).scaleb(-exponent)) if exponent else str(amount)


def account_label(row: Account) -> str:
    """Return what members call an account (groups by name, never members)."""
    names = {
        Account.Kind.FEDERATION_FUND: "Common fund",
        Account.Kind.GROUP: "Held for {group}",
        Account.Kind.CONTRIBUTIONS_RECEIVED: "Contributed by {group}",
        Account.Kind.DISBURSEMENTS_PAID: "Paid out to {group}",
    }
    return names[Account.Kind(row.kind)].format(group=row.group.name if row.group_id else "")


def balances_table(totals: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Return one row per account with its balance in each currency it ever held."""
    rows = []
    for account in Account.objects.select_related("group").order_by("pk"):
        per = [
            {"currency": c, "amount": a, "text": format_money(a, c)}
            for c, a in sorted(totals.get(account.key, {}).items())
        ]
        rows.append({"account": account, "label": account_label(account), "balances": per})
    return rows


def currencies() -> list[str]:
    """Return every currency that ever moved, sorted."""
    return sorted(set(Balance.objects.values_list("currency", flat=True)))


def get_account(key: str) -> Account | None:
    return Account.objects.select_related("group").filter(key=key).first()


def requests() -> QuerySet[SupportRequest]:
    return SupportRequest.objects.select_related("group", "proposal")


def statement_lines(account: Account, start: dt.datetime, end: dt.datetime) -> QuerySet[Entry]:
    """Return the account's entries in [start, end), in posting order, each with its balance."""
    return (
        Entry.objects.filter(account=account, transaction__at__gte=start, transaction__at__lt=end)
        .select_related("transaction")
        .order_by("transaction__seq", "pk")
    )


def balance_before(account: Account, at: dt.datetime) -> dict[str, int]:
    """Return the account's balance per currency just before ``at`` (from stored totals)."""
    found: dict[str, int] = {}
    for currency in Balance.objects.filter(account=account).values_list("currency", flat=True):
        last = (
            Entry.objects.filter(account=account, currency=currency, transaction__at__lt=at)
            .order_by("-transaction__seq", "-pk")
            .values_list("balance_after", flat=True)
            .first()
        )
        found[currency] = last or 0
    return found


# --- verify ----------------------------------------------------------------------------------


def chain_records(rows: Sequence[FundTransaction] | None = None) -> list[Record]:
    """Return the fund chain as decision-log records (verifiable offline like the others)."""
    rows = list(transaction_rows()) if rows is None else rows
    return [
        Record(
            seq=r.seq,
            kind="transaction",
            payload=r.payload,
            prev_digest=r.prev_digest,
            digest=r.digest,
        )
        for r in rows
    ]


def verify_fund() -> tuple[bool, list[str]]:
    """Return (ok, messages): the fund chain is intact, matches the entries, and balances.

    Three checks: the hash chain (``decisions_log.verify``); each row's entries agree
    with the payload its digest covers; the ledger's invariants over the whole history.
    """
    rows = list(transaction_rows())
    messages: list[str] = []
    report = verify(chain_records(rows))
    for problem in report.problems:
        messages.append(
            f"{FUND_CHAIN}: record {problem.seq} (position {problem.position}) "
            f"{problem.kind.value}: {problem.detail}"
        )
    transactions = []
    for row in rows:
        try:
            stored = to_domain_transaction(row)
        except DomainError as exc:
            messages.append(f"{FUND_CHAIN}: transaction {row.uid}: {exc.message}")
            continue
        if ledger.to_payload(stored) != row.payload:
            messages.append(
                f"{FUND_CHAIN}: transaction {row.uid}: entries differ from the chained record"
            )
        transactions.append(stored)
    messages.extend(
        f"{FUND_CHAIN}: {p}" for p in ledger.check_invariants(domain_accounts(), transactions)
    )
    messages.extend(_check_running_totals(rows))
    ok = not messages
    if ok:
        last = rows[-1].digest if rows else "(empty)"
        messages.append(
            f"{FUND_CHAIN}: {len(rows)} transactions, intact and balanced; head {len(rows)}:{last}"
        )
    return ok, messages


def _check_running_totals(rows: Sequence[FundTransaction]) -> list[str]:
    """Return where the stored running totals differ from adding up the entries."""
    problems: list[str] = []
    running: dict[tuple[str, str], int] = {}
    for row in rows:
        for entry in row.entries.all():
            key = (entry.account.key, entry.currency)
            running[key] = running.get(key, 0) + entry.amount
            if entry.balance_after != running[key]:
                problems.append(
                    f"{FUND_CHAIN}: transaction {row.uid}: {entry.account.key} {entry.currency} "
                    f"balance after is {entry.balance_after}, the entries add up to {running[key]}"
                )
    stored = {
        (key, currency): amount
        for key, per in stored_balances().items()
        for currency, amount in per.items()
    }
    for key in sorted(set(stored) | set(running)):
        if stored.get(key, 0) != running.get(key, 0):
            problems.append(
                f"{FUND_CHAIN}: {key[0]} {key[1]}: the stored balance is {stored.get(key, 0)}, "
                f"the ledger gives {running.get(key, 0)}"
            )
    return problems
