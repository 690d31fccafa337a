"""Join, respond, vote and log out with the keyboard alone, JavaScript off.

No mouse: every step is Tab, Shift+Tab, Enter or Space (and typing into fields), as
someone who cannot use a pointer works. Where the focus goes is read with Playwright's
``:focus`` selector; nothing is evaluated in the page (its script is off).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.e2e.conftest import no_script_page

pytestmark = pytest.mark.browser

NEW_PASSPHRASE = "lantern orchard pebble violin"
MAX_TABS = 80


def focused(page: Any) -> Any:
    return page.locator(":focus")


def describe(page: Any) -> str:
    """Return a short name for the focused element: its text, label or field name."""
    element = focused(page)
    if element.count() == 0:
        return "(nothing)"
    text = (element.first.inner_text() or "").strip()
    return text[:40] or element.first.get_attribute("name") or element.first.get_attribute("id")


def tab_to(page: Any, target: Any, *, back: bool = False) -> list[str]:
    """Press Tab (or Shift+Tab) until ``target`` has the focus; return the stops passed."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if target.and_(focused(page)).count():
            return stops
        stops.append(describe(page))
    raise AssertionError(f"{MAX_TABS} tabs never reached {target}: {stops}")


def press_and_follow(page: Any, key: str) -> None:
    """Press ``key`` on the focused link or button and wait for the page it opens."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_join_respond_vote_and_log_out_with_the_keyboard_alone(
    veche_server: Any,
    new_context: Any,
    group_a: Any,
    coordinator_a: Any,
    make_invitation: Any,
) -> None:
    from django.utils import timezone

    from veche.apps.accounts.models import Member, pseudonym_key
    from veche.apps.federation.models import Group
    from veche.apps.proposals import services

    base = veche_server.url
    secret = make_invitation(group_a, created_by=coordinator_a)
    page = no_script_page(new_context())

    # Join. The first Tab reaches the skip link, which takes the focus past the header.
    page.goto(f"{base}/join/{secret}/")
    page.keyboard.press("Tab")
    assert describe(page) == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused(page).get_attribute("name") == "pseudonym", describe(page)
    page.keyboard.type("nadia")
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSPHRASE)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW_PASSPHRASE)
    press_and_follow(page, "Enter")
    assert page.locator(".whoami").inner_text() == "nadia"

    # Proposals that count her: one seeking consensus, one gone to an urgent vote (opened
    # two hours ago, so everyone is made a member since yesterday).
    now = timezone.now()
    assert Member.objects.filter(pseudonym_key=pseudonym_key("nadia"), group=group_a).exists()
    Member.objects.update(joined_at=now - dt.timedelta(days=1))
    Group.objects.update(created_at=now - dt.timedelta(days=2))
    services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Keep the stairwell lit",
        body="All night.", now=now,
    )  # fmt: skip
    services.create_proposal(
        author=coordinator_a, kind_key="common-policy", title="Close the yard gate",
        body="At ten.", urgent=True, deadline=now - dt.timedelta(minutes=1),
        now=now - dt.timedelta(hours=2),
    )  # fmt: skip
    services.settle_due(now=now)

    # The header's order: skip link, site name, the sections, then logging out.
    page.goto(f"{base}/inbox/")
    stops = []
    for _ in range(11):
        page.keyboard.press("Tab")
        stops.append(describe(page))
    assert stops[0] == "Skip to content"
    assert stops[1] == "Test Federation"
    assert stops[2:11] == [
        "Inbox",
        "Proposals",
        "Federation",
        "Our rules",
        "My group",
        "Decisions",
        "Fund",
        "Account",
        "Log out",
    ], stops

    # Respond: on from the header to the proposal, Space on "Agree", Enter on the button.
    tab_to(page, page.get_by_role("link", name="Keep the stairwell lit"))
    press_and_follow(page, "Enter")
    tab_to(page, page.get_by_label("Agree", exact=True))
    page.keyboard.press("Space")
    assert page.get_by_label("Agree", exact=True).is_checked()
    tab_to(page, page.get_by_role("button", name="Send response"))
    press_and_follow(page, "Enter")
    assert "nadia" in page.locator("ul.responses").inner_text()
    assert "Agree" in page.locator("ul.responses").inner_text()

    # Vote: (a new page: the focus starts at its top) to the inbox through the header,
    # on to the open vote, Space on a choice, Space on the button.
    tab_to(page, page.get_by_role("link", name="Inbox", exact=True))
    press_and_follow(page, "Enter")
    tab_to(page, page.get_by_role("link", name="Close the yard gate"))
    press_and_follow(page, "Enter")
    tab_to(page, page.get_by_label("adopt", exact=True))
    page.keyboard.press("Space")
    assert page.get_by_label("adopt", exact=True).is_checked()
    # The ballot's other choices are one radio group: the next Tab leaves it.
    tab_to(page, page.get_by_role("button", name="Cast ballot"))
    press_and_follow(page, "Space")
    # A secret ballot: the confirmation page shows its receipt, once.
    assert "Your ballot is cast" in page.locator("main").inner_text()
    assert page.locator("code.receipt").is_visible()

    # Log out: backwards through the whole page, from its end to the header.
    passed = tab_to(page, page.get_by_role("button", name="Log out"), back=True)
    assert passed[0] == "Change", passed  # the footer's language button is the last stop
    press_and_follow(page, "Enter")
    assert page.locator(".whoami").count() == 0
    assert page.get_by_role("link", name="Log in").first.is_visible()
