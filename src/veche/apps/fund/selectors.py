"""Reads of the fund: stored running totals, statements, and the full check.

Pages read the running totals written with every posting (``Balance``,
``Entry.balance_after``): their cost does not grow with the fund's history. ``veche
verify`` replays the whole ledger with ``veche.domain.ledger`` and checks the totals
against it (:func:`verify_fund`).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from babel import Locale
from babel.numbers import NumberFormatError, get_decimal_symbol, get_group_symbol, parse_decimal
from django.db.models import Max, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils.translation import gettext_lazy

from veche.apps.core import keyring
from veche.apps.core.l10n import babel_locale
from veche.apps.core.statements import ModelStatement, Pages, Statement, adapted
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


@functools.cache
def _balances() -> Statement:
    return Statement(Balance.objects.values_list("account__key", "currency", "amount"), ())


def stored_balances() -> dict[str, dict[str, int]]:
    """Return every account's running total per currency, as stored (compiled once: the
    fund's page reads them all)."""
    found: dict[str, dict[str, int]] = {}
    for key, currency, amount in _balances().rows():
        found.setdefault(key, {})[currency] = amount
    return found


# --- showing money ---------------------------------------------------------------------------


# Digits with separators between them, nothing else: no exponent, no other script's
# digits, no "NaN" or "Infinity" (Babel alone would read "1e3").
AMOUNT_SHAPE = re.compile(r"[-+]?[0-9](?:[0-9 \u00a0\u202f\u2009.,]*[0-9])?")
# One "," or "." with three digits after it, one to three before: "1,000" is a thousand
# to some and one to others, whatever the page's language.
AMBIGUOUS = re.compile(r"[-+]?(?P<whole>[0-9]{1,3})[.,](?P<fraction>[0-9]{3})")
ONE_MARK = re.compile(r"[-+]?[0-9]+[.,][0-9]+")
SPACE_GROUPS = re.compile(r"[0-9]+|[0-9]{1,3}(?:[ \u00a0\u202f\u2009][0-9]{3})+")
SPACES = " \u00a0\u202f\u2009"
EXAMPLE = Decimal("1234.50")


@functools.lru_cache(maxsize=32)
def _symbols(locale: Locale) -> tuple[str, str]:
    """Return the decimal mark and group separator of ``locale`` (looked up once: a
    statement prints a hundred amounts)."""
    return get_decimal_symbol(locale), get_group_symbol(locale)


def _plain(value: Decimal, currency: str, locale: Locale) -> str:
    """Return ``value`` as typed in ``locale``, without grouping ("1.234 EUR", "1,234 EUR")."""
    return f"{format(value, 'f').replace('.', _symbols(locale)[0])} {currency}"


def _example(exponent: int, locale: Locale) -> str:
    """Return how ``locale`` writes an amount, for messages ("1 234.50", "1 234,50")."""
    return _number(int(EXAMPLE.scaleb(exponent).to_integral_value()), exponent, locale)


