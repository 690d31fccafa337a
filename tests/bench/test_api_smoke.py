"""A smoke run of bench/api.py: opt-in, never part of the default suite.

    VECHE_BENCH_SMOKE=1 .venv/bin/python -m pytest tests/bench -q

It builds a tiny world on SQLite, serves it and the bare page, logs in through the form,
makes a token and two feeds on the account page, and measures each API read and feed
for a moment. It asserts that the harness works, never a timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("VECHE_BENCH_SMOKE") != "1", reason="set VECHE_BENCH_SMOKE=1 to run"
)


def test_api_benchmark_measures_every_read_against_the_bare_page(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(  # noqa: S603 - the repository's own script
        [
            sys.executable, str(ROOT / "bench" / "api.py"), "--quick", "--sizes", "10",
            "--burst", "0.5", "--cache-dir", str(tmp_path),
        ],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for endpoint in ("api proposals list", "api proposal detail", "api inbox", "feed: inbox"):
        assert f"| {endpoint} |" in done.stdout
    assert "veche ÷ bare" in done.stdout
