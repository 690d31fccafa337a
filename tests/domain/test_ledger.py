"""The common fund's ledger keeps its books balanced whatever is thrown at it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veche.domain import decisions_log
from veche.domain.charter import Power, Scope
from veche.domain.errors import LedgerError
from veche.domain.ledger import (
    CURRENCY_EXPONENTS,
    MAX_AMOUNT,
    Account,
    AccountKind,
    Authority,
    CurrencyStatement,
    Entry,
    Ledger,
    Money,
    Transaction,
    TransactionKind,
    authorise,
    balance_history,
    balances,
    check_invariants,
    contribution,
    disbursement,
    from_payload,
    minor_unit_exponent,
    monthly_totals,
    post,
    reversal,
    statement,
    to_payload,
    transfer,
)

T0 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)

FUND = Account.fund("fund")
NORTH = Account.group("g-north", "north")
SOUTH = Account.group("g-south", "south")
NORTH_IN = Account.contributions("in-north", "north")
SOUTH_IN = Account.contributions("in-south", "south")
PAID = Account.disbursements("paid")
ACCOUNTS = (FUND, NORTH, SOUTH, NORTH_IN, SOUTH_IN, PAID)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def funded(amount: int = 10_000, currency: str = "USD") -> Ledger:
    ledger = Ledger.open(ACCOUNTS)
    tx = contribution("c1", fund=FUND, contributor=NORTH_IN, money=Money(amount, currency), at=T0)
    return post(ledger, tx)


def tx(id: str, kind: TransactionKind, *legs: tuple[str, int], **extra: Any) -> Transaction:
    entries = tuple(Entry(account, usd(amount)) for account, amount in legs)
    return Transaction(id, kind, entries, extra.pop("at", T0), **extra)


# --- money and currencies ------------------------------------------------------------


def test_currency_table_knows_minor_units() -> None:
    assert minor_unit_exponent("USD") == 2
    assert minor_unit_exponent("JPY") == 0
    assert minor_unit_exponent("KWD") == 3
    assert minor_unit_exponent("UAH") == 2
    assert minor_unit_exponent("RUB") == 2
    assert len(CURRENCY_EXPONENTS) > 160
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)


@pytest.mark.parametrize("code", ["usd", "XXX", "XAU", "ZZZ", "", 840])
def test_unknown_currency_is_refused(code: Any) -> None:
    with pytest.raises(LedgerError) as info:
        Money(1, code)
    assert info.value.field == "currency"


@pytest.mark.parametrize("amount", [True, 1.5, "10", MAX_AMOUNT + 1, -MAX_AMOUNT - 1])
def test_money_refuses_non_integers_and_absurd_amounts(amount: Any) -> None:
    with pytest.raises(LedgerError) as info:
        Money(amount, "USD")
    assert info.value.field == "amount"


def test_absurd_amount_says_so() -> None:
    with pytest.raises(LedgerError, match="absurd amount"):
        Money(10**16, "EUR")
    assert Money(MAX_AMOUNT, "EUR").amount == MAX_AMOUNT


def test_negating_money_keeps_the_currency() -> None:
    assert -Money(5, "JPY") == Money(-5, "JPY")


# --- accounts -------------------------------------------------------------------------


def test_account_helpers_pick_sensible_negativity() -> None:
    assert not FUND.may_go_negative and not NORTH.may_go_negative
    assert NORTH_IN.may_go_negative and PAID.may_go_negative
    assert Account.group("g", "x", may_go_negative=True).may_go_negative


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", AccountKind.GROUP, "g"), "id"),
        (("a", "group", "g"), "kind"),
        (("a", AccountKind.GROUP, None), "group_id"),
        (("a", AccountKind.FEDERATION_FUND, "g"), "group_id"),
        (("a", AccountKind.GROUP, "g", 1), "may_go_negative"),
        (("a", AccountKind.CONTRIBUTIONS_RECEIVED, "g", False), "may_go_negative"),
    ],
)
def test_malformed_account_is_refused(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(LedgerError) as info:
        Account(*args)
    assert info.value.field == field


def test_account_ids_are_unique_in_a_ledger() -> None:
    with pytest.raises(LedgerError) as info:
        Ledger.open([FUND, Account.fund("fund")])
    assert info.value.field == "account_id"
    with pytest.raises(LedgerError):
        Ledger.open([FUND]).with_account("not an account")  # type: ignore[arg-type]


def test_a_group_can_join_later() -> None:
    ledger = funded()
    east = Account.group("g-east", "east")
    ledger = ledger.with_account(east)
    grant = disbursement(
        "d1", source=FUND, recipient=east, money=usd(100), at=T0, decision_ref="dec-1"
    )
    assert post(ledger, grant).balance("g-east", "USD") == 100


# --- transactions: shape --------------------------------------------------------------


def test_transaction_time_must_be_aware_and_is_kept_in_utc() -> None:
    kyiv = timezone(timedelta(hours=2))
    t = tx("t", TransactionKind.CONTRIBUTION, ("fund", 1), ("in-north", -1), at=T0.astimezone(kyiv))
    assert t.at.utcoffset() == timedelta(0) and t.at == T0
    with pytest.raises(LedgerError) as info:
        tx("t", TransactionKind.CONTRIBUTION, at=datetime(2024, 1, 1))  # noqa: DTZ001
    assert info.value.field == "at"
    with pytest.raises(LedgerError):
        tx("t", TransactionKind.CONTRIBUTION, at="2024-01-01")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"kind": "contribution"}, "kind"),
        ({"entries": [Entry("fund", usd(1))]}, "entries"),
        ({"entries": ("x",)}, "entries"),
        ({"decision_ref": ""}, "decision_ref"),
        ({"reverses": 3}, "reverses"),
        ({"memo_ref": "  "}, "memo_ref"),
    ],
)
def test_malformed_transaction_is_refused(changes: dict[str, Any], field: str) -> None:
    base = tx("t", TransactionKind.CONTRIBUTION, ("fund", 1), ("in-north", -1))
    with pytest.raises(LedgerError) as info:
        dataclasses.replace(base, **changes)
    assert info.value.field == field


def test_entry_must_move_something() -> None:
    with pytest.raises(LedgerError) as info:
        Entry("fund", usd(0))
    assert info.value.field == "amount"
    with pytest.raises(LedgerError):
        Entry("fund", 5)  # type: ignore[arg-type]
    with pytest.raises(LedgerError):
        Entry("", usd(5))


# --- builders -------------------------------------------------------------------------


def test_contribution_debits_the_fund_and_credits_contributions_received() -> None:
    ledger = funded(2_500)
    assert ledger.balance("fund", "USD") == 2_500
    assert ledger.balance("in-north", "USD") == -2_500
    assert ledger.balances() == {"fund": {"USD": 2_500}, "in-north": {"USD": -2_500}}


def test_disbursement_allocates_to_a_group_then_pays_out() -> None:
    ledger = funded(1_000)
    allocate = disbursement(
        "d1", source=FUND, recipient=NORTH, money=usd(600), at=T0, decision_ref="dec-1"
    )
    pay = disbursement(
        "d2", source=NORTH, recipient=PAID, money=usd(200), at=T0, decision_ref="dec-2"
    )
    ledger = post(post(ledger, allocate), pay)
    assert ledger.balances() == {
        "fund": {"USD": 400},
        "in-north": {"USD": -1_000},
        "g-north": {"USD": 400},
        "paid": {"USD": 200},
    }


def test_transfer_moves_between_groups() -> None:
    ledger = funded(1_000)
    ledger = post(
        ledger,
        disbursement("d1", source=FUND, recipient=NORTH, money=usd(500), at=T0, decision_ref="x"),
    )
    move = transfer(
        "t1", from_group=NORTH, to_group=SOUTH, money=usd(300), at=T0, decision_ref="dec-9"
    )
    ledger = post(ledger, move)
    assert ledger.balance("g-north", "USD") == 200
    assert ledger.balance("g-south", "USD") == 300


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: contribution("c", fund=NORTH, contributor=NORTH_IN, money=usd(1), at=T0), "fund"),
        (
            lambda: contribution("c", fund=FUND, contributor=PAID, money=usd(1), at=T0),
            "contributor",
        ),
        (lambda: contribution("c", fund=FUND, contributor=NORTH_IN, money=usd(0), at=T0), "amount"),
        (
            lambda: contribution("c", fund=FUND, contributor=NORTH_IN, money=usd(-5), at=T0),
            "amount",
        ),
        (lambda: contribution("c", fund=FUND, contributor=NORTH_IN, money=5, at=T0), "amount"),  # type: ignore[arg-type]
        (
            lambda: disbursement(
                "d", source=PAID, recipient=NORTH, money=usd(1), at=T0, decision_ref="x"
            ),
            "source",
        ),
        (
            lambda: disbursement(
                "d", source=FUND, recipient=FUND, money=usd(1), at=T0, decision_ref="x"
            ),
            "recipient",
        ),
        (
            lambda: disbursement(
                "d", source=NORTH, recipient=NORTH, money=usd(1), at=T0, decision_ref="x"
            ),
            "recipient",
        ),
        (
            lambda: disbursement(
                "d", source=FUND, recipient=NORTH, money=usd(1), at=T0, decision_ref=""
            ),
            "decision_ref",
        ),
        (
            lambda: transfer(
                "t", from_group=FUND, to_group=NORTH, money=usd(1), at=T0, decision_ref="x"
            ),
            "from_group",
        ),
        (
            lambda: transfer(
                "t", from_group=NORTH, to_group=PAID, money=usd(1), at=T0, decision_ref="x"
            ),
            "to_group",
        ),
        (
            lambda: transfer(
                "t", from_group=NORTH, to_group=NORTH, money=usd(1), at=T0, decision_ref="x"
            ),
            "to_group",
        ),
        (
            lambda: transfer(
                "t",
                from_group=NORTH,
                to_group=SOUTH,
                money=usd(1),
                at=T0,
                decision_ref=None,  # type: ignore[arg-type]
            ),
            "decision_ref",
        ),
    ],
)
def test_builders_refuse_wrong_accounts_amounts_and_missing_decisions(
    build: Any, field: str
) -> None:
    with pytest.raises(LedgerError) as info:
        build()
    assert info.value.field == field


# --- posting rules --------------------------------------------------------------------


def refused(ledger: Ledger, transaction: Transaction) -> str | None:
    before = (ledger.transactions, ledger.balances())
    with pytest.raises(LedgerError) as info:
        post(ledger, transaction)
    assert (ledger.transactions, ledger.balances()) == before
    return info.value.field


def test_unbalanced_transaction_is_refused() -> None:
    bad = tx("x", TransactionKind.CONTRIBUTION, ("fund", 10), ("in-north", -9))
    assert refused(Ledger.open(ACCOUNTS), bad) == "entries"


def test_balance_is_per_currency_not_across_currencies() -> None:
    mixed = Transaction(
        "x",
        TransactionKind.CONTRIBUTION,
        (Entry("fund", usd(10)), Entry("in-north", Money(-10, "EUR"))),
        T0,
    )
    assert refused(Ledger.open(ACCOUNTS), mixed) == "entries"


def test_two_currencies_each_balanced_post_together() -> None:
    both = Transaction(
        "x",
        TransactionKind.CONTRIBUTION,
        (
            Entry("fund", usd(10)),
            Entry("in-north", usd(-10)),
            Entry("fund", Money(7, "JPY")),
            Entry("in-north", Money(-7, "JPY")),
        ),
        T0,
    )
    ledger = post(Ledger.open(ACCOUNTS), both)
    assert ledger.balances()["fund"] == {"USD": 10, "JPY": 7}
    assert both.amount("JPY") == 7


def test_single_entry_transaction_is_refused() -> None:
    lonely = tx("x", TransactionKind.CONTRIBUTION, ("fund", 10))
    assert refused(Ledger.open(ACCOUNTS), lonely) == "entries"


def test_same_account_twice_in_one_currency_is_refused() -> None:
    twice = tx("x", TransactionKind.TRANSFER, ("g-north", 5), ("g-north", -5), decision_ref="d")
    assert refused(funded(), twice) == "entries"


def test_unknown_account_is_refused() -> None:
    ghost = tx("x", TransactionKind.CONTRIBUTION, ("fund", 5), ("nowhere", -5))
    assert refused(Ledger.open(ACCOUNTS), ghost) == "account_id"


def test_transaction_ids_are_unique() -> None:
    again = contribution("c1", fund=FUND, contributor=SOUTH_IN, money=usd(5), at=T0)
    assert refused(funded(), again) == "id"


def test_back_dating_is_refused_but_same_instant_is_fine() -> None:
    ledger = funded()
    earlier = contribution(
        "c2", fund=FUND, contributor=SOUTH_IN, money=usd(5), at=T0 - timedelta(seconds=1)
    )
    assert refused(ledger, earlier) == "at"
    same = contribution("c3", fund=FUND, contributor=SOUTH_IN, money=usd(5), at=T0)
    assert len(post(ledger, same).transactions) == 2


def test_fund_and_group_accounts_may_not_go_negative() -> None:
    ledger = funded(100)
    too_much = disbursement(
        "d", source=FUND, recipient=PAID, money=usd(101), at=T0, decision_ref="x"
    )
    assert refused(ledger, too_much) == "amount"
    from_empty_group = disbursement(
        "d", source=NORTH, recipient=PAID, money=usd(1), at=T0, decision_ref="x"
    )
    assert refused(ledger, from_empty_group) == "amount"


def test_charter_may_let_a_group_account_go_negative() -> None:
    overdraft = Account.group("g-west", "west", may_go_negative=True)
    ledger = funded().with_account(overdraft)
    spend = disbursement(
        "d", source=overdraft, recipient=PAID, money=usd(50), at=T0, decision_ref="x"
    )
    assert post(ledger, spend).balance("g-west", "USD") == -50


def test_disbursement_and_transfer_need_a_decision() -> None:
    ledger = funded()
    unauthorised = tx("d", TransactionKind.DISBURSEMENT, ("paid", 5), ("fund", -5))
    assert refused(ledger, unauthorised) == "decision_ref"
    unauthorised = tx("t", TransactionKind.TRANSFER, ("g-south", 5), ("g-north", -5))
    assert refused(ledger, unauthorised) == "decision_ref"


def test_only_reversals_may_reverse() -> None:
    sneaky = tx("x", TransactionKind.CONTRIBUTION, ("fund", 5), ("in-north", -5), reverses="c1")
    assert refused(funded(), sneaky) == "reverses"


@pytest.mark.parametrize(
    ("kind", "debit", "credit"),
    [
        (TransactionKind.CONTRIBUTION, "g-north", "in-north"),
        (TransactionKind.CONTRIBUTION, "fund", "g-north"),
        (TransactionKind.DISBURSEMENT, "fund", "g-north"),
        (TransactionKind.DISBURSEMENT, "in-south", "fund"),
        (TransactionKind.TRANSFER, "paid", "fund"),
    ],
)
def test_each_kind_moves_money_only_along_its_flow(
    kind: TransactionKind, debit: str, credit: str
) -> None:
    wrong = tx("x", kind, (debit, 5), (credit, -5), decision_ref="d")
    assert refused(funded(), wrong) == "entries"


def test_posting_refuses_non_transactions() -> None:
    with pytest.raises(LedgerError):
        post(funded(), "c2")  # type: ignore[arg-type]


def test_balances_may_not_grow_absurd() -> None:
    ledger = funded(MAX_AMOUNT)
    more = contribution("c2", fund=FUND, contributor=SOUTH_IN, money=usd(1), at=T0)
    with pytest.raises(LedgerError, match="absurd amount"):
        post(ledger, more)


# --- reversals ------------------------------------------------------------------------


def test_reversal_restores_balances_and_references_the_original() -> None:
    ledger = funded(1_000)
    grant = disbursement(
        "d1", source=FUND, recipient=NORTH, money=usd(300), at=T0, decision_ref="x"
    )
    after_grant = post(ledger, grant)
    undo = reversal(grant, id="r1", at=T0 + timedelta(days=1), memo_ref="memo-7")
    undone = post(after_grant, undo)
    assert undo.reverses == "d1" and undo.kind is TransactionKind.REVERSAL
    assert undone.balance("fund", "USD") == 1_000
    assert undone.balance("g-north", "USD") == 0
    assert undone.is_reversed("d1") and not ledger.is_reversed("d1")


def test_a_transaction_is_reversed_only_once() -> None:
    ledger = funded()
    original = ledger.transactions[0]
    ledger = post(ledger, reversal(original, id="r1", at=T0))
    assert refused(ledger, reversal(original, id="r2", at=T0)) == "reverses"


def test_a_reversal_cannot_be_reversed() -> None:
    ledger = funded()
    undo = reversal(ledger.transactions[0], id="r1", at=T0)
    ledger = post(ledger, undo)
    with pytest.raises(LedgerError) as info:
        reversal(undo, id="r2", at=T0)
    assert info.value.field == "reverses"
    forged = Transaction(
        "r2", TransactionKind.REVERSAL, tuple(Entry(e.account_id, -e.money) for e in undo.entries),
        T0, reverses="r1",
    )  # fmt: skip
    assert refused(ledger, forged) == "reverses"


def test_reversal_must_name_an_existing_original() -> None:
    ledger = funded()
    nameless = tx("r", TransactionKind.REVERSAL, ("fund", -5), ("in-north", 5))
    assert refused(ledger, nameless) == "reverses"
    ghost = tx("r", TransactionKind.REVERSAL, ("fund", -5), ("in-north", 5), reverses="nope")
    assert refused(ledger, ghost) == "reverses"


def test_reversal_must_negate_exactly() -> None:
    ledger = funded(100)
    partial = tx("r", TransactionKind.REVERSAL, ("fund", -50), ("in-north", 50), reverses="c1")
    assert refused(ledger, partial) == "entries"


def test_reversal_that_would_overdraw_is_refused() -> None:
    ledger = funded(100)
    ledger = post(
        ledger,
        disbursement("d", source=FUND, recipient=PAID, money=usd(100), at=T0, decision_ref="x"),
    )
    assert refused(ledger, reversal(ledger.transactions[0], id="r", at=T0)) == "amount"


# --- history and reports --------------------------------------------------------------


def history() -> Ledger:
    ledger = Ledger.open(ACCOUNTS)
    steps = [
        contribution("c1", fund=FUND, contributor=NORTH_IN, money=usd(1_000), at=T0),
        contribution(
            "c2", fund=FUND, contributor=SOUTH_IN, money=Money(500, "JPY"),
            at=T0 + timedelta(days=1),
        ),
        disbursement(
            "d1", source=FUND, recipient=NORTH, money=usd(400), at=T0 + timedelta(days=40),
            decision_ref="dec-1",
        ),
        contribution(
            "c3", fund=FUND, contributor=SOUTH_IN, money=usd(250), at=T0 + timedelta(days=100)
        ),
    ]  # fmt: skip
    for step in steps:
        ledger = post(ledger, step)
    return ledger


def test_balances_of_a_history_match_the_ledger() -> None:
    ledger = history()
    assert balances(ledger.transactions) == ledger.balances()
    assert Ledger.replay(ACCOUNTS, ledger.transactions) == ledger


def test_balance_history_lists_each_movement() -> None:
    points = balance_history(history().transactions, "fund", "USD")
    assert [amount for _, amount in points] == [1_000, 600, 850]
    assert points[0][0] == T0
    assert balance_history(history().transactions, "fund", "JPY") == [(T0 + timedelta(days=1), 500)]


def test_statement_has_opening_lines_and_closing_per_currency() -> None:
    txs = history().transactions
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=100)
    result = statement(txs, "fund", start, end)
    usd_part = result.for_currency("USD")
    assert usd_part.opening == 1_000
    assert [(line.transaction_id, line.amount, line.balance) for line in usd_part.lines] == [
        ("d1", -400, 600)
    ]
    assert usd_part.closing == 600
    jpy_part = result.for_currency("JPY")
    assert (jpy_part.opening, jpy_part.closing, len(jpy_part.lines)) == (0, 500, 1)
    assert [part.currency for part in result.currencies] == ["JPY", "USD"]
    assert result.for_currency("EUR") == CurrencyStatement("EUR", 0, (), 0)


def test_statement_period_must_be_ordered_and_aware() -> None:
    with pytest.raises(LedgerError) as info:
        statement([], "fund", T0, T0 - timedelta(days=1))
    assert info.value.field == "end"
    with pytest.raises(LedgerError) as info:
        statement([], "fund", datetime(2024, 1, 1), T0)  # noqa: DTZ001
    assert info.value.field == "start"


def test_monthly_totals_fill_empty_months_with_zero() -> None:
    txs = history().transactions
    assert monthly_totals(txs, TransactionKind.CONTRIBUTION, "USD") == [
        (2024, 1, 1_000),
        (2024, 2, 0),
        (2024, 3, 0),
        (2024, 4, 250),
    ]
    assert monthly_totals(txs, TransactionKind.DISBURSEMENT, "USD") == [(2024, 2, 400)]
    assert monthly_totals(txs, TransactionKind.TRANSFER, "USD") == []


def test_monthly_totals_cross_the_year() -> None:
    ledger = Ledger.open(ACCOUNTS)
    for n, when in enumerate([datetime(2023, 12, 5, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)]):
        ledger = post(
            ledger, contribution(f"c{n}", fund=FUND, contributor=NORTH_IN, money=usd(10), at=when)
        )
    assert monthly_totals(ledger.transactions, TransactionKind.CONTRIBUTION, "USD") == [
        (2023, 12, 10),
        (2024, 1, 0),
        (2024, 2, 10),
    ]
    with pytest.raises(LedgerError):
        monthly_totals(ledger.transactions, TransactionKind.CONTRIBUTION, "usd")


def test_check_invariants_of_a_sound_history_is_empty() -> None:
    assert check_invariants(ACCOUNTS, history().transactions) == []


def test_check_invariants_reports_every_bad_transaction_and_carries_on() -> None:
    txs = list(history().transactions)
    bad_balance = tx(
        "z1",
        TransactionKind.CONTRIBUTION,
        ("fund", 5),
        ("in-north", -4),
        at=T0 + timedelta(days=200),
    )
    backdated = contribution("z2", fund=FUND, contributor=NORTH_IN, money=usd(1), at=T0)
    good = contribution(
        "z3", fund=FUND, contributor=NORTH_IN, money=usd(1), at=T0 + timedelta(days=300)
    )
    problems = check_invariants([*ACCOUNTS, FUND], [*txs, bad_balance, backdated, good, txs[0]])
    assert problems == [
        "account fund: account 'fund' already exists",
        "transaction 4 (z1): unbalanced in USD",
        "transaction 5 (z2): the ledger is append-only: this is earlier than the last transaction",
        "transaction 7 (c1): transaction id 'c1' is already used",
    ]


# --- payloads for the hash chain ------------------------------------------------------


def test_payload_round_trips_and_joins_the_decision_log() -> None:
    for original in history().transactions:
        payload = to_payload(original)
        assert from_payload(json.loads(json.dumps(payload))) == original
    undo = reversal(history().transactions[0], id="r1", at=T0, memo_ref="m")
    assert from_payload(to_payload(undo)) == undo
    log: list[decisions_log.Record] = []
    for transaction in history().transactions:
        log.append(decisions_log.append(log, "fund", to_payload(transaction)))
    assert decisions_log.verify(log).ok


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"id": "x", "kind": "gift", "entries": [], "at": "2024-01-01T00:00:00+00:00"},
        {"entries": 3},
    ],
)
def test_malformed_payload_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(LedgerError) as info:
        from_payload(payload)
    assert info.value.field == "payload"


# --- properties -----------------------------------------------------------------------

CURRENCIES = ("USD", "JPY", "KWD")
POOL = (FUND, NORTH, SOUTH, NORTH_IN, SOUTH_IN, PAID)
amounts = st.integers(1, 5_000)


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Return a random script of operations, valid and invalid alike."""
    ops: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 25))):
        op = draw(
            st.sampled_from(
                ["contribute", "disburse", "pay", "transfer", "reverse", "junk", "backdate", "dup"]
            )
        )
        ops.append(
            (
                op,
                (
                    draw(st.sampled_from(CURRENCIES)),
                    draw(amounts),
                    draw(st.integers(0, 3)),  # minutes to advance
                    draw(st.integers(0, 1_000)),  # picks among accounts / transactions
                ),
            )
        )
    return ops


