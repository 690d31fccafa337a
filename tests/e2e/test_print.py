"""Pages print cleanly: Chromium (JavaScript off) prints the meeting pack to PDF.

On paper the navigation, the forms and the buttons are gone; the meeting pack prints its
agenda on the first sheet and each proposal, with its form to bring back, on a sheet of
its own. Where poppler's ``pdftotext`` is installed, the PDF's text is read too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import no_script_page

pytestmark = pytest.mark.browser


def _log_in(page: Any, base: str, pseudonym: str, passphrase: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Pseudonym").fill(pseudonym)
    page.get_by_label("Passphrase").fill(passphrase)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_the_meeting_pack_prints_an_agenda_and_one_sheet_per_proposal(
    veche_server: Any,
    new_context: Any,
    group_a: Any,
    coordinator_a: Any,
    member_a: Any,
    make_member: Any,
    passphrase: str,
    tmp_path: Path,
) -> None:
    from veche.apps.proposals import services

    make_member(group_a, "abe")
    services.create_proposal(
        author=member_a, kind_key="group-practice", title="Paint the stairwell",
        body="Paint it **green**, then:\n\n1. the railings\n2. the doors",
    )  # fmt: skip
    services.create_proposal(
        author=member_a, kind_key="group-practice", title="Which evening", body="Pick one.",
        options=["Monday", "Thursday"],
    )  # fmt: skip
    services.create_proposal(
        author=coordinator_a, kind_key="common-policy", title="Share the press", body="One."
    )
    page = no_script_page(new_context())
    _log_in(page, veche_server.url, coordinator_a.pseudonym, passphrase)
    page.goto(f"{veche_server.url}/groups/{group_a.pk}/meeting-pack/")

    page.emulate_media(media="print")
    assert not page.locator(".site-header nav").is_visible()
    assert not page.get_by_role("button", name="Log out").is_visible()
    assert not page.locator(".site-footer form").is_visible()
    assert page.locator("table.pack-form").first.is_visible()

    pdf = page.pdf(format="A4")
    # The agenda, then a sheet for each of the three proposals.
    assert _pages(pdf) == 4
    if shutil.which("pdftotext"):
        path = tmp_path / "pack.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(  # noqa: S603
            ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        text = done.stdout
        sheets = text.split("\f")
        assert "Agenda" in sheets[0]
        assert "Paint the stairwell" in text and "Which evening" in text
        assert "Monday" in text and "the railings" in text
        assert "What the meeting decided" in text
        assert "Share the press" in sheets[3]
        assert "Log out" not in text and "Send response" not in text
        assert "coral" not in text  # the pack names nobody, and nor does the printed header


def test_every_page_prints_without_its_navigation_and_forms(
    veche_server: Any, new_context: Any, group_a: Any, coordinator_a: Any, passphrase: str
) -> None:
    from veche.apps.proposals import services

    row = services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Fix the bell", body="Soon."
    )
    page = no_script_page(new_context())
    _log_in(page, veche_server.url, coordinator_a.pseudonym, passphrase)
    page.goto(f"{veche_server.url}/proposals/{row.pk}/")
    assert page.get_by_role("button", name="Send response").is_visible()
    page.emulate_media(media="print")
    assert page.locator("h1").is_visible()
    assert not page.locator(".site-header nav").is_visible()
    assert not page.get_by_role("button", name="Send response").is_visible()
    assert not page.get_by_role("button", name="Post").is_visible()
    assert _pages(page.pdf(format="A4")) >= 1


def test_the_meeting_pack_fits_a_phone_screen(
    veche_server: Any, new_context: Any, group_a: Any, coordinator_a: Any, passphrase: str
) -> None:
    from veche.apps.proposals import services

    services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="A rather long title " * 4,
        body="Text " * 200, options=["An alternative with a long name " * 3, "Another"],
    )  # fmt: skip
    page = no_script_page(new_context(viewport={"width": 390, "height": 844}))
    _log_in(page, veche_server.url, coordinator_a.pseudonym, passphrase)
    page.goto(f"{veche_server.url}/groups/{group_a.pk}/meeting-pack/")
    png = page.screenshot(full_page=True)
    assert int.from_bytes(png[16:20], "big") <= 390
