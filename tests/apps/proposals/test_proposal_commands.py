"""`veche demo`, `veche verify` and `veche settle`, run as operators run them: in a
subprocess, on a fresh data directory. The demo is slow, so it runs once per module."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Run inside the data directory's Django, in a second process: what the demo left there.
INSPECT = """
import json, sys
from veche.cli import setup_django
setup_django()
from veche.apps.accounts.keys import keyring_for
from veche.apps.accounts.models import Member
from veche.apps.core import keyring
from veche.apps.proposals import selectors, services
from veche.demo import PASSPHRASE as DEMO_PASSPHRASE
from veche.apps.proposals.models import Proposal
from veche.crypto import Keyring, unlock
from veche.domain.decisions_log import records_to_jsonl
# Content is encrypted: look as the members would, with one member's keys per group.
keys = Keyring()
for group_id in set(Member.objects.values_list("group_id", flat=True)):
    m = Member.objects.filter(group_id=group_id).first()
    held = keyring_for(m, unlock(m.key_record(), DEMO_PASSPHRASE))
    for key_id in held:
        if not keys.has(key_id):
            keys.add(key_id, held.get(key_id))
with keyring.using(keys):
    phases = sorted({services.settle(p).state.phase.value for p in Proposal.objects.all()})
outcomes = sorted({p.outcome for p in Proposal.objects.exclude(outcome="")})
chain = max(selectors.chains(), key=lambda c: len(selectors.log_records(c)))
open(sys.argv[1], "w").write(records_to_jsonl(selectors.log_records(chain)))
print(json.dumps({"phases": phases, "outcomes": outcomes, "chains": selectors.chains()}))
"""


def _env(data_dir):
    unwanted = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env["VECHE_DATA_DIR"] = str(data_dir)
    env.pop("DATABASE_URL", None)  # each data directory has its own SQLite database
    return env


def veche(data_dir, *args):
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "veche.cli", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_one_line_error(result, code=None):
    assert result.returncode != 0 if code is None else result.returncode == code
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("veche: error: ")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("veche-demo")
    result = veche(data_dir, "demo")
    assert result.returncode == 0, result.stderr
    chain_file = data_dir / "longest-chain.jsonl"
    inspected = subprocess.run(  # noqa: S603
        [sys.executable, "-c", INSPECT, str(chain_file)],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return data_dir, result, json.loads(inspected.stdout), chain_file


def test_demo_prints_where_to_log_in(demo):
    _data_dir, result, _facts, _file = demo
    assert result.stdout.startswith("veche demo: open http://127.0.0.1:8000/")
    assert "passphrase" in result.stdout


def test_demo_creates_proposals_in_every_phase(demo):
    _data_dir, _result, facts, _file = demo
    for phase in ("draft", "consensus", "vote", "volunteering", "mandate", "closed"):
        assert phase in facts["phases"], facts
    assert {"adopted", "not_adopted", "decided", "withdrawn"} <= set(facts["outcomes"]), facts


def test_verify_lists_every_chain_of_the_demo_as_intact(demo):
    data_dir, _result, facts, _file = demo
    result = veche(data_dir, "verify")
    assert result.returncode == 0, result.stderr
    assert "federation" in facts["chains"] and len(facts["chains"]) > 1
    for chain in facts["chains"]:
        assert f"{chain}: " in result.stdout and "intact" in result.stdout


def test_demo_a_second_time_is_refused_in_one_line(demo):
    data_dir, _result, _facts, _file = demo
    result = veche(data_dir, "demo")
    assert_one_line_error(result)
    assert "already holds a federation" in result.stderr


def test_demo_a_second_time_exits_2_like_every_refusal(demo):
    data_dir, _result, _facts, _file = demo
    result = veche(data_dir, "demo")
    assert_one_line_error(result, 2)
    assert "CommandError" not in result.stderr


def test_settle_reports_how_many_decisions_it_recorded(demo):
    data_dir, _result, _facts, _file = demo
    result = veche(data_dir, "settle")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("decisions recorded")


def test_verify_of_an_exported_chain_passes(demo):
    _data_dir, _result, _facts, chain_file = demo
    lines = chain_file.read_text().splitlines()
    assert len(lines) >= 2
    result = veche(chain_file.parent, "verify", str(chain_file))
    assert result.returncode == 0, result.stderr
    assert f"{len(lines)} records, intact" in result.stdout


def test_verify_names_the_record_whose_payload_was_altered(demo, tmp_path):
    _data_dir, _result, _facts, chain_file = demo
    lines = chain_file.read_text().splitlines()
    record = json.loads(lines[1])
    record["payload"]["outcome"] = (
        "not_adopted" if record["payload"]["outcome"] == "adopted" else "adopted"
    )
    lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    altered = tmp_path / "altered.jsonl"
    altered.write_text("\n".join(lines) + "\n")
    result = veche(tmp_path, "verify", str(altered))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"record {record['seq']} " in result.stderr


def test_verify_of_a_missing_file_is_one_line(tmp_path):
    assert_one_line_error(veche(tmp_path, "verify", str(tmp_path / "nope.jsonl")))


def test_verify_of_a_file_that_is_not_a_log_is_one_line(tmp_path):
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json at all\n")
    assert_one_line_error(veche(tmp_path, "verify", str(garbage)))


def test_verify_before_init_is_one_line(tmp_path):
    assert_one_line_error(veche(tmp_path, "verify"))
