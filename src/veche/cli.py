"""The ``veche`` command for operators: init, serve, demo, invite, backup, restore,
charter export, export, verify, settle, migrate, check.

Every subcommand is listed in :func:`build_parser`, here: no discovery at run time.
Each handler takes the parsed ``argparse.Namespace`` and returns an exit code. Django
is set up lazily by the handlers that need it (``setup_django()``), so the offline
checks (``verify FILE``) run without a database.

Every failure is one line on stderr and a non-zero exit; never a traceback.
Exit codes: 0 ok, 1 unexpected error, 2 usage error or refused.
"""

from __future__ import annotations

import argparse
import contextlib
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
    """Create the database, the federation and its first group; print a founding invitation.

    With ``--charter FILE`` the federation starts with the rules in FILE (as written by
    ``veche charter export``), read and validated before anything is created.
    """
    charter = _read_charter(Path(args.charter)) if args.charter else None
    setup_django()
    _migrate()
    from veche.apps.federation import selectors, services

    if selectors.get_federation() is not None:
        raise CommandError("veche is already initialised here; nothing was changed.")
    try:
        _, group = services.create_federation(
            name=args.federation, first_group_name=args.group, charter=charter
        )
    except services.AlreadyInitialised as exc:
        raise CommandError("veche is already initialised here; nothing was changed.") from exc
    keys = services.create_founding_keys(group=group)
    _, secret = services.create_invitation(
        group=group, created_by=None, as_coordinator=True, keys=keys
    )
    print(f"Federation {args.federation!r} created with the group {args.group!r}.")
    if charter is not None:
        print(f"Its charter is the one in {args.charter} ({len(charter.kinds)} decision kinds).")
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


# --- portable charters and records ---------------------------------------------------------


def _read_charter(path: Path) -> Any:
    """Return the charter in the JSON file ``path``, validated; refuse in one line."""
    import json

    from veche.domain.charter import Charter
    from veche.domain.errors import InvalidCharter

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{path} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise CommandError(f"{path} is not a charter: it must be a JSON object")
    try:
        return Charter.from_dict(data)
    except InvalidCharter as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise CommandError(f"{path} is not a valid charter{where}: {exc.message}") from None
    except RecursionError:
        raise CommandError(f"{path} is not a valid charter: nested too deeply") from None


def _refuse_existing(target: str, force: bool) -> None:
    if target != "-" and Path(target).exists() and not force:
        raise CommandError(f"{target} exists; add --force to overwrite it")


def _open_output(target: str, force: bool) -> Any:
    """Return a text file to write ``target`` into ("-": standard output), for the operator only."""
    if target == "-":
        return contextlib.nullcontext(sys.stdout)
    _refuse_existing(target, force)
    path = Path(target)
    try:
        # The umask (main) leaves it readable by the operator alone.
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_charter_export(args: argparse.Namespace) -> int:
    """Write the federation's charter to FILE as plain JSON, for `veche init --charter`."""
    import json

    setup_django()
    _require_initialised()
    from veche.apps.federation.selectors import get_charter

    charter = get_charter()
    if charter is None:
        raise CommandError("the federation has no charter")
    text = json.dumps(charter.to_dict(), indent=2, ensure_ascii=False) + "\n"
    with _open_output(args.file, args.force) as out:
        out.write(text)
    if args.file != "-":
        print(f"charter written to {args.file} ({len(charter.kinds)} decision kinds)")
    return 0


