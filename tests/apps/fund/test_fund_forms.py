"""The fund's forms: amounts in the member's language, refusals that keep what was typed
and say what to do, and action URLs that lead back to their forms."""

from __future__ import annotations

import html

import pytest
from fund_steps import contribute, counts, post, request_money, text

from veche.apps.fund.models import Entry, FundTransaction, SupportRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def coord(federation, group_a, make_member, client_for):
    return client_for(make_member(group_a, "coral", coordinator=True))


def _in(client, language: str):
    switched = client.post("/i18n/setlang/", {"language": language, "next": "/fund/"})
    assert switched.status_code == 302
    return client


def _contributed() -> list[int]:
    return sorted(
        Entry.objects.filter(account__key="fund", transaction__kind="contribution").values_list(
            "amount", flat=True
        )
    )


@pytest.mark.parametrize(
    ("language", "typed"),
    [("ru", "1 000,50"), ("uk", "1 000,50"), ("en", "1,000.50"), ("ru", "1\u00a0000,50"),
     ("en", "1 000.50"), ("ru", "1000.50"), ("en", "1000,50")],
)  # fmt: skip
def test_an_amount_is_read_as_the_members_language_writes_it(coord, language, typed):
    response = contribute(_in(coord, language), typed)
    assert response.status_code == 302, text(response)
    assert _contributed() == [100050]


@pytest.mark.parametrize(
    ("language", "typed", "readings"),
    [
        ("ru", "1,000", ("1\u202f000,00 EUR", "1,00 EUR")),
        ("uk", "1.000", ("1\u202f000,00 EUR", "1,00 EUR")),
        ("en", "1,000", ("1\u202f000.00 EUR", "1.00 EUR")),
        ("en", "25.500", ("25\u202f500.00 EUR", "25.50 EUR")),
        ("ru", "1,234", ("1\u202f234,00 EUR", "1,234 EUR")),
    ],
)
def test_an_ambiguous_amount_is_refused_with_both_readings(coord, language, typed, readings):
    before = counts()
    response = contribute(_in(coord, language), typed)
    assert response.status_code == 400
    page = html.unescape(text(response))
    for reading in readings:
        assert page.count(reading) == 1, (reading, page[page.find("errorlist") :][:600])
    assert counts() == before


def test_a_refused_amount_is_said_once_and_what_was_typed_stays(coord):
    before = counts()
    response = post(coord, "/fund/contribute/",
                    {"amount": "12.505", "currency": "EUR", "memo": "Dues for March"})  # fmt: skip
    assert response.status_code == 400
    page = html.unescape(text(response))
    assert page.count("EUR has 2 decimal places at most") == 1
    assert 'id="c-amount" name="amount"' in page and 'value="12.505"' in page
    assert 'value="Dues for March"' in page and 'value="EUR"' in page
    assert "Amount: " in page  # the reason is named by the field's label
    # The other forms are left empty, and the top of the page points at the form.
    assert page.count('value="12.505"') == 1
    assert 'href="#form-contribute"' in page
    assert counts() == before


def test_every_fund_form_keeps_what_was_typed(
    federation, group_a, group_b, make_member, client_for
):
    client = client_for(make_member(group_a, "coral", coordinator=True))
    make_member(group_b, "bianca", coordinator=True)
    typed = {"amount": "ten", "currency": "EUR", "purpose": "Rent for the office"}
    money = post(client, "/fund/requests/money/", typed)
    assert money.status_code == 400
    assert ">Rent for the office</textarea>" in text(money)
    assert "write the amount as a number, like 1\u202f234.50" in html.unescape(text(money))
    transfer = post(client, "/fund/transfer/", {"to_group": group_b.pk, "amount": "5",
                                                 "currency": "EUR", "decision": "777",
                                                 "memo": "For the oven"})  # fmt: skip
    assert transfer.status_code == 400
    page = html.unescape(text(transfer))
    assert f'<option value="{group_b.pk}" selected>' in page
    assert 'value="777"' in page and 'value="For the oven"' in page
    assert "no such decision" in page


