"""The federation amends its charter in a real browser with JavaScript off.

Four members of a one-group federation: an urgent quick response is opened under the
founding charter (a temporary coordinator chosen by lot, two days for consensus). The
members then adopt an amendment, made with the charter form, that chooses temporary
coordinators by vote and gives quick responses one day. A second urgent quick response,
opened after it, has its coordinator chosen by vote among volunteers, while the first is
still judged under version 1 and gets its coordinator by lot.

The clock is the server's own (the live server runs in this process): time_machine
moves it on, so deadlines pass in seconds.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine

from tests.e2e.conftest import no_script_page

pytestmark = pytest.mark.browser

MATTER = "Talking to the press"


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def _log_in(new_context: Any, base: str, pseudonym: str, passphrase: str) -> Any:
    page = no_script_page(new_context())
    page.goto(f"{base}/login/")
    page.get_by_label("Pseudonym").fill(pseudonym)
    page.get_by_label("Passphrase").fill(passphrase)
    _submit(page, "Log in")
    assert page.locator(".whoami").inner_text() == pseudonym
    return page


def _urgent_quick_response(page: Any, base: str, title: str) -> str:
    """Propose an urgent quick response with the shortest deadline; return its URL."""
    from django.utils import timezone

    page.goto(f"{base}/proposals/new/")
    page.get_by_label("Kind of decision").select_option("group-quick-response")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Proposal", exact=True).fill("Journalists are calling.")
    page.get_by_label("Urgent", exact=False).check()
    deadline = timezone.now() + dt.timedelta(hours=1, minutes=5)
    page.get_by_label("Deadline for consensus (UTC)").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Matters a temporary coordinator may decide").fill(MATTER)
    _submit(page, "Propose")
    assert re.search(r"/proposals/\d+/$", page.url), page.locator("main").inner_text()
    return page.url


def _main(page: Any, url: str) -> str:
    page.goto(url)
    return page.locator("main").inner_text()


def test_an_amendment_switches_lot_to_vote_while_an_earlier_proposal_keeps_the_lot(
    veche_server: Any, new_context: Any, group_a: Any, make_member: Any, passphrase: str
) -> None:
    from django.utils import timezone

    from veche.apps.federation.selectors import get_charter

    base = veche_server.url
    with time_machine.travel(timezone.now(), tick=True) as clock:
        names = ["ada", "cleo", "dora", "emil"]
        for i, name in enumerate(names):
            make_member(group_a, name, coordinator=i == 0)
        pages = {name: _log_in(new_context, base, name, passphrase) for name in names}
        ada = pages["ada"]

        # 1. Under the founding charter: an urgent quick response (lot, two days at most).
        before = _urgent_quick_response(ada, base, "Answer the evening paper")
        assert "version 1 of the charter" in _main(ada, before)

        # 2. The amendment, with the charter form: vote instead of lot, one day instead of two.
        kinds = [k.key for k in get_charter().kinds]
        quick = f"k{kinds.index('group-quick-response')}"
        ada.goto(f"{base}/proposals/new/charter/")
        ada.get_by_label("Title").fill("Choose temporary coordinators by vote")
        ada.get_by_label("Why (the proposal's text)").fill("A lot is no way to choose a voice.")
        ada.locator("summary", has_text="A quick response by the group").click()
        ada.locator(f'select[name="{quick}-mandate_selection"]').select_option("vote")
        ada.locator(f'input[name="{quick}-period_0"]').fill("1")
        ada.locator(f'select[name="{quick}-period_1"]').select_option("days")
        _submit(ada, "Propose the amendment")
        amendment = ada.url
        assert re.search(r"/proposals/\d+/$", amendment), ada.locator("main").inner_text()

        # Its page says what it changes, in plain words, before anyone responds.
        shown = _main(pages["emil"], amendment)
        assert "What this amendment changes" in shown
        assert "consensus period: 2 days → 1 day" in shown
        assert "temporary coordinator: chosen by: lot among volunteers → vote among volunteers" in (
            shown
        )
        assert "0 of 4 have responded" in shown

        # 3. Everyone agrees: adopted at once, version 2 in force, in the decision log.
        for name in names:
            page = pages[name]
            page.goto(amendment)
            page.get_by_label("Agree", exact=True).check()
            _submit(page, "Send response")
        shown = _main(ada, amendment)
        assert "Adopted" in shown
        assert "In force as version 2 of the charter." in shown
        rules = _main(ada, f"{base}/federation/rules/")
        assert "The charter in force is version 2" in rules
        assert "chosen among them by a vote, open for 6 hours" in rules
        assert "Version 2" in rules and "The founding charter." in rules
        assert "Choose temporary coordinators by vote" in _main(ada, f"{base}/decisions/")

        # 4. Under version 2: another urgent quick response.
        after = _urgent_quick_response(pages["dora"], base, "Answer the radio")
        assert "version 2 of the charter" in _main(ada, after)
        assert "version 1 of the charter" in _main(ada, before)

        # 5. Both deadlines pass without consensus: volunteers come forward on both.
        clock.shift(dt.timedelta(hours=1, minutes=30))
        for url, volunteers in ((before, ["cleo", "dora"]), (after, ["cleo", "dora", "ada"])):
            for name in volunteers:
                page = pages[name]
                page.goto(url)
                _submit(page, "Volunteer")
                assert "You have volunteered." in page.locator("main").inner_text()

        # 6. Volunteering closes: the first draws its coordinator by lot (version 1); the
        # second opens a vote among its volunteers (version 2).
        clock.shift(dt.timedelta(hours=6, minutes=30))
        shown = _main(ada, before)
        assert "chosen by lot among 2 eligible volunteers" in shown
        shown = _main(ada, after)
        assert "Choosing the temporary coordinator" in shown
        for name in names:
            page = pages[name]
            page.goto(after)
            page.get_by_label("ada", exact=True).check()
            _submit(page, "Cast ballot")
            assert "Your receipt" in page.locator("main").inner_text()

        # 7. The vote closes and waits for its tellers; two of them press the button:
        # ada holds the mandate, chosen by vote, not by lot.
        clock.shift(dt.timedelta(hours=6, minutes=30))
        assert "tellers have signed in" in _main(pages["emil"], after)
        tellers = [
            name for name in names
            if "Give my share of the count" in _main(pages[name], after)
        ][:2]  # fmt: skip
        assert len(tellers) == 2
        for name in tellers:
            pages[name].goto(after)
            _submit(pages[name], "Give my share of the count")
        shown = _main(pages["emil"], after)
        assert "Holder: ada" in shown
        assert "chosen by lot" not in shown
        assert "It covers: " + MATTER in shown
        assert "version 2 of the charter" in shown
        shown = _main(pages["emil"], before)
        assert "chosen by lot among 2 eligible volunteers" in shown
        assert "version 1 of the charter" in shown
