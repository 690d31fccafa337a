"""Take docs/screenshots/fund.png: the fund page in Chromium with JavaScript off.

Run from the repository root: ``.venv/bin/python tests/apps/fund/take_fund_screenshot.py``.
It builds the demo federation in a temporary data directory, records three months of
contributions and one request decided and paid (through the services), serves it and
logs in as the coordinator "olena". Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import launch_chromium, no_script_page  # noqa: E402
from tests.e2e.take_screenshots import _log_in, _veche, _wait_for_port  # noqa: E402

SEED = """
import datetime as dt
from veche.cli import setup_django
setup_django()
from veche.apps.accounts.models import Member
from veche.apps.fund import services
from veche.apps.proposals.services import carry_group_position
from veche.domain.consensus import Position
now = dt.datetime.now(dt.UTC)
d = dt.timedelta(days=1)
olena, sasha, dana = (Member.objects.get(pseudonym=p) for p in ("olena", "sasha", "dana"))
for i, (who, amount, cur) in enumerate([
    (olena, 15000, "EUR"), (sasha, 8050, "EUR"), (dana, 12000, "EUR"), (olena, 5000, "UAH"),
    (sasha, 9900, "EUR"), (dana, 4000, "EUR"), (olena, 20000, "EUR"), (sasha, 2500, "UAH"),
]):
    services.contribute(actor=who, amount=amount, currency=cur, idempotency_key=f"seed-{i:04d}",
                        now=now - (95 - 11 * i) * d)
req = services.request_money(actor=dana, amount=18000, currency="EUR",
    purpose="Legal advice for three members facing dismissal.", idempotency_key="seed-req-1",
    now=now - 12 * d)
for who in (olena, sasha, dana):
    carry_group_position(row=req.proposal, coordinator=who, position=Position.AGREE,
                         now=now - 11 * d)
services.disburse(actor=olena, proposal_id=req.proposal_id, idempotency_key="seed-pay-1",
                  now=now - 10 * d)
services.request_money(actor=sasha, amount=6000, currency="EUR",
    purpose="A second oven door.", idempotency_key="seed-req-2", now=now - 2 * d)
services.request_help(actor=sasha, purpose="How do we register as a cooperative?",
                      idempotency_key="seed-help-1", now=now - d)
"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    port = int(os.environ.get("PORT", "8766"))
    base = f"http://127.0.0.1:{port}"
    out = ROOT / "docs" / "screenshots" / "fund.png"
    with tempfile.TemporaryDirectory(prefix="veche-fund-shot-") as data_dir:
        env = {**os.environ, "VECHE_DATA_DIR": data_dir}
        env.pop("DATABASE_URL", None)
        if _veche("demo", "--base-url", base, env=env, stdout=subprocess.DEVNULL).wait():
            return 1
        seed = subprocess.run([sys.executable, "-c", SEED], env=env, check=False)  # noqa: S603
        if seed.returncode:
            return 1
        server = _veche("serve", "--port", str(port), "--workers", "1", env=env)
        try:
            _wait_for_port(port, server)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context(
                    java_script_enabled=False, viewport={"width": 1000, "height": 700}
                )
                page = no_script_page(context)
                _log_in(page, base, "olena")
                page.goto(f"{base}/fund/")
                page.screenshot(path=str(out), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