def _read_passphrase(args: argparse.Namespace, pseudonym: str) -> str:
    """Return the passphrase from --passphrase-file, or asked at the terminal (never argv)."""
    import getpass

    if args.passphrase_file:
        path = Path(args.passphrase_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read the passphrase file {path}: {exc}") from None
        # The first line, as typed: only the line break is not part of it.
        return text.split("\n", 1)[0].removesuffix("\r")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the passphrase: give --passphrase-file FILE")
    return getpass.getpass(f"Passphrase of {pseudonym}: ")


class _NoPassphraseHere(argparse.Action):
    """``--passphrase``: refused without repeating what followed it (it may be the secret)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        raise CommandError(
            "a passphrase is never given on the command line (the shell's history and the "
            "process list keep it): use --passphrase-file FILE, or type it when asked"
        )


def _ask_pseudonym(args: argparse.Namespace) -> str:
    if args.member:
        return str(args.member)
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the member's pseudonym: give --member NAME")
    return input("Pseudonym of a member of the group: ").strip()


def cmd_export(args: argparse.Namespace) -> int:
    """Write a group's decision chains and its readable content, with a member's keys."""
    setup_django()
    _require_initialised()
    from django.utils import timezone

    from veche.apps.accounts.keys import keyring_for
    from veche.apps.accounts.services import check_passphrase
    from veche.apps.core import keyring
    from veche.apps.federation import selectors
    from veche.apps.proposals.portable import group_export

    group = selectors.get_group_by_name(name=args.group)
    if group is None:
        raise CommandError(f"no group named {args.group!r}")
    _refuse_existing(args.file, args.force)
    pseudonym = _ask_pseudonym(args)
    passphrase = _read_passphrase(args, pseudonym)
    member, private_key = check_passphrase(pseudonym=pseudonym, passphrase=passphrase)
    if member is None:
        raise CommandError("that pseudonym and passphrase open no active member's keys")
    if member.group_id != group.pk:
        raise CommandError(
            f"that member is not in {args.group!r}: only its own members hold its keys"
        )
    count = 0
    with keyring.using(keyring_for(member, private_key)):
        lines = list(group_export(member=member, now=timezone.now()))
    with _open_output(args.file, args.force) as out:
        for line in lines:
            out.write(line)
            count += line.count("\n")
    if args.file != "-":
        print(
            f"{args.group}: {count} lines written to {args.file}; it holds the group's "
            "content in clear: keep it as safe as the passphrase"
        )
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


class _Section:
    """One chain of a file: its name and published head (from its marker line, if any),
    and the file's text with every line not of this chain blanked (line numbers hold)."""

    def __init__(self, name: str | None, head: Any, size: int) -> None:
        self.name = name
        self.head = head
        self.lines = [""] * size

    def text(self) -> str:
        return "\n".join(self.lines)


def _marker_head(path: Path, number: int, raw: Any) -> Any:
    from veche.domain.decisions_log import GENESIS_DIGEST, Head

    if raw is None:
        return None
    count = raw.get("count") if isinstance(raw, dict) else None
    digest = raw.get("digest") if isinstance(raw, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise CommandError(f"{path}: line {number}: a chain's head needs a count", exit_code=1)
    if count == 0 and digest is None:
        digest = GENESIS_DIGEST
    if not isinstance(digest, str) or len(digest) != 64:
        raise CommandError(f"{path}: line {number}: a chain's head needs a digest", exit_code=1)
    return Head(count=count, digest=digest)


def _split_export(path: Path, text: str) -> tuple[list[_Section], list[tuple[int, Any]]]:
    """Return a file's chains, and its other lines (an export's header and content).

    A plain log (``/decisions/<chain>.jsonl``) is one unnamed chain. An export by
    ``veche export`` opens each chain with ``{"chain": NAME, "head": {...}}``; its
    ``{"veche_export": ...}`` header and ``{"content": ...}`` lines are not records.
    Lines that are not JSON stay with the chain, whose reader names them.
    """
    import json

    raw_lines = text.split("\n")
    sections = [_Section(None, None, len(raw_lines))]
    other: list[tuple[int, Any]] = []
    for index, line in enumerate(raw_lines):
        try:
            obj = json.loads(line) if line.strip() else None
        except (json.JSONDecodeError, RecursionError):
            obj = None
        if isinstance(obj, dict) and "chain" in obj and set(obj) <= {"chain", "head"}:
            if not isinstance(obj["chain"], str) or not obj["chain"]:
                raise CommandError(f"{path}: line {index + 1}: a chain needs a name", exit_code=1)
            head = _marker_head(path, index + 1, obj.get("head"))
            sections.append(_Section(obj["chain"], head, len(raw_lines)))
        elif isinstance(obj, dict) and ("content" in obj or "veche_export" in obj):
            other.append((index + 1, obj))
        else:
            sections[-1].lines[index] = line
    named = sections[1:]
    if named and any(line.strip() for line in sections[0].lines):
        raise CommandError(f"{path}: records before the first chain's marker line", exit_code=1)
    return (named or sections[:1]), other


def _check_references(path: Path, other: list[tuple[int, Any]], chains: dict[str, Any]) -> bool:
    """Return whether every content line's decision is a record of its chain in the file."""
    ok, items, references = True, 0, 0
    for number, obj in other:
        if "content" not in obj:
            continue
        items += 1
        decision, chain = obj.get("decision"), obj.get("chain")
        if decision is None:
            continue
        references += 1
        seq = decision.get("seq") if isinstance(decision, dict) else None
        digest = decision.get("digest") if isinstance(decision, dict) else None
        found = chains.get(chain, {}) if isinstance(chain, str) else {}
        if isinstance(seq, int) and found.get(seq) == digest:
            continue
        ok = False
        print(
            f"{path}: line {number}: names record {seq} of {chain!r}, which the file's "
            "chains do not hold with that digest",
            file=sys.stderr,
        )
    if items:
        print(
            f"{path}: {items} readable items, which the hash chains do not cover; "
            f"{references} name their decision record" + (", all found" if ok else "")
        )
    return ok


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
        sections, other = _split_export(path, text)
        if head is not None and len(sections) > 1:
            raise CommandError(f"--head names one chain; {path} holds {len(sections)}")
        ok = True
        chains: dict[str, Any] = {}
        for section in sections:
            try:
                records = records_from_jsonl(section.text())
            except ChainError as exc:
                raise CommandError(f"{path}: {exc.message}", exit_code=1) from None
            name = f"{path}: {section.name}" if section.name else str(path)
            ok = _report(name, records, head or section.head) and ok
            if section.name:
                chains[section.name] = {r.seq: r.digest for r in records}
        return 0 if _check_references(path, other, chains) and ok else 1
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
        # The checkpoint is a head this database published to its own pages: a chain
        # cut or re-hashed behind it fails here too, and the checkpoint stays.
        intact = _report(chain, selectors.log_records(chain), selectors.checked_head(chain))
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
    """Record every decision that has fallen due and needs no member's key (requests
    record those due too, before they are served)."""
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
    p.add_argument(
        "--charter", metavar="FILE", help="start with this charter (from `veche charter export`)"
    )
    _add_base_url(p)
    p.set_defaults(handler=cmd_init)

    p = subparsers.add_parser("charter", help="move the federation's rules (charter export)")
    charter = p.add_subparsers(dest="charter_command", metavar="ACTION", parser_class=_Parser)
    charter.required = True
    q = charter.add_parser("export", help="write the charter as JSON, for `veche init --charter`")
    q.add_argument("file", help="where to write it (- for standard output)")
    q.add_argument("--force", action="store_true", help="overwrite an existing file")
    q.set_defaults(handler=cmd_charter_export)

    p = subparsers.add_parser(
        "export",
        help="write a group's decisions and readable content (a member's keys)",
        allow_abbrev=False,
    )
    p.add_argument("--group", required=True, help="the group's name")
    p.add_argument("file", help="where to write the JSON Lines (- for standard output)")
    p.add_argument("--member", help="a member's pseudonym (asked for if not given)")
    p.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="read the member's passphrase from FILE's first line (else asked for)",
    )
    p.add_argument("--passphrase", nargs="?", action=_NoPassphraseHere, help=argparse.SUPPRESS)
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=cmd_export)

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

    p = subparsers.add_parser(
        "settle", help="record every decision that has fallen due and needs no member's key"
    )
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
        if message.startswith("unrecognized arguments"):
            # Not repeated: a passphrase typed in the wrong place must not reach a log.
            message = "unrecognized arguments"
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
