"""On the demo federation, the API returns for each role exactly what the pages show it.

For the coordinator and one other member of every demo group, the same member's token
and browser session are asked the same questions: which proposals they see (open and
decided), what waits in their inbox, the decision log's page, the fund's requests,
their group's members; and for every proposal in the database, whether they may see it
and, when they may, its title, its text, and the names and reasons of its responses.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROPOSAL_LINK = re.compile(r'href="/proposals/(\d+)/"')
REQUEST_LINK = re.compile(r'href="/fund/requests/(\d+)/"')


def linked(pattern: re.Pattern[str], html: str) -> set[int]:
    return {int(n) for n in pattern.findall(html)}


def main_of(html: str) -> str:
    """Return the page's main content (the header and footer are the same for all)."""
    start = html.index('<main id="content"')
    return html[start : html.index("</main>", start)]


def roles(demo: dict[str, list[str]]) -> list[Any]:
    from veche.apps.accounts.models import Member

    return [
        Member.objects.get(pseudonym=name)
        for names in demo.values()
        for name in (names[0], names[-1])
    ]


def clients(member: Any) -> tuple[Client, Client]:
    from tests.conftest import log_in_with_keys

    from veche.apps.api.services import create_token
    from veche.crypto import unlock
    from veche.demo import PASSPHRASE

    private_key = unlock(member.key_record(), PASSPHRASE)
    browser = log_in_with_keys(Client(), member, private_key)
    _row, secret = create_token(member=member, private_key=private_key, may_act=False)
    return browser, Client(headers={"Authorization": f"Bearer {secret}"})


def test_each_role_reads_through_the_api_what_its_pages_show(demo: Any) -> None:
    from veche.apps.proposals.models import Proposal

    every_proposal = list(Proposal.objects.values_list("pk", flat=True))
    checked = 0
    for member in roles(demo):
        browser, api = clients(member)
        who = member.pseudonym
        for show in ("open", "closed"):
            page = main_of(browser.get(f"/proposals/?show={show}").content.decode())
            listed = api.get(f"/api/proposals?show={show}").json()
            assert {i["id"] for i in listed["items"]} == linked(PROPOSAL_LINK, page), (who, show)
            for item in listed["items"]:
                assert unescape(item["title"]) in unescape(page) or item["title"] in page
        inbox_page = main_of(browser.get("/inbox/").content.decode())
        inbox = api.get("/api/inbox").json()
        assert {i["proposal"] for i in inbox["items"]} == linked(PROPOSAL_LINK, inbox_page), who
        assert {o["url"] for o in inbox["other"]} == {
            f"/fund/requests/{n}/" for n in linked(REQUEST_LINK, inbox_page)
        }, who
        decisions_page = main_of(browser.get("/decisions/").content.decode())
        decisions = api.get("/api/decisions").json()
        assert {d["proposal"] for d in decisions["items"] if d["proposal"]} == linked(
            PROPOSAL_LINK, decisions_page
        ), who
        fund_page = main_of(browser.get("/fund/").content.decode())
        fund = api.get("/api/fund").json()
        assert {r["id"] for r in fund["requests"]} == linked(REQUEST_LINK, fund_page), who
        group_page = main_of(browser.get(f"/groups/{member.group_id}/").content.decode())
        names = [m["pseudonym"] for m in api.get("/api/members").json()["members"]]
        section = group_page[group_page.index("<h2>Members</h2>") :]
        section = section[: section.index("</ul>")]
        assert names == [n.strip() for n in re.findall(r"<li>([^<\n]+)", section)], who
        for pk in every_proposal:
            page = browser.get(f"/proposals/{pk}/")
            answer = api.get(f"/api/proposals/{pk}")
            assert (page.status_code == 200) == (answer.status_code == 200), (who, pk)
            if answer.status_code != 200:
                assert answer.status_code == page.status_code == 404, (who, pk)
                continue
            html = unescape(page.content.decode())
            detail = answer.json()
            assert detail["title"] in html, (who, pk)
            for line in detail["responses"]["mine"]:
                assert line["name"] in html, (who, pk)
                assert line["reason"] in html, (who, pk)
            for reason in detail["responses"]["other_reasons"]:
                assert reason in html, (who, pk)
            checked += 1
    assert checked > 20
