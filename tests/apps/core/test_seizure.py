"""What a seized server gives away: no content, in the database, its log, backups or config.

Every kind of text members write is seeded with a unique marker — every field of every
form, checked mechanically (:data:`FORM_FIELDS` must list each one) — then the database
file with its write-ahead log, a backup made by `veche backup`, and on PostgreSQL a
pg_dump and the server's own data directory (the database's heap files and ``pg_wal``,
after a ``CHECKPOINT``), and the server's configuration (its data directory and
settings) are searched byte by byte for every marker. The same markers must be readable
through the web pages by a logged-in member who may read them: the test proves the data
is there, only not in the clear.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.db import connection
from django.utils import timezone

from veche.apps.proposals import services as s
from veche.domain.consensus import Position
from veche.domain.proposals import Outcome, ReachedBy

pytestmark = pytest.mark.django_db(transaction=True)


def _marker(kind: str) -> str:
    return f"MARK{kind}{uuid.uuid4().hex[:12]}"


# Every field of every form, and what the seed below writes through it: a marker's kind
# (the text must not be found in clear), SECRET (typed, never stored in any form: its
# marker must not be found either) or STRUCTURE (a choice, a number, a date, an id, a
# form token: not content, stored in clear by design, docs/security.md).
SECRET, STRUCTURE = "secret", "structure"
FORM_FIELDS: dict[tuple[str, str], str] = {
    ("JoinForm", "pseudonym"): "joinpseudonym",
    ("JoinForm", "passphrase"): SECRET,
    ("JoinForm", "passphrase_again"): SECRET,
    ("LoginForm", "pseudonym"): "loginpseudonym",
    ("LoginForm", "passphrase"): SECRET,
    ("InviteForm", "as_coordinator"): STRUCTURE,
    ("ProposalForm", "kind"): STRUCTURE,
    ("ProposalForm", "title"): "title",
    ("ProposalForm", "body"): "body",
    ("ProposalForm", "urgent"): STRUCTURE,
    ("ProposalForm", "deadline"): STRUCTURE,
    ("ProposalForm", "options"): "option",
    ("ProposalForm", "mandate_scope"): "matter",
    ("ProposalForm", "new_group_name"): "groupname",
    ("ProposalForm", "coordinator"): STRUCTURE,
    ("ProposalForm", "member"): STRUCTURE,
    ("ProposalForm", "draft"): STRUCTURE,
    ("AmendmentTextForm", "title"): "chartertitle",
    ("AmendmentTextForm", "body"): "charterbody",
    ("AmendmentTextForm", "draft"): STRUCTURE,
    ("AmendForm", "title"): "amendedtitle",
    ("AmendForm", "body"): "amendedbody",
    ("ResponseForm", "position"): STRUCTURE,
    ("ResponseForm", "reason"): "reason",
    ("ResponseForm", "version"): STRUCTURE,
    ("MandateDecisionForm", "matter"): "matter",
    ("MandateDecisionForm", "text"): "mandatetext",
    ("MeetingForm", "outcome"): STRUCTURE,
    ("MeetingForm", "reached_by"): STRUCTURE,
    ("MeetingForm", "attendance"): STRUCTURE,
    ("MeetingForm", "notes"): "meetingnotes",
    ("MeetingForm", "held_on"): STRUCTURE,
    ("MeetingRecordForm", "held_on"): STRUCTURE,
    ("MeetingRecordForm", "attendance"): STRUCTURE,
    ("MeetingRecordForm", "notes"): "recordnotes",
    ("TakenForm", "kind"): STRUCTURE,
    ("TakenForm", "title"): "takentitle",
    ("TakenForm", "text"): "takentext",
    ("TakenForm", "outcome"): STRUCTURE,
    ("TakenForm", "reached_by"): STRUCTURE,
    ("TakenForm", "member"): STRUCTURE,
    ("CommentForm", "body"): "comment",
    ("MoneyForm", "token"): STRUCTURE,
    ("MoneyForm", "amount"): STRUCTURE,
    ("MoneyForm", "currency"): STRUCTURE,
    ("ContributionForm", "token"): STRUCTURE,
    ("ContributionForm", "amount"): STRUCTURE,
    ("ContributionForm", "currency"): STRUCTURE,
    ("ContributionForm", "memo"): "memo",
    ("MoneyRequestForm", "token"): STRUCTURE,
    ("MoneyRequestForm", "amount"): STRUCTURE,
    ("MoneyRequestForm", "currency"): STRUCTURE,
    ("MoneyRequestForm", "purpose"): "purpose",
    ("HelpRequestForm", "token"): STRUCTURE,
    ("HelpRequestForm", "purpose"): "helppurpose",
    ("AnswerForm", "token"): STRUCTURE,
    ("AnswerForm", "text"): "answer",
    ("DisburseForm", "token"): STRUCTURE,
    ("DisburseForm", "decision"): STRUCTURE,
    ("TransferForm", "token"): STRUCTURE,
    ("TransferForm", "amount"): STRUCTURE,
    ("TransferForm", "currency"): STRUCTURE,
    ("TransferForm", "to_group"): STRUCTURE,
    ("TransferForm", "decision"): STRUCTURE,
    ("TransferForm", "memo"): "transfermemo",
    ("NewTokenForm", "may_act"): STRUCTURE,
    ("NewFeedForm", "kind"): STRUCTURE,
    ("NewFeedForm", "with_titles"): STRUCTURE,
    ("RevokeForm", "key"): STRUCTURE,
    ("PeriodForm", "start"): STRUCTURE,
    ("PeriodForm", "end"): STRUCTURE,
}
MARKERS = sorted({kind for kind in FORM_FIELDS.values() if kind not in (STRUCTURE, SECRET)} | {
    "pseudonym", "groupcomment", "fedtitle", "fedreason", "fedcomment", "joinpassphrase",
    "loginpassphrase",
})  # fmt: skip


def every_form_field() -> set[tuple[str, str]]:
    """Return (form class, field) for every form of every veche app."""
    import veche.apps

    found = set()
    for app in pkgutil.iter_modules(veche.apps.__path__):
        try:
            module = importlib.import_module(f"veche.apps.{app.name}.forms")
        except ModuleNotFoundError:
            continue
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, forms.Form)
                and cls.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found |= {(name, field) for field in cls.base_fields}
    return found


def test_the_seizure_test_covers_every_field_of_every_form() -> None:
    """A new form field must say here what it stores, and the seed below must write it."""
    assert every_form_field() == set(FORM_FIELDS)


def _seed(make_member: Any, group_a: Any, group_b: Any) -> tuple[dict[str, str], Any, Any]:
    """Create one of every kind of text, each with its own marker; return them."""
    m = {kind: _marker(kind) for kind in MARKERS}
    author = make_member(group_a, m["pseudonym"], coordinator=True)
    others = [make_member(group_a, f"alpha{i}") for i in range(3)]
    outsider = make_member(group_b, "beta1", coordinator=True)
    now = timezone.now()
    h = dt.timedelta(hours=1)
    # The history below reaches back two days: everyone was there from its start.
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import CoordinatorTerm, Group

    Member.objects.update(joined_at=now - 100 * h)
    Group.objects.update(created_at=now - 100 * h)
    CoordinatorTerm.objects.update(starts_at=now - 100 * h)

    # A group proposal, amended, with reasons, alternatives, a vote and a discussion.
    voted = s.create_proposal(
        author=author, kind_key="group-practice", title=m["title"], body=m["body"],
        urgent=True, deadline=now - 47 * h, options=[m["option"], "second choice"],
        now=now - 48 * h,
    )  # fmt: skip
    s.respond(row=voted, member=others[0], position=Position.BLOCK, reason=m["reason"],
              version=1, now=now - 47.5 * h)  # fmt: skip
    for i, voter in enumerate([author, *others]):
        s.cast_ballot(row=voted, voter=voter, ballot=[i % 2, 1 - i % 2], now=now - 46 * h + i * h)
    s.post_comment(author=author, body=m["comment"], row=voted, now=now - 40 * h)
    s.post_comment(author=author, body=m["groupcomment"], group=group_a, now=now - 40 * h)

    amended = s.create_proposal(
        author=author, kind_key="group-practice", title="first words", body="first body",
        now=now - 30 * h,
    )  # fmt: skip
    s.amend(row=amended, actor=author, title=m["amendedtitle"], body=m["amendedbody"],
            now=now - 29 * h)  # fmt: skip

    # A mandate with a decision in its scope, and a meeting record.
    mandate = s.create_proposal(
        author=author, kind_key="group-quick-response", title="quick", body="quick body",
        urgent=True, deadline=now - 20 * h, mandate_scope=[m["matter"]], now=now - 21 * h,
    )  # fmt: skip
    s.volunteer(row=mandate, member=others[1], now=now - 19 * h)
    s.record_mandate_decision(row=mandate, holder=others[1], matter=m["matter"],
                              text=m["mandatetext"], now=now - 10 * h)  # fmt: skip
    met = s.create_proposal(
        author=author, kind_key="group-practice", title="met", body="met body", now=now - 5 * h
    )
    s.record_meeting(
        row=met, recorder=author, outcome=Outcome.ADOPTED, attendance=4,
        reached_by=ReachedBy.CONSENSUS, notes=m["meetingnotes"], now=now - 4 * h,
    )  # fmt: skip
    # A meeting's decisions recorded on their own (decision 0095), with its notes.
    s.record_meeting_decisions(
        recorder=author, held_on=(now - 6 * h).date(), attendance=4, notes=m["recordnotes"],
        decisions=[s.TakenAtMeeting(kind_key="group-practice", title=m["takentitle"],
                                    text=m["takentext"])],
        now=now - 4 * h,
    )  # fmt: skip

    # A federation proposal with a reason and a comment from another group.
    fed = s.create_proposal(
        author=author, kind_key="common-policy", title=m["fedtitle"], body="federation body",
        now=now - 3 * h,
    )  # fmt: skip
    s.respond(row=fed, member=outsider, position=Position.OBJECT, reason=m["fedreason"],
              version=1, now=now - 2 * h)  # fmt: skip
    s.post_comment(author=outsider, body=m["fedcomment"], row=fed, now=now - 2 * h)
    # The fund: a contribution's memo, a money request's purpose, help asked and given.
    from veche.apps.fund import services as fund

    # Money granted to group A, then moved to B on A's decision, with a memo.
    fund.contribute(actor=outsider, amount=3000, currency="EUR",
                    idempotency_key=fund.new_token(), now=now - 51 * h)  # fmt: skip
    granted = fund.request_money(actor=author, amount=1200, currency="EUR", purpose="seed",
                                 idempotency_key=fund.new_token(), now=now - 50 * h)  # fmt: skip
    for coordinator in (author, outsider):
        s.carry_group_position(row=granted.proposal, coordinator=coordinator,
                               position=Position.AGREE, now=now - 50 * h)  # fmt: skip
    fund.disburse(actor=author, proposal_id=granted.proposal_id,
                  idempotency_key=fund.new_token(), now=now - 49 * h)  # fmt: skip
    moving = s.create_proposal(author=author, kind_key="group-practice", title="move",
                               body="move money", now=now - 48 * h)  # fmt: skip
    for member in (author, *others):
        s.respond(row=moving, member=member, position=Position.AGREE, version=1,
                  now=now - 47 * h)  # fmt: skip
    fund.transfer(actor=author, to_group_id=group_b.pk, amount=1000, currency="EUR",
                  proposal_id=moving.pk, memo=m["transfermemo"],
                  idempotency_key=fund.new_token(), now=now - 46 * h)  # fmt: skip

    fund.contribute(actor=author, amount=5000, currency="EUR", memo=m["memo"],
                    idempotency_key=fund.new_token(), now=now - h)  # fmt: skip
    fund.request_money(actor=author, amount=2500, currency="EUR", purpose=m["purpose"],
                       idempotency_key=fund.new_token(), now=now - h)  # fmt: skip
    asked = fund.request_help(actor=author, purpose=m["helppurpose"],
                              idempotency_key=fund.new_token(), now=now - h)  # fmt: skip
    fund.answer_help(actor=outsider, request=asked, text=m["answer"],
                     idempotency_key=fund.new_token(), now=now - h / 2)  # fmt: skip

    # An amendment of the charter: its words are the author's, the charter it carries is
    # structure (decision 0091).
    from dataclasses import replace as _replace

    from veche.apps.federation.selectors import get_charter
    from veche.domain.charter import with_kind

    charter = get_charter()
    practice = charter.kind("group-practice")
    shorter = _replace(practice, consensus=_replace(practice.consensus, period=6 * 24 * h))
    s.create_proposal(author=author, kind_key="charter-amendment", title=m["chartertitle"],
                      body=m["charterbody"], charter=with_kind(charter, shorter),
                      now=now - 3 * h)  # fmt: skip

    # A group proposed for admission keeps its name encrypted until it is admitted.
    s.create_proposal(author=author, kind_key="admit-group", title="admit", body="admit body",
                      new_group_name=m["groupname"], now=now - 3 * h)  # fmt: skip
    # Joining by invitation, and logging in with a wrong passphrase and a right one:
    # pseudonyms are kept encrypted, passphrases not at all.
    from tests.conftest import PASSPHRASE

    from veche.apps.accounts import keys as key_service
    from veche.apps.accounts.services import check_passphrase
    from veche.apps.federation.services import create_invitation, redeem_invitation

    _, secret = create_invitation(
        group=group_a, created_by=author, keys=key_service.keys_for_group(
            __import__("veche.apps.core.keyring", fromlist=["current"]).current(), group_a.pk
        ),
    )  # fmt: skip
    joined = redeem_invitation(secret=secret, pseudonym=m["joinpseudonym"],
                               passphrase=f"{m['joinpassphrase']} river lamp table")  # fmt: skip
    assert joined.pk
    make_member(group_a, m["loginpseudonym"], passphrase=f"{m['loginpassphrase']} a b c d")
    check_passphrase(pseudonym=m["loginpseudonym"], passphrase="wrong " + m["loginpassphrase"])
    check_passphrase(pseudonym=m["loginpseudonym"], passphrase=f"{m['loginpassphrase']} a b c d")
    assert PASSPHRASE not in m.values()
    s.settle_due(now=now)
    return m, author, outsider


def _access_secrets(browser: Any) -> dict[str, str]:
    """Make an API token and both feeds (with titles) on the account page, use each once,
    and return their secrets: shown once to the member, never to be stored or logged."""
    import re

    made = {}
    for name, data in (
        ("token", {"action": "token", "may_act": "on"}),
        ("inboxfeed", {"action": "feed", "kind": "inbox", "with_titles": "on"}),
        ("decisionsfeed", {"action": "feed", "kind": "decisions", "with_titles": "on"}),
    ):
        page = browser.post("/account/", data).content.decode()
        found = re.search(r'id="new-secret" type="text" readonly size="\d+" value="([^"]+)"', page)
        assert found, name
        made[name] = found.group(1).rsplit("/feeds/", 1)[-1].split("/", 1)[0]
    from django.test import Client

    api = Client(headers={"Authorization": f"Bearer {made['token']}"})
    assert api.get("/api/inbox").status_code == 200
    assert Client().get(f"/feeds/{made['inboxfeed']}/inbox.atom").status_code == 200
    assert Client().get(f"/feeds/{made['decisionsfeed']}/decisions.atom").status_code == 200
    return made


def _database_files() -> list[Path]:
    if connection.vendor != "sqlite":
        return []
    name = Path(connection.settings_dict["NAME"])
    return [p for p in (name, Path(f"{name}-wal"), Path(f"{name}-shm")) if p.exists()]


def _configuration_files() -> list[Path]:
    data_dir = Path(settings.VECHE_DATA_DIR) if hasattr(settings, "VECHE_DATA_DIR") else None
    files = [Path(__file__).resolve().parents[3] / "src" / "veche" / "config" / "settings.py"]
    if data_dir and data_dir.exists():
        files += [p for p in data_dir.iterdir() if p.is_file() and "sqlite3" not in p.name]
    return files


def _pg_files() -> dict[str, bytes]:
    """Return the PostgreSQL server's files for this database, and its whole WAL.

    After a CHECKPOINT, so that every page written so far is in the heap files as a
    seized, stopped server's disk would hold it; the WAL keeps every change since.
    """
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("SHOW data_directory")
        data = Path(cursor.fetchone()[0])
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        oid = cursor.fetchone()[0]
    found: dict[str, bytes] = {}
    for folder in (data / "base" / str(oid), data / "pg_wal"):
        assert folder.is_dir(), f"cannot read {folder}: run the suite as the database's owner"
        for path in folder.iterdir():
            if path.is_file():
                found[str(path)] = path.read_bytes()
    return found


def _pg_dump() -> bytes:
    d = connection.settings_dict
    command = ["pg_dump", "--no-owner", "--dbname", d["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if d.get(key):
            command += [flag, str(d[key])]
    return subprocess.run(command, capture_output=True, check=True).stdout  # noqa: S603


def test_a_seized_database_backups_and_configuration_reveal_no_content(
    make_member, group_a, group_b, client_for, tmp_path, caplog
):
    from veche.cli import main

    caplog.set_level("DEBUG")
    markers, author, outsider = _seed(make_member, group_a, group_b)
    access = _access_secrets(client_for(author))
    # A control: group names are kept in clear (docs/security.md), so this one must be
    # found — proof that the search below would find a marker stored in clear.
    canary = _marker("canary")
    type(group_b).objects.filter(pk=group_b.pk).update(name=canary)
    connection.close()  # flush everything to the files as a stopped server would

    haystacks: dict[str, bytes] = {str(p): p.read_bytes() for p in _database_files()}
    backup = tmp_path / "backup.sqlite3"
    assert main(["backup", str(backup)]) == 0
    haystacks["backup"] = backup.read_bytes()
    if connection.vendor == "postgresql":
        haystacks["pg_dump"] = _pg_dump()
        haystacks.update(_pg_files())
    for path in _configuration_files():
        haystacks[str(path)] = path.read_bytes()
    assert any(len(h) > 10_000 for h in haystacks.values()), "the database was searched"

    hits = [
        (kind, where)
        for kind, marker in markers.items()
        for where, data in haystacks.items()
        for needle in (marker.encode(), marker.encode("utf-16-le"))
        if needle in data
    ]
    assert hits == []
    # Tokens' and feeds' secrets are nowhere either, nor in what the server logged.
    haystacks["log"] = caplog.text.encode()
    leaked = [
        (name, where)
        for name, secret in access.items()
        for where, data in haystacks.items()
        if secret.encode() in data
    ]
    assert leaked == []
    assert any(canary.encode() in data for data in haystacks.values())
    if connection.vendor == "postgresql":
        # The server's own files were searched too: the canary is in them.
        server_files = [
            d for where, d in haystacks.items() if "/base/" in where or "pg_wal" in where
        ]
        assert any(canary.encode() in data for data in server_files)

    # The content is there: a member who may read it reads every marker on the pages.
    from veche.apps.fund.models import SupportRequest
    from veche.apps.proposals.models import Proposal

    proposal_ids = list(Proposal.objects.values_list("pk", flat=True))
    request_ids = list(SupportRequest.objects.values_list("pk", flat=True))
    member_pages = client_for(author)
    seen = "".join(
        member_pages.get(url).content.decode()
        for url in ["/inbox/", "/proposals/", "/discussion/", f"/groups/{group_a.pk}/", "/fund/"]
        + [f"/proposals/{pk}/" for pk in proposal_ids]
        + [f"/fund/requests/{pk}/" for pk in request_ids]
    )
    for kind, marker in markers.items():
        if kind.endswith("passphrase"):
            continue  # typed to log in or join, never stored anywhere
        assert marker in seen, kind
    # And a member of another group reads the federation's markers only.
    other_pages = client_for(outsider)
    theirs = "".join(
        other_pages.get(url).content.decode()
        for url in ["/proposals/"] + [f"/proposals/{pk}/" for pk in proposal_ids]
    )
    assert markers["fedtitle"] in theirs and markers["fedcomment"] in theirs
    # The token opens the member's content too, through its own sealed copy of the key.
    from django.test import Client

    api = Client(headers={"Authorization": f"Bearer {access['token']}"})
    read = "".join(api.get(f"/api/proposals/{pk}").content.decode() for pk in proposal_ids)
    assert markers["title"] in read and markers["reason"] in read
    for kind in ("title", "body", "reason", "comment", "pseudonym", "mandatetext"):
        assert markers[kind] not in theirs, kind
