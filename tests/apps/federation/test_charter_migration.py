"""Upgrading: the stored charter becomes version 1, and existing proposals are bound to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from veche.domain.charter import default_charter, digest

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS = ("accounts", "0005_login_delay_passphrase_form")
BEFORE = [("federation", "0001_initial"), ("proposals", "0005_wait_carry"), ACCOUNTS]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_stored_charter_becomes_version_1_and_every_proposal_is_bound_to_it():
    old = _migrate(BEFORE)
    founded = dt.datetime(2029, 1, 1, tzinfo=dt.UTC)
    stored = default_charter().to_dict()
    old.get_model("federation", "Federation").objects.create(
        name="Old", created_at=founded, charter=stored
    )
    group = old.get_model("federation", "Group").objects.create(name="Alpha", created_at=founded)
    author = old.get_model("accounts", "Member").objects.create(
        group_id=group.pk, joined_at=founded, pseudonym_key="k" * 64, password="!"
    )
    Proposal = old.get_model("proposals", "Proposal")
    for i in range(3):
        Proposal.objects.create(
            kind_key="group-practice", group_id=group.pk, author_id=author.pk,
            created_at=founded + dt.timedelta(days=i), seed=b"s" * 32,
        )  # fmt: skip
    latest = _migrate(
        [("federation", "0005_remove_federation_charter"),
         ("proposals", "0008_every_proposal_has_its_charter_version"), ACCOUNTS]
    )  # fmt: skip
    try:
        versions = list(latest.get_model("federation", "CharterVersion").objects.all())
        assert [v.number for v in versions] == [1]
        version = versions[0]
        assert version.charter == stored
        assert version.in_force_from == founded
        text = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert (
            version.digest == hashlib.sha256(text.encode()).hexdigest() == digest(default_charter())
        )
        bound = latest.get_model("proposals", "Proposal").objects.values_list(
            "charter_version_id", flat=True
        )
        assert set(bound) == {version.pk}
    finally:
        # Leave the database as the other tests expect it: fully migrated.
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
