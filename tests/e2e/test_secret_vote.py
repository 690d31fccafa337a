"""A secret vote in a real browser with JavaScript off: a receipt, two tellers, the record.

A member votes and writes down the receipt the confirmation page shows; the vote closes
by itself; two of its three tellers log in (which gives their shares); the result
appears; the downloaded record holds the receipt and passes ``veche verify-vote``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine

from tests.e2e.conftest import no_script_page

pytestmark = pytest.mark.browser


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def _log_in(context: Any, base: str, pseudonym: str, passphrase: str) -> Any:
    page = no_script_page(context)
    page.goto(f"{base}/login/")
    page.get_by_label("Pseudonym").fill(pseudonym)
    page.get_by_label("Passphrase").fill(passphrase)
    _submit(page, "Log in")
    assert page.locator(".whoami").inner_text() == pseudonym
    return page


def test_a_member_votes_two_tellers_sign_in_and_the_receipt_is_on_the_board(
    veche_server: Any, new_context: Any, group_a: Any, make_member: Any, passphrase: str, tmp_path
) -> None:
    from django.utils import timezone

    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import CoordinatorTerm, Group
    from veche.apps.proposals import services
    from veche.apps.proposals.models import Teller
    from veche.crypto.election import Record
    from veche.verify_vote import check

    now = timezone.now()
    h = dt.timedelta(hours=1)
    members = [make_member(group_a, f"m{i}", coordinator=i == 0) for i in range(5)]
    Member.objects.update(joined_at=now - 100 * h)
    Group.objects.update(created_at=now - 100 * h)
    CoordinatorTerm.objects.update(starts_at=now - 100 * h)
    row = services.create_proposal(
        author=members[0], kind_key="group-practice", title="Where to meet", body="Choose.",
        urgent=True, deadline=now - 10 * h, options=["Library", "Park"], now=now - 11 * h,
    )  # fmt: skip
    services.settle_due(now=now, scopes=frozenset())  # the vote opens, its key is dealt
    tellers = set(Teller.objects.filter(vote__proposal=row).values_list("member_id", flat=True))
    voter = next(m for m in members if m.pk not in tellers)
    for other in members:
        if other.pk != voter.pk:
            services.cast_ballot(row=row, voter=other, ballot=[1, 0], now=now - 5 * h)

    base = veche_server.url
    detail = f"{base}/proposals/{row.pk}/"
    page = _log_in(new_context(), base, voter.pseudonym, passphrase)
    page.goto(detail)
    page.get_by_label("Library").select_option("1")
    _submit(page, "Cast ballot")
    assert "Your receipt" in page.locator("main").inner_text()
    receipt = page.locator("code.receipt").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}", receipt), receipt

    with time_machine.travel(now + dt.timedelta(days=2), tick=True):
        page.goto(detail)
        assert "tellers have signed in" in page.locator("main").inner_text()
        for pk in sorted(tellers)[:2]:
            teller = Member.objects.get(pk=pk)
            _log_in(new_context(), base, teller.pseudonym, passphrase)
        page.goto(detail)
        text = page.locator("main").inner_text()
        assert "Winner" in text and "Park" in text
        with page.expect_download() as download:
            page.get_by_role("link", name="Download this vote's record").click()
        path = tmp_path / "vote.json"
        download.value.save_as(path)

    report = check(Record.from_json(path.read_bytes()), receipt=receipt, processes=1)
    assert report.problems == ()
    assert report.receipt_found is not None
