"""The fund through HTTP: contributions, a request decided by the federation, paying it."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from fund_steps import T0, at, carry, contribute, counts, post, request_money, text, token

from veche.apps.fund.models import FundTransaction, SupportRequest
from veche.apps.fund.selectors import load_ledger, verify_fund
from veche.apps.proposals.models import DecisionRecord

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def three(federation, group_a, group_b, make_group, make_member, client_for):
    gamma = make_group("Gamma")
    coords = {
        "a": make_member(group_a, "coral", coordinator=True),
        "b": make_member(group_b, "bianca", coordinator=True),
        "c": make_member(gamma, "cyrus", coordinator=True),
    }
    clients = {k: client_for(m) for k, m in coords.items()}
    return {"groups": {"a": group_a, "b": group_b, "c": gamma}, "coords": coords, "c": clients}


def test_two_groups_contribute_a_third_is_supported_by_consensus_and_the_books_agree(three, clock):
    c = three["c"]
    assert contribute(c["a"], "100.00", memo="spring collection").status_code == 302
    clock.move_to(at(minutes=1))
    assert contribute(c["b"], "250.55").status_code == 302
    clock.move_to(at(minutes=2))
    assert contribute(c["b"], "7000", currency="JPY").status_code == 302

    clock.move_to(at(hours=1))
    rid = request_money(c["c"], "120.25", "EUR", "Rent for the tenants' office")
    req = SupportRequest.objects.get(pk=rid)
    pid = req.proposal_id
    assert req.proposal.kind_key == "disbursement" and req.proposal.federation_wide
    assert "being decided" in text(c["c"].get(f"/fund/requests/{rid}/"))
    # Not yet decided: no one can pay it.
    early = post(c["a"], "/fund/disburse/", {"decision": pid})
    assert early.status_code == 400 and "not been decided" in text(early)

    for i, who in enumerate(("a", "b", "c")):
        clock.move_to(at(hours=2, minutes=i))
        response = carry(c[who], pid, "agree")
        assert response.status_code == 302, text(response)
    record = DecisionRecord.objects.get(proposal_id=pid)
    assert record.payload["outcome"] == "adopted" and record.payload["reached_by"] == "consensus"

    clock.move_to(at(hours=3))
    page = text(c["c"].get(f"/fund/requests/{rid}/"))
    assert "adopted, to be paid" in page and "Pay 120.25" in page
    paid = post(c["a"], "/fund/disburse/", {"decision": pid})
    assert paid.status_code == 302, text(paid)
    tx = FundTransaction.objects.get(kind="disbursement")
    assert tx.decision_id == record.pk and tx.request_id == rid
    assert SupportRequest.objects.get(pk=rid).state == "paid"
    again = post(c["b"], "/fund/disburse/", {"decision": pid})
    assert again.status_code == 400 and "already been paid" in text(again)

    led = load_ledger()
    gamma = three["groups"]["c"]
    assert led.balance("fund", "EUR") == 10000 + 25055 - 12025 == 23030
    assert led.balance("fund", "JPY") == 7000
    assert led.balance(f"group-{gamma.pk}", "EUR") == 12025
    page = text(c["a"].get("/fund/"))
    assert "230.30 EUR" in page and "7\u202f000 JPY" in page

    statement = text(c["c"].get("/fund/accounts/fund/?start=2030-01-01&end=2030-02-01"))
    plain = statement.replace("\u202f", "")
    assert "100.00 EUR" in plain and "250.55 EUR" in plain and "-120.25 EUR" in plain
    assert plain.count("230.30 EUR") == 2  # last line and closing balance
    before = text(c["c"].get("/fund/accounts/fund/?start=2030-01-07&end=2030-01-07"))
    assert "Nothing moved" in before
    group_statement = text(c["b"].get(f"/fund/accounts/group-{gamma.pk}/"))
    assert "120.25 EUR" in group_statement.replace("\u202f", "")

    ok, messages = verify_fund()
    assert ok, messages

    export = c["b"].get("/fund/export.csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert len(rows) == 8  # four transactions, two entries each
    by_tx: dict[str, int] = {}
    for row in rows:
        by_tx[(row["transaction"], row["currency"])] = by_tx.get(
            (row["transaction"], row["currency"]), 0
        ) + int(row["minor_units"])
    assert set(by_tx.values()) == {0}
    fund_eur = sum(
        int(r["minor_units"]) for r in rows if r["account"] == "fund" and r["currency"] == "EUR"
    )
    assert fund_eur == 23030
    pay = [r for r in rows if r["kind"] == "disbursement" and int(r["minor_units"]) > 0]
    assert pay[0]["amount"] == "120.25" and pay[0]["decision"].startswith("federation/")


def test_a_blocked_request_pays_nothing(three, clock):
    c = three["c"]
    contribute(c["a"], "500")
    rid = request_money(c["c"], "50", "EUR", "Printing")
    pid = SupportRequest.objects.get(pk=rid).proposal_id
    clock.move_to(at(minutes=5))
    assert carry(c["a"], pid, "agree").status_code == 302
    assert carry(c["b"], pid, "block", "We must not fund printing now").status_code == 302
    clock.move_to(at(days=8))  # the consensus period ends with the block standing
    page = text(c["c"].get(f"/fund/requests/{rid}/"))
    assert "not adopted" in page and "Pay " not in page
    before = counts()
    refused = post(c["c"], "/fund/disburse/", {"decision": pid})
    assert refused.status_code == 400
    assert "only an adopted decision" in text(refused)
    assert counts()[1:3] == before[1:3]
    assert load_ledger().balance("fund", "EUR") == 50000


def test_a_request_for_help_is_answered_by_other_groups_coordinators_without_names(
    three, make_member, client_for
):
    c = three["c"]
    response = post(c["c"], "/fund/requests/help/", {"purpose": "How do we run a rent strike?"})
    assert response.status_code == 302
    url = response["Location"]
    rid = int(url.rstrip("/").rsplit("/", 1)[1])
    own = post(c["c"], f"/fund/requests/{rid}/answer/", {"text": "ourselves"})
    assert own.status_code == 400
    ok = post(c["a"], f"/fund/requests/{rid}/answer/", {"text": "Start with a meeting."})
    assert ok.status_code == 302
    plain = make_member(three["groups"]["b"], "bert")
    refused = post(client_for(plain), f"/fund/requests/{rid}/answer/", {"text": "me too"})
    assert refused.status_code == 400 and "only a coordinator" in text(refused)
    page = text(c["b"].get(url))
    assert "A coordinator of Alpha" in page and "Start with a meeting." in page
    assert "coral" not in page and "cyrus" not in page  # no member names across groups
    assert post(c["c"], f"/fund/requests/{rid}/close/", {}).status_code == 302
    late = post(c["b"], f"/fund/requests/{rid}/answer/", {"text": "late"})
    assert late.status_code == 400


def test_a_group_transfers_to_another_only_on_its_own_adopted_decision(
    three, clock, make_member, client_for
):
    c = three["c"]
    contribute(c["a"], "300")
    rid = request_money(c["c"], "100", "EUR", "Stock")
    pid = SupportRequest.objects.get(pk=rid).proposal_id
    for who in ("a", "b", "c"):
        carry(c[who], pid, "agree")
    assert post(c["a"], "/fund/disburse/", {"decision": pid}).status_code == 302
    gamma, alpha = three["groups"]["c"], three["groups"]["a"]

    clock.move_to(at(hours=1))
    own = c["c"].post(
        "/proposals/new/",
        {"kind": "group-practice", "title": "Share with Alpha", "body": "Give Alpha 40."},
    )
    assert own.status_code == 302
    gpid = int(own["Location"].strip("/").split("/")[-1])
    data = {"to_group": alpha.pk, "amount": "40", "currency": "EUR", "decision": gpid}
    undecided = post(c["c"], "/fund/transfer/", data)
    assert undecided.status_code == 400
    assert (
        c["c"].post(f"/proposals/{gpid}/respond/", {"position": "agree", "version": 1}).status_code
        == 302
    )
    # The federation's disbursement decision is not the giving group's own.
    wrong = post(c["c"], "/fund/transfer/", {**data, "decision": pid})
    # Not the giving group's own decision: answered as if it did not exist.
    assert wrong.status_code == 400 and "no such decision" in text(wrong)
    # Another group's coordinator cannot use Gamma's decision.
    other = post(c["b"], "/fund/transfer/", data | {"to_group": gamma.pk})
    assert other.status_code == 400
    ok = post(c["c"], "/fund/transfer/", data)
    assert ok.status_code == 302, text(ok)
    twice = post(c["c"], "/fund/transfer/", data)
    assert twice.status_code == 400 and "already been used" in text(twice)
    led = load_ledger()
    assert led.balance(f"group-{gamma.pk}", "EUR") == 6000
    assert led.balance(f"group-{alpha.pk}", "EUR") == 4000
    assert verify_fund()[0]


def test_the_fund_page_and_statement_are_for_members_only(three, client):
    assert client.get("/fund/").status_code == 302
    assert client.get("/fund/export.csv").status_code == 302
    assert client.get("/fund/charts/balance-EUR.svg").status_code == 302
    assert three["c"]["a"].get("/fund/accounts/nope/").status_code == 404
    assert three["c"]["a"].get("/fund/requests/999/").status_code == 404
    assert token(three["c"]["a"])
