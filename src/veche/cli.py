"""The ``veche`` command for operators: init, serve, demo, invite, backup, restore,
verify, settle, migrate, check.

Every subcommand is listed in :func:`build_parser`, here: no discovery at run time.
Each handler takes the parsed ``argparse.Namespace`` and returns an exit code. Django
is set up lazily by the handlers that need it (``setup_django()``), so the offline
checks (``verify FILE``) run without a database.

Every failure is one line on stderr and a non-zero exit; never a traceback.
Exit codes: 0 ok, 1 unexpected error, 2 usage error or refused.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """An expected failure: its message is printed as one line, with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def setup_django() -> None:
    """Configure Django (once per process) from the environment."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veche.config.settings")
    import django

    django.setup()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _join_url(base_url: str, secret: str) -> str:
    from django.urls import reverse

    return base_url.rstrip("/") + reverse("federation:join", args=[secret])


def cmd_init(args: argparse.Namespace) -> int:
    """Create the database, the federation and its first group; print a founding invitation."""
    setup_django()
    _migrate()
    from veche.apps.federation import selectors, services

    if selectors.get_federation() is not None:
        raise CommandError("veche is already initialised here; nothing was changed.")
    try:
        _, group = services.create_federation(name=args.federation, first_group_name=args.group)
    except services.AlreadyInitialised as exc:
        raise CommandError("veche is already initialised here; nothing was changed.") from exc
    keys = services.create_founding_keys(group=group)
    _, secret = services.create_invitation(
        group=group, created_by=None, as_coordinator=True, keys=keys
    )
    print(f"Federation {args.federation!r} created with the group {args.group!r}.")
    print("Founding invitation (coordinator; works once; shown only now):")
    print(_join_url(args.base_url, secret))
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    """Print a one-time join URL for a group."""
    setup_django()
    from veche.apps.federation import selectors, services

    _require_initialised()
    group = selectors.get_group_by_name(name=args.group)
    if group is None:
        raise CommandError(f"no group named {args.group!r}.")
    from veche.apps.accounts.models import Member

    # An invitation carries the group's keys, which only members hold; the server has
    # no copy. So once anyone has joined, invitations come from a coordinator's session.
    if Member.objects.exists():
        raise CommandError(
            "members have joined: invitations must carry the group's keys, which only "
            "its members hold. A coordinator invites from the web (the group's page)."
        )
    # Nobody has joined yet (the founding invitation was lost): start new key epochs.
    keys = services.create_founding_keys(group=group, fresh_federation_key=True)
    _, secret = services.create_invitation(
        group=group, created_by=None, as_coordinator=args.coordinator, keys=keys
    )
    print(_join_url(args.base_url, secret))
    return 0


def _require_initialised() -> None:
    from django.db import DatabaseError

    from veche.apps.federation import selectors

    try:
        federation = selectors.get_federation()
    except DatabaseError as exc:
        raise CommandError("veche is not initialised here; run `veche init` first.") from exc
    if federation is None:
        raise CommandError("veche is not initialised here; run `veche init` first.")


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply database migrations."""
    setup_django()
    _migrate(verbosity=1)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Run Django's system checks (with the deployment checks)."""
    setup_django()
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", deploy=True)
    except SystemCheckError as exc:
        raise CommandError(str(exc).strip().splitlines()[0], exit_code=1) from exc
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate if needed, then replace this process with gunicorn (veche.config.gunicorn)."""
    setup_django()
    _migrate()
    if args.workers < 1 or args.threads < 1:
        raise CommandError("--workers and --threads must be at least 1")
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        # Worker model, logs without requests or addresses, no Server header: decisions
        # 0074 and 0075.
        "--config",
        "python:veche.config.gunicorn",
        "--bind",
        f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "veche.config.wsgi:application",
    ]
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # noqa: S606
    return 0  # not reached


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent copy of the database to FILE (SQLite: online backup; PostgreSQL:
    pg_dump). Content in it is encrypted like in the database itself."""
    import subprocess
    from pathlib import Path

    setup_django()
    from django.db import connection

    _require_initialised()
    target = Path(args.file)
    if target.exists() and not args.force:
        raise CommandError(f"{target} exists; add --force to overwrite it")
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
    elif connection.vendor == "postgresql":
        settings_dict = connection.settings_dict
        command = [
            "pg_dump",
            "--no-owner",
            "--file",
            str(target),
            "--dbname",
            settings_dict["NAME"],
        ]
        if settings_dict.get("HOST"):
            command += ["--host", settings_dict["HOST"]]
        if settings_dict.get("PORT"):
            command += ["--port", str(settings_dict["PORT"])]
        if settings_dict.get("USER"):
            command += ["--username", settings_dict["USER"]]
        env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        except FileNotFoundError:
            raise CommandError("pg_dump is not installed; install PostgreSQL's client") from None
        if done.returncode != 0:
            raise CommandError(f"pg_dump failed: {(done.stderr.strip().splitlines() or [''])[0]}")
    else:  # pragma: no cover - only the two databases are supported
        raise CommandError(f"backups of {connection.vendor} databases are not supported")
    os.chmod(target, 0o600)
    print(f"backup written to {target}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the SQLite database with a backup made by `veche backup` (server stopped)."""
    import sqlite3
    from pathlib import Path

    setup_django()
    from django.db import connection

    if connection.vendor != "sqlite":
        raise CommandError("restore PostgreSQL backups with psql or pg_restore")
    source = Path(args.file)
    try:
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        backup.execute("SELECT count(*) FROM django_migrations").fetchone()
    except sqlite3.Error as exc:
        raise CommandError(f"{source} is not a veche backup: {exc}") from None
    connection.ensure_connection()
    try:
        backup.backup(connection.connection)
    finally:
        backup.close()
    print(f"restored from {source}")
    return 0


# --- verify ---------------------------------------------------------------------------------


def _parse_head(text: str | None) -> Any:
    from veche.domain.decisions_log import Head

    if text is None:
        return None
    count, _, digest = text.partition(":")
    if not count.isdigit() or len(digest) != 64:
        raise CommandError("--head must be COUNT:DIGEST (a number, a colon, 64 hex digits)")
    return Head(count=int(count), digest=digest.lower())


def _report(name: str, records: list[Any], head: Any) -> bool:
    from veche.domain.decisions_log import verify, verify_against

    report = verify_against(records, head) if head is not None else verify(records)
    if report.ok:
        last = records[-1].digest if records else "(empty)"
        print(f"{name}: {len(records)} records, intact; head {len(records)}:{last}")
        return True
    for problem in report.problems:
        print(
            f"{name}: record {problem.seq} (position {problem.position}) "
            f"{problem.kind.value}: {problem.detail}",
            file=sys.stderr,
        )
    return False


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify one exported log file offline, or every chain in the database."""
    from veche.domain.decisions_log import records_from_jsonl
    from veche.domain.errors import ChainError

    head = _parse_head(args.head)
    if args.file:
        path = Path(args.file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        try:
            records = records_from_jsonl(text)
        except ChainError as exc:
            raise CommandError(f"{path}: {exc.message}", exit_code=1) from None
        return 0 if _report(str(path), records, head) else 1
    setup_django()
    from veche.apps.federation.selectors import get_federation
    from veche.apps.fund.selectors import verify_fund
    from veche.apps.proposals import selectors, services

    if get_federation() is None:
        raise CommandError("not initialised: run `veche init` (or `veche demo`) first")
    if head is not None:
        raise CommandError("--head goes with a FILE")
    ok = True
    for chain in selectors.chains():
        intact = _report(chain, selectors.log_records(chain), None)
        if intact:
            # A full check: pages verify from here on, not from the start.
            services.check_chain(chain)
        ok = intact and ok
    if not selectors.chains():
        print("no decisions recorded yet")
    fund_ok, fund_messages = verify_fund()
    print("\n".join(fund_messages), file=sys.stdout if fund_ok else sys.stderr)
    return 0 if ok and fund_ok else 1


def cmd_settle(args: argparse.Namespace) -> int:
    """Record every decision that has fallen due (pages do this too when viewed)."""
    setup_django()
    from veche.apps.proposals.services import settle_due

    # Without members' keys: what needs one (a vote's count) waits for a member's visit.
    print(f"{settle_due(scopes=frozenset())} decisions recorded")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the demo federation and print where to open it and how to log in."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from veche.apps.federation.selectors import get_federation

    if get_federation() is not None:
        raise CommandError("this data directory already holds a federation; use a fresh one")
    from django.utils import timezone

    from veche import demo

    logins = demo.build(now=timezone.now())
    print(f"veche demo: open {args.base_url.rstrip('/')}/")
    print(f"log in as any of these, passphrase: {demo.PASSPHRASE}")
    for group, names in logins.items():
        print(f"  {group} (coordinated by {names[0]}): {', '.join(names)}")
    return 0


def _add_base_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        default=os.environ.get("VECHE_BASE_URL", "http://127.0.0.1:8000"),
        help="address members use to reach this server (default %(default)s)",
    )


def _register_core(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("init", help="create the federation and its first group")
    p.add_argument("--federation", default="Federation", help="the federation's name")
    p.add_argument("--group", default="Founding group", help="the first group's name")
    _add_base_url(p)
    p.set_defaults(handler=cmd_init)

    p = subparsers.add_parser("serve", help="run the web server (gunicorn)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="processes (default: cores)"
    )
    p.add_argument("--threads", type=int, default=8, help="threads per process (default 8)")
    p.set_defaults(handler=cmd_serve)

    p = subparsers.add_parser("invite", help="print a one-time invitation to a group")
    p.add_argument("--group", required=True, help="the group's name")
    p.add_argument("--coordinator", action="store_true", help="the invitee becomes a coordinator")
    _add_base_url(p)
    p.set_defaults(handler=cmd_invite)

    p = subparsers.add_parser("backup", help="write a consistent copy of the database")
    p.add_argument("file", help="where to write it")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=cmd_backup)

    p = subparsers.add_parser("restore", help="restore a SQLite backup (stop the server first)")
    p.add_argument("file", help="a file written by `veche backup`")
    p.set_defaults(handler=cmd_restore)

    p = subparsers.add_parser("demo", help="create a demo federation with proposals in every state")
    _add_base_url(p)
    p.set_defaults(handler=cmd_demo)

    p = subparsers.add_parser(
        "verify", help="check the decision logs' hash chains and the fund (or a file, offline)"
    )
    p.add_argument("file", nargs="?", help="a log exported as JSON Lines (offline check)")
    p.add_argument(
        "--head", help="the log's published head as COUNT:DIGEST, to detect a cut-off tail"
    )
    p.set_defaults(handler=cmd_verify)

    p = subparsers.add_parser("settle", help="record every decision that has fallen due")
    p.set_defaults(handler=cmd_settle)

    p = subparsers.add_parser("migrate", help="apply database migrations")
    p.set_defaults(handler=cmd_migrate)

    p = subparsers.add_parser("check", help="run configuration checks")
    p.set_defaults(handler=cmd_check)

    p = subparsers.add_parser("verify-vote", help="check a secret vote's record offline")
    p.add_argument("file", help="a vote record downloaded from the server")
    p.add_argument("--receipt", help="a receipt to look up on the board")
    p.add_argument("--processes", type=int, help="worker processes (default: all cores)")
    p.set_defaults(handler=cmd_verify_vote)


def cmd_verify_vote(args: argparse.Namespace) -> int:
    # No Django: the record is checked with the crypto package and the pure domain only.
    from veche.verify_vote import run

    return run(args.file, receipt=args.receipt, processes=args.processes)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints the whole usage; keep it to one line.
        raise CommandError(f"{message} (see `veche --help`)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every registered subcommand."""
    parser = _Parser(prog="veche", description="Operate a veche server.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    _register_core(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``veche`` command; return its exit code."""
    # Everything veche writes (the database, its log, backups, the secret key) is for
    # the operator's account alone.
    os.umask(0o077)
    try:
        args = build_parser().parse_args(argv)
        handler: Handler = args.handler
        return handler(args)
    except CommandError as exc:
        print(f"veche: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("veche: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        print(f"veche: error: {type(exc).__name__}: {first_line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Run as `python -m veche.cli`, this file is __main__, a second copy of the module:
    # extensions raise veche.cli.CommandError, so call the canonical module's main().
    from veche.cli import main as canonical_main

    raise SystemExit(canonical_main())
