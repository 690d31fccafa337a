"""Bad input and forged posts: a clear reason, a 4xx, and nothing stored."""

from __future__ import annotations

import pytest
from fund_steps import contribute, counts, post, request_money, text

from veche.apps.fund.models import Entry, FundTransaction
from veche.apps.proposals.services import create_proposal, respond
from veche.domain.consensus import Position

pytestmark = pytest.mark.django_db


@pytest.fixture
def coord(federation, group_a, make_member, client_for):
    member = make_member(group_a, "coral", coordinator=True)
    return member, client_for(member)


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        ("-5", "EUR", "more than zero"),
        ("0", "EUR", "more than zero"),
        ("0.00", "EUR", "more than zero"),
        ("1e40", "EUR", "as a number"),
        ("1e3", "EUR", "as a number"),
        ("１２", "EUR", "as a number"),
        ("1,000", "EUR", "can be read as 1\u202f000.00 EUR or as 1.00 EUR"),
        ("99999999999999999999", "EUR", "absurd"),
        ("1.005", "EUR", "2 decimal places"),
        ("1.5", "JPY", "0 decimal places"),
        ("ten", "EUR", "as a number"),
        ("NaN", "EUR", "as a number"),
        ("Infinity", "EUR", "as a number"),
        ("", "EUR", "amount"),
        ("10", "XYZ", "not an active ISO 4217"),
        ("10", "XAU", "not an active ISO 4217"),
        ("10", "E", "currency"),
    ],
)
def test_bad_amounts_and_currencies_are_refused_with_a_reason(coord, amount, currency, reason):
    _, client = coord
    before = counts()
    for url, extra in (
        ("/fund/contribute/", {}),
        ("/fund/requests/money/", {"purpose": "Rent"}),
    ):
        response = post(client, url, {"amount": amount, "currency": currency, **extra})
        assert response.status_code == 400, (url, amount, currency)
        assert reason in text(response), text(response)[:2000]
    assert counts() == before


def test_the_same_form_submitted_twice_is_stored_once(coord):
    _, client = coord
    data = {"amount": "10", "currency": "EUR", "memo": "", "token": "tok-" + "a" * 20}
    assert client.post("/fund/contribute/", data).status_code == 302
    before = counts()
    again = client.post("/fund/contribute/", data)
    assert again.status_code == 400 and "already submitted" in text(again)
    assert counts() == before
    missing = client.post("/fund/contribute/", {"amount": "10", "currency": "EUR"})
    assert missing.status_code == 400 and counts() == before
    odd = client.post("/fund/contribute/", {**data, "token": "<script>"})
    assert odd.status_code == 400 and counts() == before


def test_only_a_coordinator_contributes_or_asks(group_a, make_member, client_for, federation):
    client = client_for(make_member(group_a, "ada"))
    before = counts()
    for url in ("/fund/contribute/", "/fund/requests/money/", "/fund/requests/help/"):
        response = post(client, url, {"amount": "5", "currency": "EUR", "purpose": "x"})
        assert response.status_code == 400 and "only a coordinator" in text(response)
    assert counts() == before


def test_forged_disbursements_are_refused(federation, group_a, group_b, make_member, client_for):
    ca = make_member(group_a, "coral", coordinator=True)
    cb = make_member(group_b, "bianca", coordinator=True)
    a, b = client_for(ca), client_for(cb)
    contribute(a, "1000")
    rid = request_money(b, "10", "EUR", "Leaflets")
    before = counts()

    # Without a decision, with nonsense, with a proposal that does not exist.
    for data in (
        {},
        {"decision": ""},
        {"decision": "abc"},
        {"decision": "-1"},
        {"decision": 99999},
    ):
        response = post(a, "/fund/disburse/", data)
        assert response.status_code == 400, data
    # A decision that is not adopted yet (the request's own proposal, still open).
    from veche.apps.fund.models import SupportRequest

    pid = SupportRequest.objects.get(pk=rid).proposal_id
    assert "not been decided" in text(post(a, "/fund/disburse/", {"decision": pid}))
    # Someone else's adopted decision: a group's own decision about its practice.
    own = create_proposal(author=ca, kind_key="group-practice", title="Keys", body="Keys.")
    respond(row=own, member=ca, position=Position.AGREE, version=1)
    forged = post(a, "/fund/disburse/", {"decision": own.pk})
    # Not a disbursement decision: answered as if it did not exist (no oracle).
    assert forged.status_code == 400 and "no such decision" in text(forged)
    # An adopted disbursement decision with no request for money behind it.
    bare = create_proposal(author=ca, kind_key="disbursement", title="Pay me", body="Pay.")
    from veche.apps.proposals.services import carry_group_position

    carry_group_position(row=bare, coordinator=ca, position=Position.AGREE)
    carry_group_position(row=bare, coordinator=cb, position=Position.AGREE)
    unlinked = post(a, "/fund/disburse/", {"decision": bare.pk})
    assert unlinked.status_code == 400 and "not linked to a request" in text(unlinked)
    # A member who is not a coordinator cannot pay even a real one.
    assert counts()[1:3] == before[1:3]
    assert not FundTransaction.objects.filter(kind="disbursement").exists()
    assert Entry.objects.count() == 2


def test_stored_transactions_cannot_be_changed_or_deleted(coord):
    from django.db import IntegrityError, connection, transaction

    from veche.apps.fund.models import AppendOnly

    _, client = coord
    contribute(client, "10")
    row = FundTransaction.objects.get()
    with pytest.raises(AppendOnly):
        row.save()
    with pytest.raises(AppendOnly):
        row.delete()
    with pytest.raises(AppendOnly):
        Entry.objects.first().save()
    # Below the models, the database refuses too.
    with pytest.raises(Exception) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE fund_entry SET amount = amount * 2")
    assert "append-only" in str(caught.value) or isinstance(caught.value, IntegrityError)
    assert Entry.objects.filter(amount=1000).count() == 1


def test_payment_forms_tell_nothing_about_other_groups_proposals(
    federation, group_a, group_b, make_member, client_for
):
    """Whatever another group's proposal is (open, adopted, a draft, a secret vote), a
    coordinator of this group gets the answer a nonexistent one gets."""
    from veche.apps.proposals import services as proposals

    ca = make_member(group_a, "coral", coordinator=True)
    cb = make_member(group_b, "bianca", coordinator=True)
    others = [
        proposals.create_proposal(author=cb, kind_key="group-practice", title="B open", body="x"),
        proposals.create_proposal(
            author=cb, kind_key="group-practice", title="B draft", body="x", draft=True
        ),
    ]
    a = client_for(ca)
    answers = set()
    for pid in [*(p.pk for p in others), 999_999]:
        for url, extra in (("/fund/transfer/", {"to_group": group_b.pk, "amount": "1",
                                                "currency": "EUR"}),
                           ("/fund/disburse/", {})):  # fmt: skip
            response = post(a, url, {"decision": pid, **extra})
            assert response.status_code == 400
            answers.add("no such decision" in text(response))
    assert answers == {True}
