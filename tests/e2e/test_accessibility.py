"""Every page passes axe-core in Chromium: no serious or critical violation, light or dark.

axe-core is the test harness's, never the site's: ``.ci/run`` installs it with npm into
``.ci/node_modules`` (pinned by ``.ci/package-lock.json``), and this test reads its
script from there (or from ``VECHE_AXE_JS``). Pages carry no script and their CSP allows
none, so axe runs in a browser context made for this test alone, with JavaScript on and
the page's CSP bypassed (``bypass_csp``): the harness injects axe with Playwright's
``evaluate``. The site's own pages are unchanged by it, and every other browser test keeps
JavaScript off (docs/decisions/0112-accessibility-checks.md).

The pages are those a visitor and the demo's members reach by following links (each
group's coordinator and one other member, as the crawl test does), in light and dark
colour schemes, plus the states links do not reach: forms sent back with errors, a
refused login, an invitation, a missing page.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(os.environ.get("VECHE_AXE_JS", ROOT / ".ci/node_modules/axe-core/axe.min.js"))
FAILING = {"serious", "critical"}
MAX_PAGES = 200

RUN_AXE = """async (only) => {
  const options = {resultTypes: ['violations']};
  if (only) { options.runOnly = {type: 'rule', values: only}; }
  const result = await axe.run(document, options);
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
  }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        reason = f"axe-core is not installed at {AXE_JS} (run: npm ci --prefix .ci)"
        if os.environ.get("VECHE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE_JS.read_text(encoding="utf-8")


class Axe:
    """A page in a harness-only context (script on, CSP bypassed) that runs axe on URLs."""

    def __init__(self, browser: Any, base: str, source: str) -> None:
        self.base = base
        self.source = source
        self.context = browser.new_context(
            java_script_enabled=True, bypass_csp=True, viewport={"width": 1000, "height": 800}
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.found: dict[tuple[str, str], list[str]] = {}
        self.checked: list[str] = []

    def check(self, label: str) -> None:
        """Run axe on the page as it is now, light then dark; remember what it found."""
        page = self.page
        self.checked.append(label)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            if not page.evaluate("typeof axe !== 'undefined'"):
                page.evaluate(self.source)
            # The dark scheme changes colours only: check contrast again, nothing else.
            only = None if scheme == "light" else ["color-contrast"]
            for violation in page.evaluate(RUN_AXE, only):
                key = (violation["impact"] or "none", violation["id"])
                where = f"{label} [{scheme}] {violation['help']}: {violation['nodes']}"
                self.found.setdefault(key, []).append(where)

    def visit(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        return response

    def crawl(self, starts: list[str]) -> None:
        """Follow every same-site link from ``starts``, running axe on each HTML page."""
        queue = deque(starts)
        seen = set(starts)
        while queue:
            path = queue.popleft()
            assert len(seen) < MAX_PAGES, "the crawl does not end"
            response = self.visit(path)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            self.check(path)
            # A download (a charter's JSON, a log) is not a page: the browser saves it.
            hrefs = self.page.locator("a[href]:not([download])").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))"
            )
            for href in hrefs:
                local = href.split("#", 1)[0]
                if not local.startswith("/") or local.startswith("/logout"):
                    continue
                if urlsplit(local).path.endswith((".json", ".jsonl", ".csv")):
                    continue
                if local not in seen:
                    seen.add(local)
                    queue.append(local)

    def log_in(self, pseudonym: str, passphrase: str) -> None:
        self.context.clear_cookies()
        self.visit("/login/")
        self.page.get_by_label("Pseudonym").fill(pseudonym)
        self.page.get_by_label("Passphrase").fill(passphrase)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Log in", exact=True).click()

    def submit_without_browser_checks(self, button: str) -> None:
        """Send the form as typed, past the browser's own checks: the server's errors show."""
        self.page.locator("form").evaluate_all("forms => forms.forEach(f => f.noValidate = true)")
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button, exact=True).click()

    def failures(self) -> list[str]:
        return [
            f"{impact} {rule}: {where}"
            for (impact, rule), places in sorted(self.found.items())
            if impact in FAILING
            for where in places
        ]

    def summary(self) -> str:
        return ", ".join(
            f"{rule} ({impact}) x{len(places)}" for (impact, rule), places in self.found.items()
        )


