"""The fund within reach: members who cannot act are told whom to ask, and requests reach
the inboxes of the coordinators who can answer, pay or carry them."""

from __future__ import annotations

import html

import pytest
import time_machine
from fund_steps import T0, at, carry, contribute, post, request_money, text

from veche.apps.fund.models import AwaitingAnswer, SupportRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def three(federation, group_a, group_b, make_group, make_member, client_for):
    gamma = make_group("Gamma")
    people = {
        "a": make_member(group_a, "coral", coordinator=True),
        "a2": make_member(group_a, "ada"),
        "b": make_member(group_b, "bianca", coordinator=True),
        "b2": make_member(group_b, "bruno"),
        "c": make_member(gamma, "cyrus", coordinator=True),
    }
    return {key: client_for(member) for key, member in people.items()}


def _inbox(client) -> str:
    response = client.get("/inbox/")
    assert response.status_code == 200
    return text(response)


def _ask_help(client, purpose: str = "How do we register as a cooperative?") -> int:
    response = post(client, "/fund/requests/help/", {"purpose": purpose})
    assert response.status_code == 302, text(response)
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def test_a_member_who_is_not_a_coordinator_is_told_what_they_may_do_and_whom_to_ask(three):
    page = text(three["a2"].get("/fund/"))
    assert 'action="/fund/contribute/"' not in page
    assert "To do any of these, ask them:" in page
    assert "<strong>coral</strong>" in page
    # Their own group's coordinators only: another group's are never named.
    assert "bianca" not in page and "cyrus" not in page
    assert "What you can do here" in page
    coordinator_page = text(three["a"].get("/fund/"))
    assert 'action="/fund/contribute/"' in coordinator_page
    assert "To do any of these, ask them:" not in coordinator_page


def test_a_group_without_a_coordinator_is_told_how_to_choose_one(group_a, make_member, client_for):
    client = client_for(make_member(group_a, "ada"))
    page = text(client.get("/fund/"))
    assert "Your group has no coordinator at the moment" in page
    assert "/proposals/new/?kind=group-coordinator" in page


def test_a_request_for_help_waits_in_the_other_groups_coordinators_inboxes(three, clock):
    rid = _ask_help(three["a"])
    title = "Alpha asks for help and advice"
    assert title in _inbox(three["b"]) and title in _inbox(three["c"])
    assert f'href="/fund/requests/{rid}/"' in _inbox(three["b"])
    # Not the asking group's, nor members who do not coordinate.
    for key in ("a", "a2", "b2"):
        assert title not in _inbox(three[key]), key
    # A non-coordinator reading it is told who answers and whom to tell.
    page = text(three["b2"].get(f"/fund/requests/{rid}/"))
    assert "Coordinators of the other groups answer here" in page and "bianca" in page

    clock.move_to(at(minutes=5))
    answered = post(three["b"], f"/fund/requests/{rid}/answer/", {"text": "At the registry."})
    assert answered.status_code == 302
    assert title not in _inbox(three["b"])  # Beta has answered
    assert title in _inbox(three["c"])  # Gamma has not
    assert post(three["a"], f"/fund/requests/{rid}/close/", {}).status_code == 302
    assert title not in _inbox(three["c"])
    assert not AwaitingAnswer.objects.filter(request_id=rid).exists()


def test_a_request_for_money_reaches_every_coordinator_as_a_request_to_the_fund(three, clock):
    contribute(three["c"], "100")
    rid = request_money(three["a"], "10", "EUR", "Leaflets")
    pid = SupportRequest.objects.get(pk=rid).proposal_id
    for key in ("a", "b", "c"):
        inbox = _inbox(three[key])
        item = inbox[inbox.index(f'href="/proposals/{pid}/"') :].split("</li>\n</ul>")[0]
        assert "Request to the common fund: 10.00 EUR for Alpha" in item, key
        assert "a request to the common fund" in item, key
        assert "Carry your group" in item, key
    clock.move_to(at(minutes=5))
    for key in ("a", "b", "c"):
        assert carry(three[key], pid, "agree").status_code == 302
    assert SupportRequest.objects.get(pk=rid).state == "adopted"
    # Adopted: any coordinator may record the payment, and is told so in the inbox.
    to_pay = "Alpha asks for 10.00 EUR"
    for key in ("a", "b", "c"):
        assert to_pay in _inbox(three[key]), key
    assert to_pay not in _inbox(three["a2"])
    assert "any group's coordinator records the payment" in html.unescape(
        text(three["a2"].get(f"/fund/requests/{rid}/"))
    )
    clock.move_to(at(minutes=10))
    assert post(three["c"], "/fund/disburse/", {"decision": pid}).status_code == 302
    for key in ("a", "b", "c"):
        assert to_pay not in _inbox(three[key]), key


def test_the_inbox_reads_the_funds_rows_in_the_same_number_of_queries(three, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _inbox(three["b"])
        return len(captured)

    _ask_help(three["a"])
    few = queries()
    for i in range(15):
        clock.move_to(at(minutes=i + 1))
        _ask_help(three["a"] if i % 2 else three["c"], f"Question {i}")
    assert queries() == few