def test_an_answer_that_is_refused_keeps_its_text(
    federation, group_a, group_b, make_member, client_for
):
    a = client_for(make_member(group_a, "coral", coordinator=True))
    b = client_for(make_member(group_b, "bianca", coordinator=True))
    asked = post(a, "/fund/requests/help/", {"purpose": "How do we register?"})
    rid = int(asked["Location"].rstrip("/").rsplit("/", 1)[1])
    assert post(a, f"/fund/requests/{rid}/close/", {}).status_code == 302
    late = post(b, f"/fund/requests/{rid}/answer/", {"text": "At the registry, on Mondays."})
    assert late.status_code == 400
    # Closed: the answer form is gone, and the refusal says why; nothing was stored.
    page = html.unescape(text(late))
    assert "this request is closed" in page


def test_an_answer_too_long_is_refused_and_kept(
    federation, group_a, group_b, make_member, client_for
):
    a = client_for(make_member(group_a, "coral", coordinator=True))
    b = client_for(make_member(group_b, "bianca", coordinator=True))
    asked = post(a, "/fund/requests/help/", {"purpose": "How do we register?"})
    rid = int(asked["Location"].rstrip("/").rsplit("/", 1)[1])
    long = "x" * 4001
    refused = post(b, f"/fund/requests/{rid}/answer/", {"text": long})
    assert refused.status_code == 400
    assert f">{long}</textarea>" in text(refused)
    assert "Your answer" in html.unescape(text(refused))


@pytest.mark.parametrize(
    "url",
    ["/fund/contribute/", "/fund/requests/money/", "/fund/requests/help/", "/fund/transfer/",
     "/fund/disburse/"],
)  # fmt: skip
def test_opening_a_fund_action_leads_back_to_the_fund(coord, url):
    before = counts()
    response = coord.get(url)
    assert response.status_code == 302 and response["Location"] == "/fund/"
    assert coord.get(response["Location"]).status_code == 200
    assert counts() == before


def test_opening_an_answer_or_close_url_leads_back_to_the_request(
    federation, group_a, make_member, client_for
):
    client = client_for(make_member(group_a, "coral", coordinator=True))
    asked = post(client, "/fund/requests/help/", {"purpose": "How do we register?"})
    rid = int(asked["Location"].rstrip("/").rsplit("/", 1)[1])
    for what in ("answer", "close"):
        response = client.get(f"/fund/requests/{rid}/{what}/")
        assert response["Location"] == f"/fund/requests/{rid}/"
        assert client.get(f"/fund/requests/999999/{what}/").status_code == 404
    assert SupportRequest.objects.get(pk=rid).state == "open"


def test_paying_more_than_the_fund_holds_says_what_it_holds(
    federation, group_a, group_b, make_member, client_for
):
    from fund_steps import carry

    ca = make_member(group_a, "coral", coordinator=True)
    cb = make_member(group_b, "bianca", coordinator=True)
    a, b = client_for(ca), client_for(cb)
    contribute(a, "5")
    rid = request_money(b, "10", "EUR", "Leaflets")
    pid = SupportRequest.objects.get(pk=rid).proposal_id
    assert carry(a, pid, "agree").status_code == 302
    assert carry(b, pid, "agree").status_code == 302
    refused = post(a, "/fund/disburse/", {"decision": pid})
    assert refused.status_code == 400
    page = html.unescape(text(refused))
    # On the request's page, where the button is: the rule, the figures, what to do.
    assert "Leaflets" in page
    assert "the common fund holds 5.00 EUR, less than the 10.00 EUR decided" in page
    assert "once contributions cover it" in page
    assert not FundTransaction.objects.filter(kind="disbursement").exists()


def test_states_and_kinds_read_as_djangos_display_in_every_language() -> None:
    from django.utils import translation

    unknown = "a value no release wrote"
    for language in ("en", "ru", "uk"):
        with translation.override(language):
            for state in [*SupportRequest.State.values, unknown]:
                request = SupportRequest(state=state)
                assert str(request.state_label) == request.get_state_display()
            for kind in [*FundTransaction.Kind.values, unknown]:
                moved = FundTransaction(kind=kind)
                assert str(moved.kind_label) == moved.get_kind_display()
    with translation.override("ru"):
        assert str(SupportRequest(state="paid").state_label) != "paid"
