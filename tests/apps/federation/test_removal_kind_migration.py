"""The data migration that gives a stored charter the kind by which a group removes a member.

It runs before the stored charter becomes version 1 (federation 0002, then 0003–0005), so
an upgraded federation's first version already holds the kind (docs/decisions/0096).
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from veche.domain.charter import Charter, Power, default_charter

pytestmark = pytest.mark.django_db(transaction=True)

migration = importlib.import_module(
    "veche.apps.federation.migrations.0002_charter_remove_member_kind"
)
ACCOUNTS = ("accounts", "0005_login_delay_passphrase_form")
BEFORE = [("federation", "0001_initial"), ("proposals", "0005_wait_carry"), ACCOUNTS]
AFTER = [("federation", "0005_remove_federation_charter"),
         ("proposals", "0008_every_proposal_has_its_charter_version"), ACCOUNTS]  # fmt: skip
FOUNDED = dt.datetime(2029, 1, 1, tzinfo=dt.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    yield _migrate(BEFORE)
    # Leave the database as the other tests expect it: fully migrated.
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _without_the_kind() -> dict:
    charter = default_charter().to_dict()
    charter["kinds"] = [k for k in charter["kinds"] if k["power"] != "remove_member"]
    del charter["coordinator_may_remove"]
    return charter


def test_an_upgraded_federation_s_version_1_has_the_removal_kind(old_apps):
    before = _without_the_kind()
    old_apps.get_model("federation", "Federation").objects.create(
        name="Old", created_at=FOUNDED, charter=before
    )
    latest = _migrate(AFTER)
    version = latest.get_model("federation", "CharterVersion").objects.get()
    assert version.number == 1
    keys = [k["key"] for k in version.charter["kinds"]]
    # After the group's own kinds, before the federation's, as in the default charter.
    assert keys == [k.key for k in default_charter().kinds]
    charter = Charter.from_dict(version.charter)
    assert charter.coordinator_may_remove is False
    assert charter.with_power(Power.REMOVE_MEMBER)[0] == default_charter().kind("remove-member")


def test_a_charter_that_already_has_the_kind_is_left_as_it_is(old_apps):
    Federation = old_apps.get_model("federation", "Federation")
    stored = default_charter().to_dict()
    federation = Federation.objects.create(name="Old", created_at=FOUNDED, charter=stored)
    migration.add_kind(old_apps, None)
    assert Federation.objects.get(pk=federation.pk).charter == stored


def test_a_kind_whose_key_is_taken_is_not_overwritten(old_apps):
    Federation = old_apps.get_model("federation", "Federation")
    stored = _without_the_kind()
    stored["kinds"][0] = {**stored["kinds"][0], "key": "remove-member"}
    federation = Federation.objects.create(name="Old", created_at=FOUNDED, charter=stored)
    migration.add_kind(old_apps, None)
    assert Federation.objects.get(pk=federation.pk).charter == stored


def test_the_migration_is_reversible(old_apps):
    Federation = old_apps.get_model("federation", "Federation")
    before = _without_the_kind()
    federation = Federation.objects.create(name="Old", created_at=FOUNDED, charter=before)
    migration.add_kind(old_apps, None)
    assert Federation.objects.get(pk=federation.pk).charter != before
    migration.remove_kind(old_apps, None)
    assert Federation.objects.get(pk=federation.pk).charter == before