def _read(raw: str, exponent: int, currency: str, locale: Locale) -> Decimal:
    """Return the number ``raw`` says in ``locale``; raise LedgerError if it is unclear."""
    ambiguous = AMBIGUOUS.fullmatch(raw)
    if ambiguous is not None:
        whole = Decimal(ambiguous.group("whole") + ambiguous.group("fraction"))
        decimal = Decimal(f"{ambiguous.group('whole')}.{ambiguous.group('fraction')}")
        first = format_money(int(whole.scaleb(exponent)), currency, locale=locale)
        shown = decimal.scaleb(exponent)
        if shown == shown.to_integral_value():
            raise LedgerError(
                _("“%(text)s” can be read as %(first)s or as %(second)s: write %(plain)s or "
                  "%(decimal)s to say which"),
                field="amount",
                params={
                    "text": raw, "first": first,
                    "second": format_money(int(shown), currency, locale=locale),
                    "plain": str(whole),
                    "decimal": _number(int(shown), exponent, locale),
                },
            )  # fmt: skip
        raise LedgerError(
            _("“%(text)s” can be read as %(first)s or as %(second)s, but %(currency)s has "
              "%(exponent)d decimal places at most: write %(plain)s if you mean the first"),
            field="amount",
            params={"text": raw, "first": first, "second": _plain(decimal, currency, locale),
                    "currency": currency, "exponent": exponent, "plain": str(whole)},
        )  # fmt: skip
    group = _symbols(locale)[1]
    # A space of any width only ever groups digits: read it as the language's separator.
    spaced = "".join(group if c in SPACES else c for c in raw)
    try:
        return Decimal(parse_decimal(spaced, locale=locale, strict=True))
    except (NumberFormatError, InvalidOperation, ValueError):
        pass
    compact = "".join(c for c in raw if c not in SPACES)
    whole = re.split(r"[.,]", raw)[0].lstrip("+-")
    if ONE_MARK.fullmatch(compact) and SPACE_GROUPS.fullmatch(whole):
        # One mark that is not "1,000" (refused above) can only be a decimal mark, and
        # spaces only ever group thousands: "12,50" in English, "1 000.5" in Russian.
        return Decimal(compact.replace(",", "."))
    raise LedgerError(
        _("write the amount as a number, like %(example)s"),
        field="amount",
        params={"example": _example(exponent, locale)},
    )


def parse_amount(text: str, currency: str, *, locale: Locale | None = None) -> int:
    """Return ``text`` as minor units of ``currency``, read as the member's language
    writes numbers ("1 000,50" in Russian, "1,000.50" in English); raise LedgerError.

    Refused: anything but digits and separators (no exponent, no other script's
    digits), an amount that reads two ways ("1,000": both readings are shown), more
    decimal places than the currency has (even zeros), zero or less, and absurd sums.
    """
    exponent = ledger.minor_unit_exponent(currency)
    locale = locale or babel_locale()
    raw = (text or "").strip()
    if not raw:
        raise LedgerError(_("say how much"), field="amount")
    if len(raw) > 30:
        raise LedgerError(_("absurd amount"), field="amount")
    if AMOUNT_SHAPE.fullmatch(raw) is None:
        raise LedgerError(
            _("write the amount as a number, like %(example)s"),
            field="amount",
            params={"example": _example(exponent, locale)},
        )
    value = _read(raw, exponent, currency, locale)
    if not value.is_finite() or value <= 0:
        raise LedgerError(_("the amount must be more than zero"), field="amount")
    minor = value.scaleb(exponent)
    places = -value.as_tuple().exponent if isinstance(value.as_tuple().exponent, int) else 0
    # More decimals than the currency has is refused, even when they are zeros.
    if places > exponent or minor != minor.to_integral_value():
        raise LedgerError(
            _("%(currency)s has %(exponent)d decimal places at most"),
            field="amount",
            params={"currency": currency, "exponent": exponent},
        )
    amount = int(minor)
    if amount > ledger.MAX_AMOUNT:
        raise LedgerError(_("absurd amount"), field="amount")
    return amount


def _number(amount: int, exponent: int, locale: Locale) -> str:
    """Return minor units as a number: thousands grouped by a narrow space (it reads one
    way in every language), the language's decimal mark."""
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**exponent)
    digits = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{digits}{_symbols(locale)[0]}{part:0{exponent}d}" if exponent else sign + digits


def typed_example(locale: Locale | None = None) -> str:
    """Return how the member's language types an amount, for a placeholder ("12.50")."""
    return _number(1250, 2, locale or babel_locale())


def format_money(amount: int, currency: str, *, locale: Locale | None = None) -> str:
    """Return minor units as the member's language writes money: 105000, "EUR" ->
    "1 050.00 EUR" (English), "1 050,00 EUR" (Russian)."""
    exponent = ledger.CURRENCY_EXPONENTS.get(currency, 2)
    return f"{_number(amount, exponent, locale or babel_locale())} {currency}"


