"""`veche demo`, `veche verify` and `veche settle`: operator commands for decisions.

``demo`` builds a federation of three groups with proposals in every state, by
replaying a scripted history through the same services members use (with the clock
passed in), so the demo can never show a state the rules would not produce.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

from veche.cli import CommandError, setup_django

DEMO_PASSPHRASE = "demo passphrase, not secret"  # noqa: S105 - printed for the demo


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("demo", help="create a demo federation with proposals in every state")
    p.add_argument(
        "--base-url", default="http://127.0.0.1:8000", help="where the demo will be served"
    )
    p.set_defaults(handler=cmd_demo)

    p = subparsers.add_parser(
        "verify", help="check the decision logs' hash chains (the database's, or a file's)"
    )
    p.add_argument("file", nargs="?", help="a log exported as JSON Lines (offline check)")
    p.add_argument(
        "--head", help="the log's published head as COUNT:DIGEST, to detect a cut-off tail"
    )
    p.set_defaults(handler=cmd_verify)

    p = subparsers.add_parser("settle", help="record every decision that has fallen due")
    p.set_defaults(handler=cmd_settle)


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
    from veche.apps.proposals import selectors

    if get_federation() is None:
        raise CommandError("not initialised: run `veche init` (or `veche demo`) first")
    if head is not None:
        raise CommandError("--head goes with a FILE")
    ok = True
    for chain in selectors.chains():
        ok = _report(chain, selectors.log_records(chain), None) and ok
    if not selectors.chains():
        print("no decisions recorded yet")
    if importlib.util.find_spec("veche.apps.fund") is not None:
        from veche.apps.fund.selectors import verify_fund

        fund_ok, fund_messages = verify_fund()
        print("\n".join(fund_messages), file=sys.stdout if fund_ok else sys.stderr)
        ok = fund_ok and ok
    return 0 if ok else 1


def cmd_settle(args: argparse.Namespace) -> int:
    """Record every decision that has fallen due (pages do this too when viewed)."""
    setup_django()
    from veche.apps.proposals.services import settle_due

    print(f"{settle_due()} decisions recorded")
    return 0


# --- demo -----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the demo federation and print where to open it and how to log in."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from veche.apps.federation.selectors import get_federation

    if get_federation() is not None:
        raise CommandError("this data directory already holds a federation; use a fresh one")
    from django.utils import timezone

    logins = build_demo(now=timezone.now())
    print(f"veche demo: open {args.base_url.rstrip('/')}/")
    print(f"log in as any of these, passphrase: {DEMO_PASSPHRASE}")
    for group, names in logins.items():
        print(f"  {group}: {', '.join(names)}")
    return 0


def build_demo(*, now: dt.datetime, keys: Any = None) -> dict[str, list[str]]:
    """Create the demo federation (``veche.demo``); return group name -> pseudonyms.

    ``keys`` (a Keyring) receives every key the demo makes, for tests that read it all;
    otherwise the keys leave with the builder, sealed to the members' key pairs only.
    """
    from veche import demo, scenario

    scenario.build(demo.DEMO, now=now, keys=keys)
    return demo.logins()
