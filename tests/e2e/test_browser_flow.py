"""Join, propose and reach consensus in a real browser with JavaScript switched off.

This is what a member using Tor Browser at its *Safest* level does: every step is a
plain link or a plain HTML form. Every response must carry the strict
Content-Security-Policy, and the browser must never ask for anything off the server.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import no_script_page

pytestmark = pytest.mark.browser

NEW_PASSPHRASE = "lantern orchard pebble violin"


class Watch:
    """Record every request and response of a browser context."""

    def __init__(self, context: Any) -> None:
        self.requests: list[str] = []
        self.responses: list[tuple[str, int, dict[str, str]]] = []
        context.on("request", lambda request: self.requests.append(request.url))
        context.on(
            "response",
            lambda response: self.responses.append(
                (response.url, response.status, response.all_headers())
            ),
        )


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def test_javascript_is_really_off(new_context: Any) -> None:
    page = no_script_page(new_context())
    page.set_content(
        "<p id=p>static</p><script>document.getElementById('p').textContent = 'js'</script>"
    )
    assert page.locator("#p").text_content() == "static"
    with pytest.raises(AssertionError, match="JavaScript is off"):
        page.evaluate("1")


def test_join_propose_and_reach_consensus_without_javascript(
    veche_server: Any,
    new_context: Any,
    group_a: Any,
    coordinator_a: Any,
    make_invitation: Any,
    passphrase: str,
) -> None:
    from veche.apps.core.middleware import CONTENT_SECURITY_POLICY

    base = veche_server.url
    secret = make_invitation(group_a, created_by=coordinator_a)

    newcomer = new_context()
    watch_newcomer = Watch(newcomer)
    page = no_script_page(newcomer)

    # Join with the one-time invitation: choosing a pseudonym and passphrase logs in.
    page.goto(f"{base}/join/{secret}/")
    assert "Alpha" in page.locator("h1").inner_text()
    page.get_by_label("Pseudonym").fill("nadia")
    page.get_by_label("Passphrase", exact=True).fill(NEW_PASSPHRASE)
    page.get_by_label("Passphrase again").fill(NEW_PASSPHRASE)
    _submit(page, "Join")
    assert page.locator(".whoami").inner_text() == "nadia"

    # Propose a group practice through the form.
    page.goto(f"{base}/proposals/new/")
    page.get_by_label("Kind of decision").select_option("group-practice")
    page.get_by_label("Title").fill("Keep the stairwell lights on")
    page.get_by_label("Proposal").fill("The stairwell lights stay on **all night**.")
    _submit(page, "Propose")
    match = re.search(r"/proposals/(\d+)/$", page.url)
    assert match, page.url
    detail_url = page.url
    assert page.locator("h1").inner_text() == "Keep the stairwell lights on"
    assert page.locator(".proposal-body strong").inner_text() == "all night"

    # Agree from this account.
    page.get_by_label("Agree", exact=True).check()
    _submit(page, "Send response")
    page.goto(detail_url)
    assert "nadia" in page.locator("ul.responses").inner_text()
    assert "Adopted" not in page.locator("main").inner_text()

    # The coordinator logs in through the login form in a second context and agrees.
    coordinator = new_context()
    watch_coordinator = Watch(coordinator)
    other = no_script_page(coordinator)
    other.goto(f"{base}/login/")
    other.get_by_label("Pseudonym").fill(coordinator_a.pseudonym)
    other.get_by_label("Passphrase").fill(passphrase)
    _submit(other, "Log in")
    assert other.locator(".whoami").inner_text() == coordinator_a.pseudonym
    other.goto(f"{base}/inbox/")
    other.get_by_role("link", name="Keep the stairwell lights on").first.click()
    other.wait_for_url(detail_url)
    other.get_by_label("Agree", exact=True).check()
    _submit(other, "Send response")

    # Both members of the group agreed: adopted at once, seen from either account.
    other.goto(detail_url)
    assert "Adopted" in other.locator("section.decision").inner_text()
    page.reload()
    assert "Adopted" in page.locator("section.decision").inner_text()
    page.goto(f"{base}/decisions/")
    assert "Keep the stairwell lights on" in page.locator("main").inner_text()

    for watch in (watch_newcomer, watch_coordinator):
        assert watch.responses
        assert any(url.endswith(".css") for url, _, _ in watch.responses)
        for url, status, headers in watch.responses:
            assert headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, url
            assert status < 400, (url, status)
        offsite = [url for url in watch.requests if not url.startswith(base + "/")]
        assert offsite == []


def _png_width(png: bytes) -> int:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big")


def test_demo_pages_fit_a_phone_screen(veche_server: Any, new_context: Any) -> None:
    """At 390 px no page is wider than the screen (long digests, vote tables)."""
    from django.utils import timezone

    from veche.apps.proposals.models import Proposal
    from veche.demo import PASSPHRASE as DEMO_PASSPHRASE
    from veche.demo import build as build_demo

    build_demo(now=timezone.now())
    base = veche_server.url
    page = no_script_page(new_context(viewport={"width": 390, "height": 844}))
    page.goto(f"{base}/login/")
    page.get_by_label("Pseudonym").fill("marko")
    page.get_by_label("Passphrase").fill(DEMO_PASSPHRASE)
    _submit(page, "Log in")
    paths = ["/inbox/", "/proposals/", "/decisions/", "/federation/", "/proposals/new/"]
    paths += [f"/proposals/{pk}/" for pk in Proposal.objects.values_list("pk", flat=True)]
    too_wide = {}
    for path in paths:
        response = page.goto(base + path)
        if response is None or response.status != 200:
            continue  # another group's proposal: not this member's to see
        width = _png_width(page.screenshot(full_page=True))
        if width > 390:
            too_wide[path] = width
    assert too_wide == {}