def plain_amount(amount: int, currency: str) -> str:
    """Return minor units as a plain decimal ("-10.50"), for CSV."""
    exponent = ledger.CURRENCY_EXPONENTS.get(currency, 2)
    return str(Decimal(amount).scaleb(-exponent)) if exponent else str(amount)


ACCOUNT_LABELS = {
    Account.Kind.FEDERATION_FUND: gettext_lazy("Common fund"),
    Account.Kind.GROUP: gettext_lazy("Held for %(group)s"),
    Account.Kind.CONTRIBUTIONS_RECEIVED: gettext_lazy("Contributed by %(group)s"),
    Account.Kind.DISBURSEMENTS_PAID: gettext_lazy("Paid out to %(group)s"),
}


def account_label(row: Account) -> str:
    """Return what members call an account (groups by name, never members)."""
    label = str(ACCOUNT_LABELS[Account.Kind(row.kind)])
    return label % {"group": row.group.name} if row.group_id else label


@functools.cache
def _accounts() -> ModelStatement:
    return ModelStatement(Account.objects.select_related("group").order_by("pk"), ())


def balances_table(totals: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Return one row per account with its balance in each currency it ever held."""
    rows = []
    for account in _accounts().objects():
        per = [
            {"currency": c, "amount": a, "text": format_money(a, c)}
            for c, a in sorted(totals.get(account.key, {}).items())
        ]
        rows.append({"account": account, "label": account_label(account), "balances": per})
    return rows


def currencies() -> list[str]:
    """Return every currency that ever moved, sorted."""
    return sorted(set(Balance.objects.values_list("currency", flat=True)))


# An account's key goes here when the statement is compiled; no account has this key.
_KEY = "?no such account?"


@functools.cache
def _account_by_key() -> ModelStatement:
    return ModelStatement(
        Account.objects.select_related("group").filter(key=_KEY).order_by()[:1], (_KEY,)
    )


def get_account(key: str) -> Account | None:
    """Return the account with its group (compiled once: each statement reads it)."""
    return _account_by_key().first(key)  # type: ignore[return-value]


# The fund page's table of recent transactions.
RECENT = 25


class TransactionLine(NamedTuple):
    """What the fund page's table shows of one transaction (fund/index.html unpacks it):
    nothing of its chained payload nor of its decision's record but its number."""

    seq: int
    at: dt.datetime
    kind: str
    # Whose decision authorised it: "group", "federation", or "" (none: a contribution).
    decided_by: str
    decision_seq: int | None
    memo: str
    accounts: str  # each entry's account, from the one debited to the one credited
    amount: str  # what moved, per currency


@functools.cache
def _recent_entries() -> Statement:
    """Every entry of the newest transactions, with what the table shows of each
    transaction, newest first (one query compiled once: the newest are read from the
    transactions' seq index, their entries from the entries' transaction index)."""
    newest = FundTransaction.objects.order_by("-seq").values("id")[:RECENT]
    entries = Entry.objects.filter(transaction__in=newest).order_by("-transaction__seq", "pk")
    return Statement(
        entries.values_list(
            "transaction__seq", "transaction__uid", "transaction__kind", "transaction__at",
            "transaction__memo_ct", "transaction__decision_id",
            "transaction__decision__group_id", "transaction__decision__seq",
            "account_id", "amount", "currency",
        ),
        (),
    )  # fmt: skip


def recent_transactions(labels: dict[int, str]) -> list[TransactionLine]:
    """Return the newest transactions as the fund page shows them; ``labels``: each
    account's label, by id. A memo is opened with the reader's keyring on each call."""
    by_seq: dict[int, list[Any]] = {}
    for row in _recent_entries().rows():
        by_seq.setdefault(row[0], []).append(row)
    lines = []
    for seq, entries in by_seq.items():
        _seq, uid, kind, at, memo_ct, decision, group_id, decision_seq = entries[0][:8]
        moved = sorted({(currency, amount) for *_, amount, currency in entries if amount > 0})
        lines.append(
            TransactionLine(
                seq=seq,
                at=at,
                kind=str(FundTransaction.Kind(kind).label),
                decided_by="" if decision is None else "group" if group_id else "federation",
                decision_seq=decision_seq,
                memo=keyring.decrypt(memo_ct, context=FundTransaction.memo_context(uid)),
                accounts=" → ".join(labels[e[8]] for e in sorted(entries, key=lambda e: e[9])),
                amount=", ".join(format_money(a, c) for c, a in moved),
            )
        )
    return lines


def requests() -> QuerySet[SupportRequest]:
    return SupportRequest.objects.select_related("group", "proposal")


def request_lines() -> QuerySet[SupportRequest]:
    """Return :func:`requests` as the fund page lists them: each one's group, amount and
    state, and nothing of its proposal or its texts."""
    return SupportRequest.objects.select_related("group").only(
        "id", "group", "amount", "currency", "state", "group__id", "group__name"
    )


@functools.lru_cache(maxsize=64)
def _request_window(first: int, stop: int) -> ModelStatement:
    return ModelStatement(request_lines()[first:stop], ())


def request_pages() -> Pages:
    """Return :func:`request_lines` for ``paginate``, each page's query compiled once."""
    return Pages(_request_window)


# Entries are numbered in posting order: every posting holds the fund's lock from taking
# its seq to writing its last entry (services._post), so an entry's id orders it as its
# transaction's seq does, and ``veche verify`` checks that it does. A statement and a
# balance at a date read an account's entries in id order from the account's index: a
# page costs what it shows, where ordering by the transaction's seq sorted every entry
# the account ever had.
STATEMENT_FIELDS = (
    "id", "transaction", "account", "amount", "currency", "balance_after",
    "transaction__id", "transaction__uid", "transaction__kind", "transaction__at",
)  # fmt: skip


def statement_lines(account: Account, start: dt.datetime, end: dt.datetime) -> QuerySet[Entry]:
    """Return the account's entries in [start, end), in posting order, each with its balance
    (and of its transaction what a statement shows: its time, kind and id)."""
    return (
        Entry.objects.filter(account=account, transaction__at__gte=start, transaction__at__lt=end)
        .select_related("transaction")
        .only(*STATEMENT_FIELDS)
        .order_by("pk")
    )


# Where an account's id, a currency and an instant go when the statements below are
# compiled: no account, currency or posting has them.
_ACCOUNT, _CURRENCY = -1_000_000_013, "?!?"
_AT = dt.datetime(1900, 1, 1, 0, 0, 0, 123457, tzinfo=dt.UTC)


@functools.cache
def _currencies_of() -> Statement:
    held = Balance.objects.filter(account_id=_ACCOUNT).values_list("currency", flat=True)
    return Statement(held, (_ACCOUNT,))


@functools.cache
def _balance_after_last_before() -> Statement:
    held = Entry.objects.filter(account_id=_ACCOUNT, currency=_CURRENCY)
    # No posting is dated before the last one (the ledger refuses back-dating), so when
    # the account's first entry is not before the instant, none is: the database answers
    # from that one entry instead of walking every entry back from the newest (a
    # statement's opening balance, from the start of time by default). The first is read
    # from the (account, currency, transaction) index: transactions are numbered in
    # posting order, which ``veche verify`` checks.
    first_at = held.order_by("transaction_id").values("transaction__at")[:1]
    last = (
        held.alias(first_at=Subquery(first_at))
        .filter(first_at__lt=_AT, transaction__at__lt=_AT)
        .order_by("-pk")  # posting order (see statement_lines)
        .values_list("balance_after", flat=True)[:1]
    )
    # One plan serves every instant (a prepared statement on PostgreSQL): before the first
    # entry the test above stops it, and from a later instant it walks back from the
    # newest entry to the last one before it, as a plan made for the values does.
    return Statement(last, (_ACCOUNT, _CURRENCY, adapted(last.db, _AT)))


_UNTIL = dt.datetime(1900, 1, 2, 0, 0, 0, 123457, tzinfo=dt.UTC)


@functools.lru_cache(maxsize=64)
def _statement_window(first: int, stop: int) -> ModelStatement:
    lines = statement_lines(Account(pk=_ACCOUNT), _AT, _UNTIL)[first:stop]
    db = lines.db
    return ModelStatement(lines, (_ACCOUNT, adapted(db, _AT), adapted(db, _UNTIL)))


def statement_pages(account: Account, start: dt.datetime, end: dt.datetime) -> Pages:
    """Return :func:`statement_lines` for ``core.pagination.paginate``, each page's
    query compiled once."""
    db = _statement_window(0, 1).alias
    return Pages(_statement_window, account.pk, adapted(db, start), adapted(db, end))


def balance_before(account: Account, at: dt.datetime) -> dict[str, int]:
    """Return the account's balance per currency just before ``at`` (from stored totals;
    each read compiled once: a statement asks at its start and at its end)."""
    found: dict[str, int] = {}
    last_before = _balance_after_last_before()
    when = adapted(last_before.alias, at)
    for (currency,) in _currencies_of().rows(account.pk):
        last = last_before.rows(account.pk, currency, when)
        found[currency] = last[0][0] if last else 0
    return found


# --- charts: stored totals, grouped in SQL ---------------------------------------------------


def balance_steps(account_key: str, currency: str) -> list[tuple[dt.datetime, int]]:
    """Return (moment, balance after) of each day's last posting to the account in
    ``currency``, oldest first: the stored running totals, one row per day (SQL)."""
    entries = Entry.objects.filter(account__key=account_key, currency=currency)
    last_of_each_day = (
        entries.annotate(day=TruncDate("transaction__at"))
        .values("day")
        .annotate(last=Max("transaction__seq"))
        .values("last")
    )
    return list(
        entries.filter(transaction__seq__in=Subquery(last_of_each_day))
        .order_by("transaction__seq")
        .values_list("transaction__at", "balance_after")
    )


def monthly_flows(currency: str) -> list[tuple[int, int, int, int]]:
    """Return (year, month, contributed, paid out) for each month in which the common
    fund received or paid money in ``currency``, oldest first; no month without either."""
    totals = (
        Entry.objects.filter(
            account__key=FUND_KEY,
            currency=currency,
            transaction__kind__in=[
                FundTransaction.Kind.CONTRIBUTION,
                FundTransaction.Kind.DISBURSEMENT,
            ],
        )
        .annotate(month=TruncMonth("transaction__at"))
        .values("month", "transaction__kind")
        .annotate(total=Sum("amount"))
        .order_by("month")
    )
    months: dict[tuple[int, int], list[int]] = {}
    for row in totals:
        month = row["month"]
        moved = months.setdefault((month.year, month.month), [0, 0])
        if row["transaction__kind"] == FundTransaction.Kind.CONTRIBUTION:
            moved[0] += row["total"]
        else:
            moved[1] += -row["total"]  # a payment credits the fund: a negative entry
    return [(year, month, ins, outs) for (year, month), (ins, outs) in sorted(months.items())]


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
    # Posting takes the next seq and inserts the row under the fund's lock, so ids follow
    # seq; balances at a date rely on it (_balance_after_last_before).
    if any(later.pk <= earlier.pk for earlier, later in itertools.pairwise(rows)):
        messages.append(f"{FUND_CHAIN}: transactions are not numbered in posting order")
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
    last_id = 0
    for row in rows:
        for entry in row.entries.all():
            # Statements list entries by id as the order of posting (statement_lines).
            if entry.pk < last_id:
                problems.append(
                    f"{FUND_CHAIN}: transaction {row.uid}: entry {entry.pk} is numbered before "
                    f"an entry of an earlier transaction; statements would list it out of order"
                )
            last_id = max(last_id, entry.pk)
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