def make(op: str, args: Any, ledger: Ledger, n: int, now: datetime) -> Transaction:
    currency, amount, _, pick = args
    money = Money(amount, currency)
    groups = (NORTH, SOUTH)
    group = groups[pick % 2]
    if op == "contribute":
        contributor = (NORTH_IN, SOUTH_IN)[pick % 2]
        return contribution(f"t{n}", fund=FUND, contributor=contributor, money=money, at=now)
    if op == "disburse":
        return disbursement(
            f"t{n}", source=FUND, recipient=group, money=money, at=now, decision_ref="d"
        )
    if op == "pay":
        return disbursement(
            f"t{n}", source=group, recipient=PAID, money=money, at=now, decision_ref="d"
        )
    if op == "transfer":
        return transfer(
            f"t{n}", from_group=group, to_group=groups[1 - pick % 2], money=money, at=now,
            decision_ref="d",
        )  # fmt: skip
    if op == "reverse" and ledger.transactions:
        original = ledger.transactions[pick % len(ledger.transactions)]
        if original.kind is not TransactionKind.REVERSAL:
            return reversal(original, id=f"t{n}", at=now)
    if op == "backdate":
        return contribution(
            f"t{n}", fund=FUND, contributor=NORTH_IN, money=money, at=now - timedelta(hours=1)
        )
    if op == "dup" and ledger.transactions:
        taken = ledger.transactions[pick % len(ledger.transactions)].id
        return contribution(taken, fund=FUND, contributor=NORTH_IN, money=money, at=now)
    # Junk: two random accounts, unbalanced by one minor unit half of the time.
    a, b = POOL[pick % 6], POOL[(pick // 6) % 6]
    off = pick % 2
    return Transaction(
        f"t{n}", TransactionKind(("contribution", "transfer")[pick % 2]),
        (Entry(a.id, money), Entry(b.id, Money(-amount + off, currency))) if off or a != b
        else (Entry(a.id, money),),
        now, decision_ref="d" if pick % 3 else None,
    )  # fmt: skip


def assert_invariants(ledger: Ledger) -> None:
    assert check_invariants(ACCOUNTS, ledger.transactions) == []
    totals: dict[str, int] = {}
    for account_id, per_currency in ledger.balances().items():
        for currency, amount in per_currency.items():
            totals[currency] = totals.get(currency, 0) + amount
            account = next(a for a in ACCOUNTS if a.id == account_id)
            assert amount >= 0 or account.may_go_negative
    assert all(total == 0 for total in totals.values())
    assert balances(ledger.transactions) == ledger.balances()
    times = [t.at for t in ledger.transactions]
    assert times == sorted(times)
    assert len({t.id for t in ledger.transactions}) == len(ledger.transactions)


@settings(max_examples=150, deadline=None)
@given(operations())
def test_random_operations_never_break_the_invariants(ops: list[tuple[str, Any]]) -> None:
    ledger = Ledger.open(ACCOUNTS)
    now = T0
    for n, (op, args) in enumerate(ops):
        now += timedelta(minutes=args[2])
        try:
            transaction = make(op, args, ledger, n, now)
        except LedgerError:
            continue
        before = ledger
        snapshot = (before.transactions, before.balances())
        try:
            ledger = post(ledger, transaction)
        except LedgerError as exc:
            assert exc.field is not None
            assert (before.transactions, before.balances()) == snapshot
        else:
            assert ledger.transactions[-1] is transaction
        assert_invariants(ledger)


@settings(deadline=None)
@given(operations(), st.data())
def test_balances_equal_the_sum_of_statement_lines(ops: list[tuple[str, Any]], data: Any) -> None:
    ledger = Ledger.open(ACCOUNTS)
    now = T0
    for n, (op, args) in enumerate(ops):
        now += timedelta(minutes=args[2])
        try:
            ledger = post(ledger, make(op, args, ledger, n, now))
        except LedgerError:
            continue
    cut = T0 + timedelta(minutes=data.draw(st.integers(0, 80)))
    dawn, far = T0 - timedelta(days=1), T0 + timedelta(days=1)
    for account in ACCOUNTS:
        for currency in CURRENCIES:
            whole = statement(ledger.transactions, account.id, dawn, far).for_currency(currency)
            expected = ledger.balance(account.id, currency)
            assert whole.opening == 0
            assert whole.closing == sum(line.amount for line in whole.lines) == expected
            first = statement(ledger.transactions, account.id, dawn, cut).for_currency(currency)
            rest = statement(ledger.transactions, account.id, cut, far).for_currency(currency)
            assert rest.opening == first.closing
            assert rest.closing == expected
            history_points = balance_history(ledger.transactions, account.id, currency)
            assert (history_points[-1][1] if history_points else 0) == expected


@given(st.lists(st.tuples(st.sampled_from(CURRENCIES), amounts), min_size=1, max_size=12))
def test_reversing_everything_restores_zero_balances(moves: list[tuple[str, int]]) -> None:
    ledger = Ledger.open(ACCOUNTS)
    for n, (currency, amount) in enumerate(moves):
        ledger = post(
            ledger,
            contribution(
                f"c{n}", fund=FUND, contributor=NORTH_IN, money=Money(amount, currency), at=T0
            ),
        )
    for original in reversed(ledger.transactions):
        ledger = post(ledger, reversal(original, id=f"r-{original.id}", at=T0))
    assert all(v == 0 for per in ledger.balances().values() for v in per.values())


@given(
    st.lists(
        st.tuples(st.sampled_from(CURRENCIES), amounts, st.booleans()), min_size=1, max_size=15
    )
)
def test_currencies_are_independent(moves: list[tuple[str, int, bool]]) -> None:
    ledger = Ledger.open(ACCOUNTS)
    only: dict[str, Ledger] = {c: Ledger.open(ACCOUNTS) for c in CURRENCIES}
    for n, (currency, amount, out) in enumerate(moves):
        money = Money(amount, currency)
        if out:
            step = disbursement(
                f"t{n}", source=FUND, recipient=PAID, money=money, at=T0, decision_ref="d"
            )
        else:
            step = contribution(f"t{n}", fund=FUND, contributor=NORTH_IN, money=money, at=T0)
        try:
            ledger = post(ledger, step)
        except LedgerError:
            with pytest.raises(LedgerError):
                post(only[currency], step)
            continue
        only[currency] = post(only[currency], step)
    for currency in CURRENCIES:
        for account in ACCOUNTS:
            assert ledger.balance(account.id, currency) == only[currency].balance(
                account.id, currency
            )


# --- resuming from stored totals; what authorises a payment -------------------------------


def test_a_ledger_resumed_from_stored_totals_accepts_and_refuses_as_the_replayed_one() -> None:
    history = funded(5_000)
    resumed = Ledger.resume(
        ACCOUNTS,
        {(a, c): v for a, per in history.balances().items() for c, v in per.items()},
        last=history.transactions[-1],
    )
    pay = disbursement(
        "d1", source=FUND, recipient=NORTH, money=usd(4_000), at=T0, decision_ref="federation/0/x"
    )
    assert post(resumed, pay).balance("g-north", "USD") == post(history, pay).balance(
        "g-north", "USD"
    )
    too_much = dataclasses.replace(pay, id="d2", entries=pay.entries)
    after = post(resumed, pay)
    with pytest.raises(LedgerError, match="negative"):
        post(after, too_much)
    earlier = dataclasses.replace(pay, id="d3", at=T0 - timedelta(seconds=1))
    with pytest.raises(LedgerError, match="append-only"):
        post(resumed, earlier)


def test_a_resumed_ledger_knows_what_was_reversed() -> None:
    history = funded(5_000)
    original = history.transactions[-1]
    resumed = Ledger.resume(ACCOUNTS, {}, last=original, reversed_ids={original.id})
    with pytest.raises(LedgerError, match="already reversed"):
        post(resumed, reversal(original, id="r1", at=T0))


def _authority(**overrides: Any) -> Authority:
    values: dict[str, Any] = {
        "adopted": True,
        "power": Power.DISBURSE,
        "scope": Scope.FEDERATION,
        "group": None,
        "grants": usd(500),
        "grantee": "north",
    }
    values.update(overrides)
    return Authority(**values)


def test_an_adopted_disbursement_decision_pays_what_it_granted_to_who_asked() -> None:
    authorise(
        TransactionKind.DISBURSEMENT, usd(500), authority=_authority(), recipient_group="north"
    )
    small = _authority(power=Power.DISBURSE_SMALL)
    authorise(TransactionKind.DISBURSEMENT, usd(500), authority=small, recipient_group="north")


@pytest.mark.parametrize(
    ("authority", "money", "recipient", "reason"),
    [
        ({"adopted": False}, 500, "north", "only an adopted decision"),
        ({"power": None}, 500, "north", "cannot authorise a disbursement"),
        ({"power": Power.ADMIT_GROUP}, 500, "north", "cannot authorise a disbursement"),
        ({"grants": None, "grantee": None}, 500, "north", "not linked to a request"),
        ({}, 501, "north", "pays what the decision granted"),
        ({}, 500, "south", "pays what the decision granted"),
    ],
)
def test_a_disbursement_without_the_right_decision_is_refused(
    authority, money, recipient, reason
) -> None:
    with pytest.raises(LedgerError, match=reason):
        authorise(
            TransactionKind.DISBURSEMENT,
            usd(money),
            authority=_authority(**authority),
            recipient_group=recipient,
        )


def test_a_transfer_rests_on_the_giving_groups_decision_with_the_power_to_transfer() -> None:
    own = _authority(power=Power.TRANSFER, scope=Scope.GROUP, group="north", grants=None)
    authorise(
        TransactionKind.TRANSFER,
        usd(10),
        authority=own,
        recipient_group="south",
        payer_group="north",
    )
    with pytest.raises(LedgerError, match="giving group"):
        authorise(
            TransactionKind.TRANSFER,
            usd(10),
            authority=own,
            recipient_group="north",
            payer_group="south",
        )
    plain = dataclasses.replace(own, power=None)
    with pytest.raises(LedgerError, match="cannot authorise a transfer"):
        authorise(
            TransactionKind.TRANSFER,
            usd(10),
            authority=plain,
            recipient_group="south",
            payer_group="north",
        )
    with pytest.raises(LedgerError, match="needs no decision"):
        authorise(TransactionKind.CONTRIBUTION, usd(10), authority=own, recipient_group="north")
