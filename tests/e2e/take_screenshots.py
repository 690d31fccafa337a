"""Take the screenshots in docs/screenshots/ of the demo, in Chromium with JavaScript off.

Run from the repository root (needs Debian's Chromium at /usr/bin/chromium):

    .venv/bin/python tests/e2e/take_screenshots.py [--port 8765] [--out docs/screenshots]

It creates the demo federation in a temporary data directory (``veche demo``), serves
it (``veche serve``), logs in through the login form as a demo member and saves
full-page PNGs 1000 px wide, and a few 390 px wide ("phone"). Nothing is left behind
but the PNGs. It is not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (  # noqa: E402
    chromium_missing_reason,
    launch_chromium,
    no_script_page,
)

# The demo module builds its federation through the services: Django must be set up to
# import it, on a throwaway data directory (the served demo gets its own below).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veche.config.settings")
_SETTINGS_DIR = tempfile.TemporaryDirectory(prefix="veche-screenshots-settings-")
os.environ.setdefault("VECHE_DATA_DIR", _SETTINGS_DIR.name)
import django  # noqa: E402

django.setup()
from veche.demo import PASSPHRASE as DEMO_PASSPHRASE  # noqa: E402

DESKTOP = {"width": 1000, "height": 700}
PHONE = {"width": 390, "height": 844}

# (file name, who is logged in, how to reach the page, viewport)
SHOTS: list[tuple[str, str, str, dict[str, int]]] = [
    ("inbox.png", "marko", "/inbox/", DESKTOP),
    ("proposals.png", "marko", "/proposals/", DESKTOP),
    ("proposal-consensus.png", "marko", "title:Rotate the minute-taker", DESKTOP),
    ("vote-ballot.png", "lena", "title:Which flour supplier for the winter", DESKTOP),
    ("vote-result-schulze.png", "marko", "title:Where to hold the tenants' assembly", DESKTOP),
    ("mandate.png", "marko", "title:Heating failure: talk to the repair firm", DESKTOP),
    ("decisions.png", "marko", "/decisions/", DESKTOP),
    ("federation.png", "marko", "/federation/", DESKTOP),
    ("rules.png", "marko", "/federation/rules/", DESKTOP),
    ("charter-amendment.png", "marko", "title:Federation matters in ten days", DESKTOP),
    ("charter-form.png", "marko", "/proposals/new/charter/", DESKTOP),
    ("meeting-record.png", "marko", "title:Keep a list of flats without heating", DESKTOP),
    ("account.png", "marko", "/account/", DESKTOP),
    ("api-reference.png", "marko", "/api/", DESKTOP),
    ("phone-vote-result.png", "marko", "title:Where to hold the tenants' assembly", PHONE),
    ("phone-inbox.png", "lena", "/inbox/", PHONE),
]


def _veche(*args: str, env: dict[str, str], **kwargs: Any) -> Any:
    veche = Path(sys.executable).with_name("veche")
    command = [str(veche)] if veche.exists() else [sys.executable, "-m", "veche.cli"]
    return subprocess.Popen([*command, *args], env=env, **kwargs)  # noqa: S603


def _wait_for_port(port: int, server: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"veche serve exited with {server.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"veche serve did not listen on {port} in {timeout} s")


def _log_in(page: Any, base: str, pseudonym: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Pseudonym").fill(pseudonym)
    page.get_by_label("Passphrase").fill(DEMO_PASSPHRASE)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()
    if page.locator(".whoami").count() == 0:
        raise SystemExit(f"could not log in as {pseudonym}")


def _open(page: Any, base: str, target: str) -> None:
    if target.startswith("title:"):
        # Open proposals first, then decided ones.
        for listing in ("/proposals/", "/proposals/?show=closed"):
            page.goto(f"{base}{listing}")
            link = page.get_by_role("link", name=target.removeprefix("title:"), exact=True)
            if link.count():
                with page.expect_navigation():
                    link.first.click()
                return
        raise SystemExit(f"no proposal titled {target.removeprefix('title:')!r}")
    else:
        page.goto(base + target)


def take(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        pages: dict[tuple[str, int], Any] = {}
        for name, who, target, viewport in SHOTS:
            key = (who, viewport["width"])
            if key not in pages:
                context = browser.new_context(java_script_enabled=False, viewport=viewport)
                pages[key] = no_script_page(context)
                _log_in(pages[key], base, who)
            page = pages[key]
            _open(page, base, target)
            path = out / name
            png = page.screenshot(path=str(path), full_page=True)
            saved.append(path)
            width = int.from_bytes(png[16:20], "big")
            if width > viewport["width"]:
                print(f"warning: {name} is {width} px wide, wider than the screen", file=sys.stderr)
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    reason = chromium_missing_reason()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="veche-screenshots-") as data_dir:
        env = {**os.environ, "VECHE_DATA_DIR": data_dir}
        env.pop("DATABASE_URL", None)
        demo = _veche("demo", "--base-url", base, env=env, stdout=subprocess.DEVNULL)
        if demo.wait() != 0:
            return 1
        server = _veche("serve", "--port", str(args.port), "--workers", "2", env=env)
        try:
            _wait_for_port(args.port, server)
            take(base, args.out)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
