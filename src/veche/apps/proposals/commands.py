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
DEMO_GROUPS = {
    "Riverside Tenants": ["olena", "marko", "ines", "tomas", "yuki"],
    "Bakers' Co-op": ["sasha", "amir", "lena", "pavel"],
    "Night Shift Union": ["dana", "kofi", "mira", "ivo"],
}


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
    """Create the demo federation; return group name -> pseudonyms (first: coordinator).

    ``keys`` (a Keyring) receives every key the demo makes, for tests that read it all.
    """
    from django.db import transaction

    from veche.apps.core import keyring
    from veche.crypto import Keyring

    # The demo plays every member in turn, so it holds every key while it builds; the
    # keys leave with this function, sealed to the members' key pairs only.
    demo_keys = Keyring() if keys is None else keys
    with keyring.using(demo_keys), transaction.atomic():
        _build_demo(now=now, keys=demo_keys)
    return {g: list(n) for g, n in DEMO_GROUPS.items()}


def _build_demo(*, now: dt.datetime, keys: Any) -> None:
    from django.contrib.auth.hashers import make_password

    from veche.apps.accounts.models import Member
    from veche.apps.accounts.services import enrol_member
    from veche.apps.federation import services as org
    from veche.apps.proposals import services as s
    from veche.domain.consensus import Position
    from veche.domain.proposals import Outcome, ReachedBy

    h = dt.timedelta(hours=1)
    d = dt.timedelta(days=1)
    start = now - 30 * d
    password = make_password(DEMO_PASSPHRASE)
    people: dict[str, Member] = {}
    names = list(DEMO_GROUPS)
    _, first = org.create_federation(name="Demo federation", first_group_name=names[0], now=start)
    groups = {names[0]: first}
    for name in names[1:]:
        groups[name] = org.create_group(name=name, now=start)
    for group in groups.values():
        for key_id, key in org.create_founding_keys(group=group, now=start).items():
            keys.add(key_id, key)
    for group_name, pseudonyms in DEMO_GROUPS.items():
        for i, pseudonym in enumerate(pseudonyms):
            member, _private = enrol_member(
                group=groups[group_name], pseudonym=pseudonym, keys=keys,
                passphrase=DEMO_PASSPHRASE, password_hash=password, joined_at=start,
            )  # fmt: skip
            people[pseudonym] = member
            if i == 0:
                org.start_coordinator_term(group=groups[group_name], member=member, now=start)

    def p(**kwargs: Any) -> Any:
        return s.create_proposal(**kwargs)

    agree, block, aside, obj = Position.AGREE, Position.BLOCK, Position.STAND_ASIDE, Position.OBJECT
    riverside = DEMO_GROUPS["Riverside Tenants"]

    # Adopted by consensus: every member of the group agreed.
    t = now - 20 * d
    row = p(
        author=people["olena"],
        kind_key="group-practice",
        title="Meet on the first Monday",
        body="We meet on the **first Monday** of each month at 19:00 in the laundry room.",
        now=t,
    )
    for i, name in enumerate(riverside):
        s.respond(
            row=row,
            member=people[name],
            position=aside if name == "yuki" else agree,
            reason="I work Mondays, go ahead." if name == "yuki" else "",
            version=1,
            now=t + (i + 1) * h,
        )
    s.post_comment(
        author=people["marko"], body="Good: the laundry room is free then.", row=row, now=t + h
    )

    # Not adopted: a federation proposal (assembly) blocked by two members.
    t = now - 19 * d
    row = p(
        author=people["sasha"],
        kind_key="common-policy",
        title="Share one printing press",
        body="All groups print their leaflets on the Bakers' press; each pays for its paper.",
        now=t,
    )
    for i, (name, pos, why) in enumerate(
        [
            ("sasha", agree, ""),
            ("amir", agree, ""),
            ("olena", agree, ""),
            ("dana", block, "Our leaflets must not be traceable to one shared press."),
            ("kofi", block, "Same concern: one press links every group's material."),
            ("marko", obj, "Who keeps the key?"),
        ]
    ):
        s.respond(
            row=row, member=people[name], position=pos, reason=why, version=1, now=t + (i + 1) * h
        )

    # Decided by an urgent vote (Schulze) after consensus failed, in the past.
    t = now - 12 * d
    row = p(
        author=people["marko"],
        kind_key="group-practice",
        urgent=True,
        title="Where to hold the tenants' assembly",
        body="The landlord closed the laundry room. We need a room by Friday.",
        options=["The library", "The school hall", "Yuki's flat"],
        deadline=t + 6 * h,
        now=t,
    )
    s.respond(
        row=row,
        member=people["ines"],
        position=block,
        reason="Not the school hall: the caretaker reports to the landlord.",
        version=1,
        now=t + h,
    )
    ballots = {
        "olena": [0, 2, 1],
        "marko": [1, 0],
        "ines": [0, 2],
        "tomas": [2, 0, 1],
        "yuki": [0, 1, 2],
    }
    for i, (name, ballot) in enumerate(ballots.items()):
        s.cast_ballot(row=row, voter=people[name], ballot=ballot, now=t + 7 * h + i * h)

    # An earlier mandate, so rotation has a previous holder to exclude: olena held it.
    t = now - 10 * d
    row = p(
        author=people["tomas"],
        kind_key="group-quick-response",
        urgent=True,
        title="Answer the eviction notice at number 12",
        body="A family got a notice; someone must speak for us with the housing office.",
        mandate_scope=["Contact with the housing office"],
        deadline=t + 2 * h,
        now=t,
    )
    s.respond(
        row=row,
        member=people["ines"],
        position=obj,
        reason="We need more facts first.",
        version=1,
        now=t + h,
    )
    s.volunteer(row=row, member=people["olena"], now=t + 3 * h)
    s.record_mandate_decision(
        row=row,
        holder=people["olena"],
        matter="Contact with the housing office",
        text="Asked the office for a two-week stay; granted.",
        now=t + 9 * h,
    )

    # Under a mandate now: olena held the last one, so rotation keeps her out.
    t = now - 10 * h
    row = p(
        author=people["yuki"],
        kind_key="group-quick-response",
        urgent=True,
        title="Heating failure: talk to the repair firm",
        body="The boiler failed in the cold. Someone must deal with the repair firm **today**.",
        mandate_scope=["Dealing with the repair firm", "Spending up to 200 from the kitty"],
        deadline=t + 2 * h,
        now=t,
    )
    s.respond(
        row=row,
        member=people["marko"],
        position=obj,
        reason="Cheaper firms exist.",
        version=1,
        now=t + h,
    )
    for i, name in enumerate(["ines", "tomas"]):
        s.volunteer(row=row, member=people[name], now=t + 3 * h + i * dt.timedelta(minutes=10))
    loaded = s.settle(row, now=t + 9 * h)
    holder = loaded.state.mandate.holder if loaded.state.mandate else None
    if holder:
        s.record_mandate_decision(
            row=row,
            holder=Member.objects.get(pk=int(holder)),
            matter="Dealing with the repair firm",
            text="Booked the repair for tomorrow 8:00.",
            now=t + 9 * h,
        )

    # In an urgent vote now: no consensus by the deadline, the vote is open.
    t = now - 5 * h
    row = p(
        author=people["amir"],
        kind_key="group-practice",
        urgent=True,
        title="Which flour supplier for the winter",
        body="Our supplier doubled prices. Choose one of three offers.",
        options=["Mill on the river", "Farmers' cooperative", "Wholesale market"],
        deadline=t + 2 * h,
        now=t,
    )
    s.respond(
        row=row,
        member=people["lena"],
        position=block,
        reason="The wholesale market buys from the firm that broke our strike.",
        version=1,
        now=t + h,
    )
    s.cast_ballot(row=row, voter=people["amir"], ballot=[1, 0], now=t + 3 * h)
    s.cast_ballot(row=row, voter=people["pavel"], ballot=[0, 1, 2], now=t + 3 * h)

    # Open, seeking consensus: a federation proposal in spokes mode (admit a group).
    t = now - 2 * d
    row = p(
        author=people["dana"],
        kind_key="admit-group",
        title="Admit the Harbour Cleaners",
        body="The harbour cleaners organised last spring and ask to join us.",
        new_group_name="Harbour Cleaners",
        now=t,
    )
    s.carry_group_position(row=row, coordinator=people["dana"], position=agree, now=t + h)
    s.respond(row=row, member=people["amir"], position=agree, version=1, now=t + 2 * h)
    s.respond(
        row=row,
        member=people["marko"],
        position=obj,
        reason="Who vouches for them?",
        version=1,
        now=t + 3 * h,
    )

    # Open, seeking consensus: a group proposal with some responses, amended once.
    t = now - 1 * d
    row = p(
        author=people["ines"],
        kind_key="group-practice",
        title="Rotate the minute-taker",
        body="Each meeting, the next person in alphabetical order takes the minutes.",
        now=t,
    )
    s.respond(
        row=row,
        member=people["tomas"],
        position=obj,
        reason="Alphabetical puts me last.",
        version=1,
        now=t + h,
    )
    s.amend(
        row=row,
        actor=people["ines"],
        title="Rotate the minute-taker",
        body="Each meeting, whoever took minutes least often takes them.",
        now=t + 2 * h,
    )
    s.respond(row=row, member=people["tomas"], position=agree, version=2, now=t + 3 * h)
    s.respond(row=row, member=people["olena"], position=agree, version=2, now=t + 4 * h)

    # Decided at an in-person meeting and confirmed by two others present.
    t = now - 3 * d
    row = p(
        author=people["kofi"],
        kind_key="group-practice",
        title="Night shift solidarity fund",
        body="Each member puts 5 a month into a fund for members who lose shifts.",
        now=t,
    )
    s.record_meeting(
        row=row,
        recorder=people["kofi"],
        outcome=Outcome.ADOPTED,
        attendance=4,
        reached_by=ReachedBy.CONSENSUS,
        notes="Agreed at the canteen meeting.",
        now=t + 5 * h,
    )
    s.confirm_meeting(row=row, member=people["mira"], now=t + 6 * h)
    s.confirm_meeting(row=row, member=people["ivo"], now=t + 7 * h)

    # Seeking volunteers now: no consensus by the urgent deadline, volunteering is open.
    t = now - 3 * h
    row = p(
        author=people["kofi"],
        kind_key="group-quick-response",
        urgent=True,
        title="Speak for the union at tonight's vigil",
        body="The vigil is tonight; someone must speak for the union and agree the route.",
        mandate_scope=["Agreeing the route with the organisers"],
        deadline=t + h,
        now=t,
    )
    s.volunteer(row=row, member=people["ivo"], now=t + 90 * dt.timedelta(minutes=1))

    # Withdrawn by its author.
    t = now - 6 * d
    row = p(
        author=people["lena"],
        kind_key="group-practice",
        title="Close the bakery on Mondays",
        body="We could close on Mondays.",
        now=t,
    )
    s.withdraw(row=row, actor=people["lena"], now=t + 4 * h)

    # A draft, waiting for its author.
    p(
        author=people["pavel"],
        kind_key="group-practice",
        title="Bake for the strike kitchen",
        body="Draft: every Saturday we bake 40 loaves for the strike kitchen.",
        draft=True,
        now=now - 2 * h,
    )
    s.post_comment(
        author=people["sasha"],
        group=groups["Bakers' Co-op"],
        body="Reminder: the oven is being serviced on Thursday.",
        now=now - 3 * h,
    )
    s.settle_due(now=now, scopes=s.held_scopes())
