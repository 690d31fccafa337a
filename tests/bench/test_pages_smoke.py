"""A smoke run of bench/pages.py: opt-in, never part of the default suite.

    VECHE_BENCH_SMOKE=1 .venv/bin/python -m pytest tests/bench -q

It builds a tiny world on SQLite, serves it and the bare page with gunicorn, logs in
through the form and measures each page for a moment (about a minute in all). It asserts
that the harness works, never a timing.
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


def test_page_benchmark_measures_every_page_against_the_bare_page(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(  # noqa: S603 - the repository's own script
        [
            sys.executable, str(ROOT / "bench" / "pages.py"), "--quick", "--databases",
            "sqlite", "--sizes", "10,60", "--burst", "0.5", "--cache-dir", str(tmp_path),
            "--json", str(tmp_path / "out.json"),
        ],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for page in ("proposals list", "proposal detail", "inbox", "decision log", "fund"):
        assert f"| {page} |" in done.stdout
    assert "veche ÷ bare" in done.stdout
    assert "time at 60 against 10 proposals" in done.stdout
