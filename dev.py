#!/usr/bin/env python3
"""veche's two developer commands, for a fresh machine that has only Python 3.11+.

    python3 dev.py demo     start veche with demo data on SQLite, print where to open it
    python3 dev.py test     run the whole test suite (lint, import contract, types, tests)

Both create (or reuse) a virtual environment in ./.venv and install veche into it, so
nothing else needs to be installed first. ``test --postgres`` runs the Django suite
against the local PostgreSQL (127.0.0.1:5432, user postgres) instead of SQLite.
Standard library only: this file runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/veche"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a command; stop with its exit code if it fails."""
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=False)  # noqa: S603
    if completed.returncode != 0:
        print(f"dev.py: '{' '.join(str(a) for a in args)}' failed", file=sys.stderr)
        raise SystemExit(completed.returncode)


def ensure_env(extras: str) -> None:
    """Create ./.venv and install veche (with ``extras``) unless it is already current."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before any check
        raise SystemExit("dev.py: veche needs Python 3.11 or newer")
    if not PY.exists():
        say("creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # Reinstall only when pyproject.toml (the dependency list) changed.
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing veche{f'[{extras}]' if extras else ''} into .venv")
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


def demo(args: argparse.Namespace) -> None:
    ensure_env("")
    data = Path(args.data_dir).resolve()
    env = {**os.environ, "VECHE_DATA_DIR": str(data)}
    if args.fresh and data.exists():
        shutil.rmtree(data)
    veche = BIN / "veche"
    if not (data / "veche.sqlite3").exists():
        run(veche, "demo", "--base-url", f"http://{args.host}:{args.port}", env=env)
    else:
        say(f"reusing the demo in {data} (add --fresh to start over)")
    say(f"open http://{args.host}:{args.port}/ (Ctrl-C stops)")
    argv = [str(veche), "serve", "--host", args.host, "--port", str(args.port)]
    os.execve(veche, argv, env)  # noqa: S606 - our own console script


def test(args: argparse.Namespace) -> None:
    ensure_env("test")
    env = dict(os.environ)
    if args.postgres:
        env["DATABASE_URL"] = os.environ.get("VECHE_TEST_POSTGRES_URL", POSTGRES_URL)
    if not args.postgres:
        say("ruff: lint and format")
        run(BIN / "ruff", "check", "src", "tests", "bench", "dev.py")
        run(BIN / "ruff", "format", "--check", "src", "tests", "bench", "dev.py")
        say("import-linter: the domain core stays pure Python")
        run(BIN / "lint-imports")
        say("mypy --strict on the domain core")
        run(PY, "-m", "mypy")
        say("domain tests, with Django made unimportable, and the core's coverage")
        run(
            PY, "-m", "pytest", "tests/domain", "-p", "no:django", "-q",
            "--cov=veche.domain", "--cov-report=term", "--cov-fail-under=95",
            env={**env, "VECHE_FORBID_DJANGO": "1"},
        )  # fmt: skip
    where = "PostgreSQL" if args.postgres else "SQLite"
    say(f"application tests on {where}")
    run(PY, "-m", "pytest", "tests", "--ignore=tests/domain", "-q", *args.pytest_args, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(prog="dev.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="start veche with demo data on SQLite")
    p_demo.add_argument("--host", default="127.0.0.1")
    p_demo.add_argument("--port", type=int, default=8000)
    p_demo.add_argument("--data-dir", default=str(ROOT / "var" / "demo"))
    p_demo.add_argument("--fresh", action="store_true", help="discard an earlier demo")
    p_demo.set_defaults(func=demo)
    p_test = sub.add_parser("test", help="run the whole test suite")
    p_test.add_argument("--postgres", action="store_true", help="run against PostgreSQL")
    p_test.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    p_test.set_defaults(func=test)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
