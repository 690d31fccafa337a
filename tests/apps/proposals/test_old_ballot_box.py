"""A secret vote begun in the old ballot box (before tellers) finishes there, unlinkable.

Proposals whose vote had begun in the box keep ``sealed_ballots = False`` (migration
0011): the box is still read, written and erased at the close as before. The test tries
what an investigator would: per-ballot ids, the order ballots are kept in, times, and
older versions of the ballot box left in the database file or its log.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from tests.conftest import log_in_with_keys  # noqa: F401 - documents how members log in

from veche.apps.core import keyring
from veche.apps.proposals import services as s
from veche.apps.proposals.models import BallotBox, ProposalEvent

pytestmark = pytest.mark.django_db(transaction=True)

# Cast in this order; none of these orders is the sorted one.
BALLOTS = [[2, 0, 1], [0, 1, 2], [1, 2, 0], [0, 2, 1], [2, 1, 0]]


def _vote(make_member, group_a):
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

    now = timezone.now()
    h = dt.timedelta(hours=1)
    voters = [make_member(group_a, f"voter{i}") for i in range(len(BALLOTS))]
    Member.objects.update(joined_at=now - 100 * h)
    Group.objects.update(created_at=now - 100 * h)
    row = s.create_proposal(
        author=voters[0], kind_key="group-practice", title="Where", body="Choose.",
        urgent=True, deadline=now - 10 * h, options=["north", "south", "east"],
        now=now - 11 * h,
    )  # fmt: skip
    # A proposal whose vote began in the old box, as migration 0011 leaves it.
    type(row).objects.filter(pk=row.pk).update(sealed_ballots=False)
    row.refresh_from_db()
    boxes = []
    for i, (voter, ballot) in enumerate(zip(voters, BALLOTS, strict=True)):
        s.cast_ballot(row=row, voter=voter, ballot=ballot, now=now - 9 * h + i * h)
        boxes.append(bytes(BallotBox.objects.get(proposal=row).box_ct))
    return row, voters, boxes


def test_after_close_the_box_keeps_ballots_sorted_with_no_voter_id_or_time(make_member, group_a):
    row, voters, _ = _vote(make_member, group_a)
    s.settle_due(now=timezone.now() + dt.timedelta(days=2))
    row.refresh_from_db()
    assert row.closed_at is not None

    # One row per vote; its columns say nothing of who or when.
    assert BallotBox.objects.filter(proposal=row).count() == 1
    assert {f.column for f in BallotBox._meta.concrete_fields} == {
        "id", "proposal_id", "round", "box_ct", "count", "sealed",
    }  # fmt: skip
    box = BallotBox.objects.get(proposal=row)
    kept = json.loads(keyring.current().decrypt(bytes(box.box_ct), context=box.context()))
    # By order: the box is in canonical sorted order, which carries nothing of the order
    # ballots came in.
    assert kept == sorted(BALLOTS, key=lambda b: json.dumps(b, sort_keys=True))
    assert kept != BALLOTS
    # By id or time: the roll (who voted, when) carries no ballot and no box reference.
    roll = ProposalEvent.objects.filter(proposal=row, type="ballot_cast")
    assert sorted(e.actor_id for e in roll) == sorted(v.pk for v in voters)
    for event in roll:
        assert event.data == {}
        assert not bytes(event.text_ct)


def test_after_close_no_older_version_of_the_box_survives_in_the_database_files(
    make_member, group_a
):
    if connection.vendor != "sqlite":
        pytest.skip("reads SQLite's own files; PostgreSQL's box is rewritten by VACUUM FULL")
    _row, _voters, boxes = _vote(make_member, group_a)
    s.settle_due(now=timezone.now() + dt.timedelta(days=2))
    # Read the files while the server still has them open (a seizure of a running
    # machine): the write-ahead log then still holds every page written since the last
    # checkpoint, unless closing the vote forced one.
    name = Path(connection.settings_dict["NAME"])
    data = b"".join(p.read_bytes() for p in (name, Path(f"{name}-wal")) if p.exists())
    final = boxes[-1]
    assert final in data  # the search works: the current box is found
    # Each intermediate box would show which ballot arrived between two casts.
    assert [i for i, old in enumerate(boxes[:-1]) if old in data] == []


def test_migration_leaves_only_proposals_with_a_box_in_the_old_scheme(make_member, group_a):
    import importlib

    from django.apps import apps

    row, _voters, _boxes = _vote(make_member, group_a)
    other = s.create_proposal(author=_voters[0], kind_key="group-practice", title="T", body="B")
    type(row).objects.update(sealed_ballots=True)
    migration = importlib.import_module(
        "veche.apps.proposals.migrations.0011_old_boxes_finish_as_they_began"
    )
    migration.mark_old_boxes(apps, None)
    row.refresh_from_db()
    other.refresh_from_db()
    assert row.sealed_ballots is False
    assert other.sealed_ballots is True


def test_a_message_moved_onto_another_message_does_not_decrypt(make_member, group_a):
    from veche.apps.proposals.models import Comment

    author = make_member(group_a, "writer")
    row = s.create_proposal(author=author, kind_key="group-practice", title="T", body="B")
    first = s.post_comment(author=author, body="I said this.", row=row)
    second = s.post_comment(author=author, body="And then this.", row=row)
    Comment.objects.filter(pk=second.pk).update(body_ct=bytes(first.body_ct))
    second.refresh_from_db()
    assert second.body == keyring.UNREADABLE
    first.refresh_from_db()
    assert first.body == "I said this."
