"""The veche command, run as operators run it: in a subprocess, on a fresh data directory."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pytest

JOIN_URL = re.compile(r"^http://127\.0\.0\.1:8000/join/[\w-]{32}/$", re.MULTILINE)


def veche(tmp_path, *args):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for their session; a real
    # operator never has it (Django's deploy check refuses it).
    unwanted = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env["VECHE_DATA_DIR"] = str(tmp_path)
    env.pop("DATABASE_URL", None)  # each test gets its own SQLite database
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "veche.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result, code):
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("veche: error: ")


@pytest.fixture(scope="module")
def initialised(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("veche-data")
    result = veche(data_dir, "init", "--federation", "Riverside", "--group", "Tenants")
    return data_dir, result


def test_init_creates_database_secret_key_and_prints_a_founding_invitation(initialised):
    data_dir, result = initialised
    assert result.returncode == 0, result.stderr
    assert JOIN_URL.search(result.stdout)
    assert (data_dir / "veche.sqlite3").exists()
    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() not in result.stdout + result.stderr


def test_init_refuses_a_second_time(initialised):
    data_dir, _ = initialised
    assert_one_line_error(veche(data_dir, "init"), 2)


def test_invite_prints_a_join_url(initialised):
    data_dir, _ = initialised
    result = veche(data_dir, "invite", "--group", "Tenants", "--coordinator")
    assert result.returncode == 0, result.stderr
    assert JOIN_URL.fullmatch(result.stdout.strip())


def test_invite_uses_the_base_url(initialised):
    data_dir, _ = initialised
    result = veche(data_dir, "invite", "--group", "Tenants", "--base-url", "http://abc.onion/")
    assert result.stdout.startswith("http://abc.onion/join/")


def test_invite_to_unknown_group_is_one_line_error(initialised):
    data_dir, _ = initialised
    assert_one_line_error(veche(data_dir, "invite", "--group", "Nobody"), 2)


def test_invite_before_init_is_one_line_error(tmp_path):
    assert_one_line_error(veche(tmp_path, "invite", "--group", "Tenants"), 2)


def test_unknown_command_is_one_line_error(tmp_path):
    assert_one_line_error(veche(tmp_path, "frobnicate"), 2)


def test_missing_required_option_is_one_line_error(tmp_path):
    assert_one_line_error(veche(tmp_path, "invite"), 2)


def test_unusable_data_dir_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert_one_line_error(veche(blocker, "migrate"), 1)


def test_check_passes_on_a_fresh_install(tmp_path):
    result = veche(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_commands(tmp_path):
    result = veche(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("init", "serve", "invite", "migrate", "check"):
        assert command in result.stdout


def test_the_database_is_readable_by_the_operator_only(tmp_path):
    assert veche(tmp_path, "init").returncode == 0
    database = tmp_path / "veche.sqlite3"
    assert database.stat().st_mode & 0o077 == 0
