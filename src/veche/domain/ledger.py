"""The common fund's ledger: double-entry, integer minor units, append-only.

Sign convention
---------------
Every entry carries a signed amount in minor units: positive is a *debit*, negative a
*credit*. A transaction balances when, **for each currency separately**, its entries sum
to zero; so the balances of all accounts in a currency always sum to zero as well. An
account's balance is the sum of its entries.

Accounts
--------
``FEDERATION_FUND``
    The common pool. Positive balance = money held in common. May not go negative.
``GROUP``
    A group's share held within the fund (allocated to it by decision). Positive = money
    held for the group. May not go negative unless the charter lets it (``may_go_negative``).
``CONTRIBUTIONS_RECEIVED``
    Contra account, one per contributing group (``group_id``) or one for the federation.
    Its balance is *minus* what has been contributed through it, so it must be allowed
    to go negative.
``DISBURSEMENTS_PAID``
    Money that has left the fund, one per recipient group or one for the federation.
    Positive = total paid out through it.

Flows (builders below make these; :func:`post` enforces them whatever built them)
-----------------------------------------------------------------------------------
=============  =======================================  ======================================
kind           debit (+)                                credit (-)
=============  =======================================  ======================================
CONTRIBUTION   FEDERATION_FUND                          CONTRIBUTIONS_RECEIVED
DISBURSEMENT   GROUP (allocate) or DISBURSEMENTS_PAID   FEDERATION_FUND or GROUP
TRANSFER       GROUP                                    GROUP (another one)
REVERSAL       every entry of the original, negated
=============  =======================================  ======================================

Disbursements and transfers need the reference of the decision that authorised them.
Nothing is ever edited or deleted: a mistake is corrected by a REVERSAL, which negates
every entry of its original. A transaction can be reversed once; a reversal cannot be
reversed (post the original again, under a new id, to redo it). A reversal is refused
if it would drive an account negative: money already passed on cannot be un-received.

Time is an argument: every timestamp is a timezone-aware datetime, stored in UTC, and
each transaction's time must not be earlier than the last one's (no back-dating).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from veche.domain.charter import Power, Scope
from veche.domain.errors import LedgerError, _

__all__ = [
    "CURRENCY_EXPONENTS",
    "MAX_AMOUNT",
    "Account",
    "AccountKind",
    "CurrencyStatement",
    "Entry",
    "Ledger",
    "Money",
    "Statement",
    "StatementLine",
    "Transaction",
    "TransactionKind",
    "balance_history",
    "balances",
    "check_invariants",
    "contribution",
    "disbursement",
    "from_payload",
    "minor_unit_exponent",
    "monthly_totals",
    "post",
    "reversal",
    "statement",
    "to_payload",
    "transfer",
]

# No single payment in a mutual-aid fund is anywhere near 10**15 minor units (ten
# trillion dollars); such a number is a typo or an attack on someone's chart. It also
# stays below 2**53, so amounts survive JSON readers that use doubles.
MAX_AMOUNT = 10**15

# ISO 4217 active alphabetic codes with their minor-unit exponents (List One, 2024-2025).
# Codes whose minor unit is "N.A." (precious metals, SDR, test and "no currency" codes)
# are left out: they have no minor unit to count in. The fund codes of List One (BOV,
# CHE, CHW, CLF, COU, MXV, USN, UYI, UYW) are kept. Withdrawn codes ANG, CUC, SLL and ZWL
# are still accepted, for records made during their changeovers (to XCG, -, SLE, ZWG).
CURRENCY_EXPONENTS: Mapping[str, int] = MappingProxyType(
    {
        "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2,
        "AWG": 2, "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0,
        "BMD": 2, "BND": 2, "BOB": 2, "BOV": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2,
        "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4,
        "CLP": 0, "CNY": 2, "COP": 2, "COU": 2, "CRC": 2, "CUC": 2, "CUP": 2, "CVE": 2,
        "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2,
        "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
        "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2,
        "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0,
        "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2,
        "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3, "MAD": 2,
        "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
        "MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2,
        "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2,
        "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2,
        "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
        "SLE": 2, "SLL": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2,
        "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2,
        "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2,
        "UYW": 4, "UZS": 2, "VED": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0,
        "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
        "ZWL": 2,
    }
)  # fmt: skip


def minor_unit_exponent(currency: str) -> int:
    """Return how many decimal places the currency's minor unit has (USD 2, JPY 0)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except (KeyError, TypeError):
        raise LedgerError(
            _("%(currency)r is not an active ISO 4217 currency code"),
            params={"currency": currency},
            field="currency",
        ) from None


