"""Take docs/screenshots/fund.png: the fund page in Chromium with JavaScript off.

Run from the repository root: ``.venv/bin/python tests/apps/fund/take_fund_screenshot.py``
(``PORT`` picks the port, 8766 by default). It builds the demo federation (whose fund
has contributions over several weeks, a request decided and paid, one being decided,
and help asked and answered) in a temporary data directory, serves it and logs in as
the coordinator "olena". With ``--more DIR`` it also saves, to DIR, each chart on its
own, the page in Russian and Ukrainian, and the page a member who does not coordinate
sees ("marko"), to check them by eye. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
# veche.demo (imported by the e2e helpers for its passphrase) needs Django's settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veche.config.settings")

import django  # noqa: E402

django.setup()

from tests.e2e.conftest import launch_chromium, no_script_page  # noqa: E402
from tests.e2e.take_screenshots import _log_in, _veche, _wait_for_port  # noqa: E402

WIDTH = {"width": 1000, "height": 700}


def _shoot(browser: object, base: str, who: str, shots: list[tuple[str, Path]],
           language: str = "en") -> None:  # fmt: skip
    context = browser.new_context(java_script_enabled=False, viewport=WIDTH)  # type: ignore[attr-defined]
    page = no_script_page(context)
    _log_in(page, base, who)
    if language != "en":
        page.goto(f"{base}/fund/")
        page.select_option("#language-select", language)
        with page.expect_navigation():
            page.get_by_role("button", name="Change").click()
    for url, path in shots:
        page.goto(base + url)
        # An SVG document has no page to scroll: its viewport is the picture.
        page.screenshot(path=str(path), full_page=not url.endswith(".svg"))
        print(path)
    context.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--more", type=Path, help="also save charts and other views here")
    args = parser.parse_args()
    port = int(os.environ.get("PORT", "8766"))
    base = f"http://127.0.0.1:{port}"
    out = ROOT / "docs" / "screenshots" / "fund.png"
    with tempfile.TemporaryDirectory(prefix="veche-fund-shot-") as data_dir:
        env = {**os.environ, "VECHE_DATA_DIR": data_dir}
        env.pop("DATABASE_URL", None)
        if _veche("demo", "--base-url", base, env=env, stdout=subprocess.DEVNULL).wait():
            return 1
        server = _veche("serve", "--port", str(port), "--workers", "1", env=env)
        try:
            _wait_for_port(port, server)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                _shoot(browser, base, "olena", [("/fund/", out)])
                if args.more:
                    more = args.more
                    more.mkdir(parents=True, exist_ok=True)
                    _shoot(browser, base, "olena", [
                        ("/fund/charts/balance-EUR.svg", more / "chart-balance.png"),
                        ("/fund/charts/monthly-EUR.svg", more / "chart-monthly.png"),
                        ("/inbox/", more / "inbox-olena.png"),
                    ])  # fmt: skip
                    _shoot(browser, base, "olena", [
                        ("/fund/", more / "fund-ru.png"),
                        ("/fund/charts/monthly-EUR.svg", more / "chart-monthly-ru.png"),
                    ], language="ru")  # fmt: skip
                    _shoot(browser, base, "marko", [("/fund/", more / "fund-uk-member.png")],
                           language="uk")  # fmt: skip
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