@pytest.fixture
def axe(browser: Any, veche_server: Any, axe_source: str) -> Iterator[Axe]:
    harness = Axe(browser, veche_server.url, axe_source)
    yield harness
    harness.context.close()


@pytest.fixture
def demo(veche_server: Any) -> dict[str, list[str]]:
    from django.utils import timezone

    from veche.apps.proposals.services import settle_due
    from veche.demo import build as build_demo

    logins = build_demo(now=timezone.now())
    settle_due(now=timezone.now())
    return logins


def _invitation(pseudonym: str, passphrase: str) -> str:
    """Return a fresh invitation to the member's group, made with their keys."""
    from veche.apps.accounts.keys import keyring_for, keys_for_group
    from veche.apps.accounts.models import Member
    from veche.apps.federation.services import create_invitation
    from veche.crypto import unlock

    member = Member.objects.get(pseudonym=pseudonym)
    keys = keyring_for(member, unlock(member.key_record(), passphrase))
    _, secret = create_invitation(
        group=member.group, created_by=member, keys=keys_for_group(keys, member.group_id)
    )
    return secret


def test_every_page_has_no_serious_or_critical_accessibility_violation(
    axe: Axe, demo: dict[str, list[str]]
) -> None:
    from veche.apps.proposals.models import Proposal
    from veche.demo import PASSPHRASE

    # A visitor: the start page, logging in, and what fails politely.
    axe.crawl(["/", "/login/"])
    axe.visit("/login/")
    axe.page.get_by_label("Pseudonym").fill("nobody-here")
    axe.submit_without_browser_checks("Log in")
    axe.check("/login/ refused")
    axe.visit("/join/not-a-real-invitation/")
    axe.check("/join/ unusable")
    coordinator = next(iter(demo.values()))[0]
    axe.visit(f"/join/{_invitation(coordinator, PASSPHRASE)}/")
    axe.check("/join/ form")
    axe.submit_without_browser_checks("Join")
    axe.check("/join/ with errors")

    for pseudonyms in demo.values():
        for pseudonym in (pseudonyms[0], pseudonyms[-1]):
            axe.log_in(pseudonym, PASSPHRASE)
            axe.crawl(["/", "/inbox/"])

    # Forms sent back with the server's errors, and a page that does not exist.
    axe.log_in(coordinator, PASSPHRASE)
    axe.visit("/proposals/new/")
    axe.submit_without_browser_checks("Propose")
    axe.check("/proposals/new/ with errors")
    open_one = Proposal.objects.filter(phase="consensus", federation_wide=True).first()
    assert open_one is not None
    axe.visit(f"/proposals/{open_one.pk}/")
    axe.submit_without_browser_checks("Send response")
    axe.check(f"/proposals/{open_one.pk}/ response refused")
    axe.visit("/no-such-page/")
    axe.check("404")

    assert len(axe.checked) > 60, axe.checked
    print(f"axe: {len(axe.checked)} pages; below serious: {axe.summary() or 'nothing'}")
    assert axe.failures() == [], f"also found: {axe.summary()}"


def test_the_harness_sees_a_violation_when_there_is_one(browser: Any, axe_source: str) -> None:
    """A page with an unlabelled field and an image without text fails (the check is real)."""
    harness = Axe(browser, "", axe_source)
    try:
        harness.page.set_content(
            '<!DOCTYPE html><html lang="en"><title>t</title><main>'
            '<form><input type="text" name="q"><button type="submit"></button></form>'
            "</main></html>"
        )
        harness.check("sample")
    finally:
        harness.context.close()
    rules = {rule for impact, rule in harness.found if impact in FAILING}
    assert {"label", "button-name"} <= rules, harness.summary()