def _check_amount(amount: object) -> int:
    # bool is an int subclass: True must not pass for one cent.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise LedgerError(_("amount must be an integer number of minor units"), field="amount")
    if abs(amount) > MAX_AMOUNT:
        raise LedgerError(_("absurd amount"), field="amount")
    return amount


def _utc(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise LedgerError(_("%(name)s must be a datetime"), params={"name": name}, field=name)
    if value.tzinfo is None or value.utcoffset() is None:
        raise LedgerError(_("%(name)s must be timezone-aware"), params={"name": name}, field=name)
    return value.astimezone(UTC)


def _check_id(value: object, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise LedgerError(
            _("%(name)s must be a non-empty string"), params={"name": name}, field=name
        )


def _check_optional_ref(value: object, name: str) -> None:
    if value is not None:
        _check_id(value, name)


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units of one currency (1050 USD = $10.50)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        _check_amount(self.amount)
        minor_unit_exponent(self.currency)

    def __neg__(self) -> Money:
        """Return the same sum with the opposite sign."""
        return Money(-self.amount, self.currency)


class AccountKind(enum.Enum):
    """What an account stands for; decides which flows may touch it."""

    FEDERATION_FUND = "federation_fund"
    GROUP = "group"
    CONTRIBUTIONS_RECEIVED = "contributions_received"
    DISBURSEMENTS_PAID = "disbursements_paid"


@dataclass(frozen=True)
class Account:
    """An account of the fund; ``group_id`` says whose it is, if anyone's."""

    id: str
    kind: AccountKind
    group_id: str | None = None
    may_go_negative: bool = False

    def __post_init__(self) -> None:
        _check_id(self.id, "id")
        if not isinstance(self.kind, AccountKind):
            raise LedgerError(_("kind must be an AccountKind"), field="kind")
        _check_optional_ref(self.group_id, "group_id")
        if self.kind is AccountKind.GROUP and self.group_id is None:
            raise LedgerError(_("a group account needs its group_id"), field="group_id")
        if self.kind is AccountKind.FEDERATION_FUND and self.group_id is not None:
            raise LedgerError(_("the federation fund belongs to no group"), field="group_id")
        if not isinstance(self.may_go_negative, bool):
            raise LedgerError(_("may_go_negative must be a bool"), field="may_go_negative")
        # Its balance is minus the contributions: forbidding negatives would forbid them.
        if self.kind is AccountKind.CONTRIBUTIONS_RECEIVED and not self.may_go_negative:
            raise LedgerError(
                _("a contributions-received account must be allowed to go negative"),
                field="may_go_negative",
            )

    @classmethod
    def fund(cls, id: str) -> Account:
        """Return the federation's common fund account."""
        return cls(id, AccountKind.FEDERATION_FUND)

    @classmethod
    def group(cls, id: str, group_id: str, *, may_go_negative: bool = False) -> Account:
        """Return a group's account within the fund."""
        return cls(id, AccountKind.GROUP, group_id, may_go_negative)

    @classmethod
    def contributions(cls, id: str, group_id: str | None = None) -> Account:
        """Return a contributions-received contra account (per group, or federation-wide)."""
        return cls(id, AccountKind.CONTRIBUTIONS_RECEIVED, group_id, True)

    @classmethod
    def disbursements(cls, id: str, group_id: str | None = None) -> Account:
        """Return a disbursements-paid account (per recipient group, or federation-wide)."""
        return cls(id, AccountKind.DISBURSEMENTS_PAID, group_id, True)


class TransactionKind(enum.Enum):
    """Why money moved."""

    CONTRIBUTION = "contribution"
    DISBURSEMENT = "disbursement"
    TRANSFER = "transfer"
    REVERSAL = "reversal"


@dataclass(frozen=True)
class Entry:
    """One leg of a transaction: a signed amount (debit > 0, credit < 0) on an account."""

    account_id: str
    money: Money

    def __post_init__(self) -> None:
        _check_id(self.account_id, "account_id")
        if not isinstance(self.money, Money):
            raise LedgerError(_("money must be Money"), field="amount")
        if self.money.amount == 0:
            raise LedgerError(_("an entry of zero moves nothing"), field="amount")


@dataclass(frozen=True)
class Transaction:
    """A set of entries posted together, with why and on whose authority.

    The constructor checks shapes only (types, an aware time, normalised to UTC), so a
    stored history can always be loaded and re-checked; the rules are :func:`post`'s.
    """

    id: str
    kind: TransactionKind
    entries: tuple[Entry, ...]
    at: datetime
    decision_ref: str | None = None
    reverses: str | None = None
    memo_ref: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "id")
        if not isinstance(self.kind, TransactionKind):
            raise LedgerError(_("kind must be a TransactionKind"), field="kind")
        if not isinstance(self.entries, tuple) or not all(
            isinstance(entry, Entry) for entry in self.entries
        ):
            raise LedgerError(_("entries must be a tuple of Entry"), field="entries")
        object.__setattr__(self, "at", _utc(self.at, "at"))
        _check_optional_ref(self.decision_ref, "decision_ref")
        _check_optional_ref(self.reverses, "reverses")
        _check_optional_ref(self.memo_ref, "memo_ref")

    def amount(self, currency: str) -> int:
        """Return how much the transaction moves in ``currency`` (the sum of its debits)."""
        return sum(
            e.money.amount
            for e in self.entries
            if e.money.currency == currency and e.money.amount > 0
        )


# Which account kinds each kind of transaction may debit and credit.
_FLOWS: Mapping[TransactionKind, tuple[frozenset[AccountKind], frozenset[AccountKind]]] = {
    TransactionKind.CONTRIBUTION: (
        frozenset({AccountKind.FEDERATION_FUND}),
        frozenset({AccountKind.CONTRIBUTIONS_RECEIVED}),
    ),
    TransactionKind.DISBURSEMENT: (
        frozenset({AccountKind.GROUP, AccountKind.DISBURSEMENTS_PAID}),
        frozenset({AccountKind.FEDERATION_FUND, AccountKind.GROUP}),
    ),
    TransactionKind.TRANSFER: (
        frozenset({AccountKind.GROUP}),
        frozenset({AccountKind.GROUP}),
    ),
}


# --- builders ---------------------------------------------------------------------------


def _expect(account: Account, kinds: set[AccountKind], name: str) -> None:
    if not isinstance(account, Account) or account.kind not in kinds:
        allowed = " or ".join(sorted(k.value for k in kinds))
        raise LedgerError(
            _("%(name)s must be a %(allowed)s account"),
            params={"name": name, "allowed": allowed},
            field=name,
        )


def _positive(money: Money) -> None:
    if not isinstance(money, Money):
        raise LedgerError(_("money must be Money"), field="amount")
    if money.amount <= 0:
        raise LedgerError(_("the amount must be positive"), field="amount")


def _two_legs(debit: Account, credit: Account, money: Money) -> tuple[Entry, ...]:
    return (Entry(debit.id, money), Entry(credit.id, -money))


def contribution(
    id: str,
    *,
    fund: Account,
    contributor: Account,
    money: Money,
    at: datetime,
    memo_ref: str | None = None,
) -> Transaction:
    """Return a contribution into the fund: debit the fund, credit contributions received.

    ``contributor`` is the contributions-received account of the contributing group.
    """
    _expect(fund, {AccountKind.FEDERATION_FUND}, "fund")
    _expect(contributor, {AccountKind.CONTRIBUTIONS_RECEIVED}, "contributor")
    _positive(money)
    return Transaction(
        id, TransactionKind.CONTRIBUTION, _two_legs(fund, contributor, money), at,
        memo_ref=memo_ref,
    )  # fmt: skip


def disbursement(
    id: str,
    *,
    source: Account,
    recipient: Account,
    money: Money,
    at: datetime,
    decision_ref: str,
    memo_ref: str | None = None,
) -> Transaction:
    """Return a disbursement authorised by ``decision_ref``: credit source, debit recipient.

    From the fund to a group's account (an allocation), or from the fund or a group's
    account to disbursements paid (money leaving the fund).
    """
    _expect(source, {AccountKind.FEDERATION_FUND, AccountKind.GROUP}, "source")
    _expect(recipient, {AccountKind.GROUP, AccountKind.DISBURSEMENTS_PAID}, "recipient")
    if source.id == recipient.id:
        raise LedgerError(_("source and recipient are the same account"), field="recipient")
    _positive(money)
    _check_id(decision_ref, "decision_ref")
    return Transaction(
        id, TransactionKind.DISBURSEMENT, _two_legs(recipient, source, money), at,
        decision_ref=decision_ref, memo_ref=memo_ref,
    )  # fmt: skip


def transfer(
    id: str,
    *,
    from_group: Account,
    to_group: Account,
    money: Money,
    at: datetime,
    decision_ref: str,
    memo_ref: str | None = None,
) -> Transaction:
    """Return a transfer between two group accounts authorised by ``decision_ref``."""
    _expect(from_group, {AccountKind.GROUP}, "from_group")
    _expect(to_group, {AccountKind.GROUP}, "to_group")
    if from_group.id == to_group.id:
        raise LedgerError(_("a transfer needs two different groups"), field="to_group")
    _positive(money)
    _check_id(decision_ref, "decision_ref")
    return Transaction(
        id, TransactionKind.TRANSFER, _two_legs(to_group, from_group, money), at,
        decision_ref=decision_ref, memo_ref=memo_ref,
    )  # fmt: skip


def reversal(
    original: Transaction,
    *,
    id: str,
    at: datetime,
    decision_ref: str | None = None,
    memo_ref: str | None = None,
) -> Transaction:
    """Return the transaction that undoes ``original`` by negating each of its entries."""
    if original.kind is TransactionKind.REVERSAL:
        raise LedgerError(_("a reversal cannot itself be reversed"), field="reverses")
    entries = tuple(Entry(e.account_id, -e.money) for e in original.entries)
    return Transaction(
        id, TransactionKind.REVERSAL, entries, at,
        decision_ref=decision_ref, reverses=original.id, memo_ref=memo_ref,
    )  # fmt: skip


# --- posting ----------------------------------------------------------------------------


def _entry_key(entry: Entry) -> tuple[str, str, int]:
    return (entry.account_id, entry.money.currency, entry.money.amount)


@dataclass(frozen=True)
class Ledger:
    """The fund's accounts and its posted history; :func:`post` returns the next one.

    Balances, the index of transactions by id and the set of reversed ids are derived
    state kept alongside so that posting does not replay the whole history.
    """

    accounts: Mapping[str, Account]
    transactions: tuple[Transaction, ...] = ()
    _balances: Mapping[tuple[str, str], int] = field(
        default_factory=dict, repr=False, compare=False
    )
    _by_id: Mapping[str, Transaction] = field(default_factory=dict, repr=False, compare=False)
    _reversed: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def open(cls, accounts: Iterable[Account]) -> Ledger:
        """Return an empty ledger over ``accounts`` (ids must be unique)."""
        ledger = cls(MappingProxyType({}))
        for account in accounts:
            ledger = ledger.with_account(account)
        return ledger

    @classmethod
    def replay(cls, accounts: Iterable[Account], transactions: Iterable[Transaction]) -> Ledger:
        """Return the ledger after posting ``transactions`` in order; raise on the first bad one."""
        ledger = cls.open(accounts)
        for transaction in transactions:
            ledger = post(ledger, transaction)
        return ledger

    @classmethod
    def resume(
        cls,
        accounts: Iterable[Account],
        balances: Mapping[tuple[str, str], int],
        *,
        last: Transaction | None = None,
        related: Iterable[Transaction] = (),
        reversed_ids: Iterable[str] = (),
    ) -> Ledger:
        """Return the ledger as stored, for posting one more transaction without a replay.

        ``balances`` are the stored running totals by (account, currency); ``last`` is the
        latest transaction (time order); ``related`` the ones the next may refer to (the
        original of a reversal) and ``reversed_ids`` those already reversed. The rules
        :func:`post` checks read nothing else.
        """
        ledger = cls.open(accounts)
        known = {t.id: t for t in (*related, *([last] if last else []))}
        return Ledger(
            ledger.accounts,
            (last,) if last is not None else (),
            MappingProxyType(dict(balances)),
            MappingProxyType(known),
            frozenset(reversed_ids),
        )

    def with_account(self, account: Account) -> Ledger:
        """Return this ledger with one more account (a group joins, say)."""
        if not isinstance(account, Account):
            raise LedgerError(_("not an Account"), field="account_id")
        if account.id in self.accounts:
            raise LedgerError(
                _("account %(account)r already exists"),
                params={"account": account.id},
                field="account_id",
            )
        accounts = MappingProxyType({**self.accounts, account.id: account})
        return Ledger(accounts, self.transactions, self._balances, self._by_id, self._reversed)

    def balance(self, account_id: str, currency: str) -> int:
        """Return the account's balance in ``currency``, in minor units."""
        return self._balances.get((account_id, currency), 0)

    def balances(self) -> dict[str, dict[str, int]]:
        """Return every touched account's balance per currency."""
        result: dict[str, dict[str, int]] = {}
        for (account_id, currency), amount in self._balances.items():
            result.setdefault(account_id, {})[currency] = amount
        return result

    def is_reversed(self, transaction_id: str) -> bool:
        """Return True when the transaction has been reversed."""
        return transaction_id in self._reversed


def _check_rules(ledger: Ledger, tx: Transaction) -> None:
    if not isinstance(tx, Transaction):
        raise LedgerError(_("not a Transaction"), field="kind")
    if tx.id in ledger._by_id:
        raise LedgerError(
            _("transaction id %(id)r is already used"), params={"id": tx.id}, field="id"
        )
    if ledger.transactions and tx.at < ledger.transactions[-1].at:
        raise LedgerError(
            _("the ledger is append-only: this is earlier than the last transaction"),
            field="at",
        )
    if len(tx.entries) < 2:
        raise LedgerError(_("a transaction needs at least two entries"), field="entries")
    keys = {(e.account_id, e.money.currency) for e in tx.entries}
    if len(keys) != len(tx.entries):
        raise LedgerError(_("an account appears twice in one currency"), field="entries")
    totals: dict[str, int] = {}
    for entry in tx.entries:
        if entry.account_id not in ledger.accounts:
            raise LedgerError(
                _("unknown account %(account)r"),
                params={"account": entry.account_id},
                field="account_id",
            )
        currency = entry.money.currency
        totals[currency] = totals.get(currency, 0) + entry.money.amount
    unbalanced = sorted(c for c, total in totals.items() if total != 0)
    if unbalanced:
        raise LedgerError(
            _("unbalanced in %(currencies)s"),
            params={"currencies": ", ".join(unbalanced)},
            field="entries",
        )

    if tx.kind is TransactionKind.REVERSAL:
        _check_reversal(ledger, tx)
    else:
        if tx.reverses is not None:
            raise LedgerError(_("only a reversal reverses"), field="reverses")
        if tx.kind is not TransactionKind.CONTRIBUTION and tx.decision_ref is None:
            raise LedgerError(
                _("a %(kind)s needs the decision that authorised it"),
                params={"kind": tx.kind.value},
                field="decision_ref",
            )
        debits, credits = _FLOWS[tx.kind]
        for entry in tx.entries:
            kind = ledger.accounts[entry.account_id].kind
            allowed = debits if entry.money.amount > 0 else credits
            if kind not in allowed:
                side = "debit" if entry.money.amount > 0 else "credit"
                raise LedgerError(
                    _("a %(kind)s may not %(side)s a %(account_kind)s account"),
                    params={"kind": tx.kind.value, "side": side, "account_kind": kind.value},
                    field="entries",
                )

    for entry in tx.entries:
        account = ledger.accounts[entry.account_id]
        after = ledger.balance(account.id, entry.money.currency) + entry.money.amount
        if after < 0 and not account.may_go_negative:
            raise LedgerError(
                _("account %(account)r would go negative in %(currency)s"),
                params={"account": account.id, "currency": entry.money.currency},
                field="amount",
            )
        if abs(after) > MAX_AMOUNT:
            raise LedgerError(_("absurd amount"), field="amount")


def _check_reversal(ledger: Ledger, tx: Transaction) -> None:
    if tx.reverses is None:
        raise LedgerError(_("a reversal must name the transaction it reverses"), field="reverses")
    original = ledger._by_id.get(tx.reverses)
    if original is None:
        raise LedgerError(
            _("no transaction %(id)r to reverse"), params={"id": tx.reverses}, field="reverses"
        )
    if original.kind is TransactionKind.REVERSAL:
        raise LedgerError(_("a reversal cannot itself be reversed"), field="reverses")
    if tx.reverses in ledger._reversed:
        raise LedgerError(
            _("transaction %(id)r is already reversed"),
            params={"id": tx.reverses},
            field="reverses",
        )
    expected = sorted(_entry_key(Entry(e.account_id, -e.money)) for e in original.entries)
    if sorted(_entry_key(e) for e in tx.entries) != expected:
        raise LedgerError(_("a reversal must negate every entry of its original"), field="entries")


def post(ledger: Ledger, transaction: Transaction) -> Ledger:
    """Return the ledger with ``transaction`` appended; raise LedgerError if any rule fails.

    The given ledger is never changed, so a refused transaction leaves it as it was.
    """
    _check_rules(ledger, transaction)
    new_balances = dict(ledger._balances)
    for entry in transaction.entries:
        key = (entry.account_id, entry.money.currency)
        new_balances[key] = new_balances.get(key, 0) + entry.money.amount
    reversed_ids = ledger._reversed
    if transaction.reverses is not None:
        reversed_ids = reversed_ids | {transaction.reverses}
    return Ledger(
        ledger.accounts,
        (*ledger.transactions, transaction),
        MappingProxyType(new_balances),
        MappingProxyType({**ledger._by_id, transaction.id: transaction}),
        reversed_ids,
    )


def check_invariants(accounts: Iterable[Account], transactions: Sequence[Transaction]) -> list[str]:
    """Return every rule a stored history breaks, one sentence each ([] when sound).

    Used by ``veche verify``: unlike :meth:`Ledger.replay` it does not stop at the first
    bad transaction; it reports it, leaves it out, and carries on.
    """
    problems: list[str] = []
    ledger = Ledger(MappingProxyType({}))
    for account in accounts:
        try:
            ledger = ledger.with_account(account)
        except LedgerError as exc:
            problems.append(f"account {account.id}: {exc.message}")
    for position, transaction in enumerate(transactions):
        try:
            ledger = post(ledger, transaction)
        except LedgerError as exc:
            problems.append(f"transaction {position} ({transaction.id}): {exc.message}")
    totals: dict[str, int] = {}
    for (_account, currency), amount in ledger._balances.items():
        totals[currency] = totals.get(currency, 0) + amount
    # Unreachable when every posting balanced; kept as the final, independent check.
    problems.extend(
        f"balances in {c} sum to {t}, not 0" for c, t in sorted(totals.items()) if t != 0
    )
    return problems


# --- reports ----------------------------------------------------------------------------


def balances(transactions: Iterable[Transaction]) -> dict[str, dict[str, int]]:
    """Return each touched account's balance per currency after ``transactions``."""
    result: dict[str, dict[str, int]] = {}
    for transaction in transactions:
        for entry in transaction.entries:
            per_currency = result.setdefault(entry.account_id, {})
            currency = entry.money.currency
            per_currency[currency] = per_currency.get(currency, 0) + entry.money.amount
    return result


def balance_history(
    transactions: Iterable[Transaction], account_id: str, currency: str
) -> list[tuple[datetime, int]]:
    """Return (time, balance after) for each transaction that touched the account."""
    history: list[tuple[datetime, int]] = []
    running = 0
    for transaction in transactions:
        moved = [
            e.money.amount
            for e in transaction.entries
            if e.account_id == account_id and e.money.currency == currency
        ]
        if moved:
            running += sum(moved)
            history.append((transaction.at, running))
    return history


@dataclass(frozen=True)
class StatementLine:
    """One transaction on a statement, with the balance after it."""

    transaction_id: str
    kind: TransactionKind
    at: datetime
    amount: int
    balance: int


@dataclass(frozen=True)
class CurrencyStatement:
    """A statement's part in one currency: opening, lines, closing."""

    currency: str
    opening: int
    lines: tuple[StatementLine, ...]
    closing: int


@dataclass(frozen=True)
class Statement:
    """An account's statement for the half-open period [start, end), per currency."""

    account_id: str
    start: datetime
    end: datetime
    currencies: tuple[CurrencyStatement, ...]

    def for_currency(self, currency: str) -> CurrencyStatement:
        """Return the part in ``currency`` (all zero and no lines if it never moved)."""
        for part in self.currencies:
            if part.currency == currency:
                return part
        return CurrencyStatement(currency, 0, (), 0)


def statement(
    transactions: Iterable[Transaction], account_id: str, start: datetime, end: datetime
) -> Statement:
    """Return the account's statement from ``start`` (included) to ``end`` (excluded).

    Currencies appear, sorted by code, when the account had a balance at the start or
    moved during the period.
    """
    start, end = _utc(start, "start"), _utc(end, "end")
    if end < start:
        raise LedgerError(_("the period ends before it starts"), field="end")
    opening: dict[str, int] = {}
    lines: dict[str, list[StatementLine]] = {}
    running: dict[str, int] = {}
    for transaction in transactions:
        if transaction.at >= end:
            break
        for entry in transaction.entries:
            if entry.account_id != account_id:
                continue
            currency, amount = entry.money.currency, entry.money.amount
            if transaction.at < start:
                opening[currency] = opening.get(currency, 0) + amount
                continue
            balance = running.get(currency, opening.get(currency, 0)) + amount
            running[currency] = balance
            lines.setdefault(currency, []).append(
                StatementLine(transaction.id, transaction.kind, transaction.at, amount, balance)
            )
    parts = tuple(
        CurrencyStatement(
            currency,
            opening.get(currency, 0),
            tuple(lines.get(currency, [])),
            running.get(currency, opening.get(currency, 0)),
        )
        for currency in sorted(set(opening) | set(lines))
    )
    return Statement(account_id, start, end, parts)


def monthly_totals(
    transactions: Iterable[Transaction], kind: TransactionKind, currency: str
) -> list[tuple[int, int, int]]:
    """Return (year, month, total moved) for each month, for charts.

    Months run without gaps from the first to the last month with such a transaction
    (empty months show 0, so a bar chart's axis stays honest). Totals are gross: a
    reversal counts under REVERSAL, not against its original's month.
    """
    minor_unit_exponent(currency)
    totals: dict[tuple[int, int], int] = {}
    for transaction in transactions:
        if transaction.kind is kind:
            moved = transaction.amount(currency)
            if moved:
                key = (transaction.at.year, transaction.at.month)
                totals[key] = totals.get(key, 0) + moved
    if not totals:
        return []
    year, month = min(totals)
    last = max(totals)
    series: list[tuple[int, int, int]] = []
    while (year, month) <= last:
        series.append((year, month, totals.get((year, month), 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return series


# --- export -----------------------------------------------------------------------------


def to_payload(transaction: Transaction) -> dict[str, Any]:
    """Return a JSON-serialisable dict of the transaction, for the hash-chained log."""
    return {
        "id": transaction.id,
        "kind": transaction.kind.value,
        "entries": [
            {"account": e.account_id, "amount": e.money.amount, "currency": e.money.currency}
            for e in transaction.entries
        ],
        "at": transaction.at.isoformat(),
        "decision_ref": transaction.decision_ref,
        "reverses": transaction.reverses,
        "memo_ref": transaction.memo_ref,
    }


def from_payload(payload: Mapping[str, Any]) -> Transaction:
    """Return the transaction a :func:`to_payload` dict describes."""
    try:
        entries = tuple(
            Entry(e["account"], Money(e["amount"], e["currency"])) for e in payload["entries"]
        )
        return Transaction(
            id=payload["id"],
            kind=TransactionKind(payload["kind"]),
            entries=entries,
            at=datetime.fromisoformat(payload["at"]),
            decision_ref=payload.get("decision_ref"),
            reverses=payload.get("reverses"),
            memo_ref=payload.get("memo_ref"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LedgerError(
            _("malformed transaction payload: %(error)s"),
            params={"error": str(exc)},
            field="payload",
        ) from exc


# --- what may authorise a payment -------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    """A decision as the fund sees it: what was decided, by whom, with what power.

    ``grants`` and ``grantee`` are what the request for money that the decision adopted
    asked for, and which group asked (disbursements only).
    """

    adopted: bool
    power: Power | None
    scope: Scope
    group: str | None
    grants: Money | None = None
    grantee: str | None = None


def authorise(
    kind: TransactionKind,
    money: Money,
    *,
    authority: Authority,
    recipient_group: str,
    payer_group: str | None = None,
) -> None:
    """Return if ``authority`` authorises paying ``money`` this way; raise LedgerError if not.

    A disbursement rests on an adopted federation decision with a disbursing power, and
    pays exactly what the request it adopted asked for, to the group that asked. A
    transfer rests on an adopted decision of the giving group with the power to transfer.
    """
    if not authority.adopted:
        raise LedgerError(_("only an adopted decision can authorise a payment"), field="decision")
    if kind is TransactionKind.DISBURSEMENT:
        if authority.power not in (Power.DISBURSE, Power.DISBURSE_SMALL):
            raise LedgerError(
                _("this kind of decision cannot authorise a disbursement"), field="decision"
            )
        if authority.grants is None or authority.grantee is None:
            raise LedgerError(
                _("this decision is not linked to a request for money"), field="decision"
            )
        if authority.grants != money or authority.grantee != recipient_group:
            raise LedgerError(
                _("a disbursement pays what the decision granted, to the group that asked"),
                field="amount",
            )
        return
    if kind is TransactionKind.TRANSFER:
        if authority.power is not Power.TRANSFER or authority.scope is not Scope.GROUP:
            raise LedgerError(
                _("this kind of decision cannot authorise a transfer"), field="decision"
            )
        if authority.group != payer_group:
            raise LedgerError(
                _("a transfer rests on a decision of the giving group"), field="decision"
            )
        return
    raise LedgerError(
        _("a %(kind)s needs no decision"), params={"kind": kind.value}, field="decision"
    )
