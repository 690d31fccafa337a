"""Writes survive ``kill -9``: nothing acknowledged is lost, nothing is stored twice.

A real ``veche serve`` (gunicorn, as operators run it) takes writes from 24 members at
once — messages, ballots, and a coordinator's contributions — while the whole server
(master and workers) is killed with SIGKILL twice and started again. Clients retry what
got no answer, as a browser's user would (a contribution with the same form token, so the
fund can recognise it). Afterwards, from the database:

- every acknowledged message and ballot is stored (0 lost), nothing is stored more often
  than it was sent (0 doubled), and nobody has two ballots;
- each contribution's form token is stored at most once, and every acknowledged one is.

Runs on SQLite, and on PostgreSQL when the suite does (a database of its own).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

MEMBERS = 24
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP = r"""
import json, sys
from veche.cli import setup_django
setup_django()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
import datetime as dt
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from veche.apps.accounts.models import MemberSession
from veche.apps.core.keyring import COOKIE_NAME, SESSION_KEY
from veche.crypto import wrap_for_session
from veche import scenario

people = tuple(f"m{i:02d}" for i in range(int(sys.argv[1])))
world = scenario.Scenario(
    federation="Crash federation",
    groups=(scenario.GroupOf("g", "Crashers", people),),
    passphrase="crash test passphrase, four words",
    stories=(
        scenario.Story("talk", "group-practice", "g.m00", "Talk", "A thread.", age=2),
        scenario.Story("vote", "group-practice", "g.m00", "Vote", "Choose.", age=3,
                       urgent=True, deadline=1, options=("a", "b", "c")),
    ),
    founded=1,
)
now = timezone.now()
built = scenario.build(world, now=now)
out = {"talk": built.proposals["talk"].pk, "vote": built.proposals["vote"].pk, "members": {}}
for key, member in built.people.items():
    store = SessionStore()
    store["_auth_user_id"] = str(member.pk)
    store["_auth_user_backend"] = "veche.apps.accounts.backends.MemberBackend"
    store["_auth_user_hash"] = member.get_session_auth_hash()
    cookie_secret, blob = wrap_for_session(built.private_keys[member.pk])
    store[SESSION_KEY] = blob
    store.create()
    MemberSession.objects.create(session_key=store.session_key, member=member)
    out["members"][str(member.pk)] = {"session": store.session_key, "key": cookie_secret}
print(json.dumps(out))
"""

COUNT = r"""
import json
from veche.cli import setup_django
setup_django()
from django.db.models import Count
from veche.apps.proposals.models import Comment, ProposalEvent, SealedBallot
from veche.apps.fund.models import FundTransaction
import sys
talk, vote = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps({
    "comments": {str(a): n for a, n in Comment.objects.filter(proposal_id=talk)
                 .values_list("author_id").annotate(n=Count("id"))},
    "ballots": {str(a): n for a, n in ProposalEvent.objects.filter(proposal_id=vote,
                type="ballot_cast").values_list("actor_id").annotate(n=Count("id"))},
    "board": SealedBallot.objects.filter(vote__proposal_id=vote).count(),
    "tokens": list(FundTransaction.objects.filter(kind="contribution")
                   .values_list("idempotency_key", flat=True)),
}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``veche serve`` in its own process group, so that kill -9 takes every worker."""

    def __init__(self, env: dict[str, str], where: Path) -> None:
        self.env, self.where, self.port = env, where, _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.where / "server.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "veche.cli", "serve", "--port", str(self.port),
             "--workers", "2", "--threads", "8"],
            env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError((self.where / "server.log").read_text()[-2000:])

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class Member:
    """A logged-in browser: its cookies, and what it sent and got acknowledged."""

    def __init__(self, server: Server, pk: str, cookies: dict[str, str]) -> None:
        self.server, self.pk = server, pk
        self.cookie = f"veche_session={cookies['session']}; veche_k={cookies['key']}"
        self.sent: dict[str, int] = {"comment": 0, "ballot": 0}
        self.acked: dict[str, int] = {"comment": 0, "ballot": 0}
        self.tokens_sent: list[str] = []
        self.tokens_acked: set[str] = set()

    def _request(self, method: str, path: str, body: str = "") -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            headers = {"Cookie": self.cookie, "Host": f"127.0.0.1:{self.server.port}"}
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["Origin"] = f"http://127.0.0.1:{self.server.port}"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            set_cookie = response.getheader("Set-Cookie") or ""
            token = re.search(r"veche_csrf=([^;]+)", set_cookie)
            if token and "veche_csrf=" not in self.cookie:
                self.cookie += f"; veche_csrf={token.group(1)}"
            return response.status, text
        finally:
            conn.close()

    def post(self, path: str, fields: dict[str, str]) -> int:
        """Post a form as a browser does (a fresh CSRF token from the page first)."""
        status, page = self._request("GET", path.rsplit("/", 2)[0] + "/")
        match = CSRF_INPUT.search(page)
        if status != 200 or match is None:
            raise ConnectionError(f"page {status}")
        body = "&".join(
            f"{k}={v}" for k, v in {**fields, "csrfmiddlewaretoken": match.group(1)}.items()
        )
        return self._request("POST", path, body)[0]


def _setup(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SETUP, str(MEMBERS)], env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _environment(tmp_path: Path) -> tuple[dict[str, str], str | None]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    }
    env["VECHE_DATA_DIR"] = str(tmp_path / "data")
    env["VECHE_DB_LOCK_WAIT_SECONDS"] = "10"
    database = None
    if connection.vendor == "postgresql":
        d = connection.settings_dict
        database = f"{d['NAME']}_crash"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
            cursor.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = (
            f"postgresql://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{database}"
        )
    return env, database


def test_nothing_acknowledged_is_lost_and_nothing_is_doubled_across_kill_9(tmp_path):
    env, database = _environment(tmp_path)
    try:
        world = _setup(env)
        server = Server(env, tmp_path)
        server.start()
        members = [Member(server, pk, c) for pk, c in world["members"].items()]  # type: ignore[union-attr]
        talk, vote = world["talk"], world["vote"]
        running = threading.Event()
        running.set()

        def work(member: Member, index: int) -> None:
            voted = False
            n = 0
            while running.is_set():
                n += 1
                try:
                    if index == 0:  # the coordinator records contributions
                        token = (
                            member.tokens_sent[-1]
                            if member.tokens_sent
                            and member.tokens_sent[-1] not in member.tokens_acked
                            else None
                        )
                        if token is None:
                            token = uuid.uuid4().hex
                            member.tokens_sent.append(token)
                        status = member.post(
                            "/fund/contribute/",
                            {
                                "amount": "1",
                                "currency": "EUR",
                                "memo": "",
                                "token": token,
                            },
                        )
                        if status in (302, 400):  # stored now, or recognised as stored before
                            member.tokens_acked.add(token)
                    elif not voted and n % 5 == 0:
                        member.sent["ballot"] += 1
                        status = member.post(f"/proposals/{vote}/vote/", {"rank-0": "1"})
                        # 200: the receipt page of a secret ballot; 400: already cast
                        # (before a crash).
                        voted = status in (200, 400)
                        member.acked["ballot"] += status == 200
                    else:
                        member.sent["comment"] += 1
                        status = member.post(
                            f"/proposals/{talk}/comment/", {"body": f"{member.pk}-{n}"}
                        )
                        member.acked["comment"] += status == 302
                except (OSError, http.client.HTTPException):
                    time.sleep(0.05)  # the server is down: try again, as a person would

        threads = [threading.Thread(target=work, args=(m, i)) for i, m in enumerate(members)]
        for thread in threads:
            thread.start()

        def acknowledged() -> int:
            return sum(m.acked["comment"] + m.acked["ballot"] for m in members)

        def some_more(count: int) -> int:
            """Wait until ``count`` more writes are acknowledged; return how many in all."""
            target = acknowledged() + count
            deadline = time.monotonic() + 120
            while acknowledged() < target and time.monotonic() < deadline:
                time.sleep(0.2)
            return acknowledged()

        phases = [some_more(10)]
        for _ in range(2):
            server.kill()  # in the middle of writes: many are in flight
            server.start()
            phases.append(some_more(10))
        # Contributions are slower than messages: on a loaded machine the phases above can
        # fill with messages alone. Let the coordinator's run reach a second contribution.
        deadline = time.monotonic() + 120
        while len(members[0].tokens_acked) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        running.clear()
        for thread in threads:
            thread.join(timeout=60)
        server.kill()

        counted = subprocess.run(  # noqa: S603
            [sys.executable, "-c", COUNT, str(talk), str(vote)], env=env, capture_output=True,
            text=True, timeout=120, check=True,
        )  # fmt: skip
        stored = json.loads(counted.stdout.strip().splitlines()[-1])
        for member in members:
            comments = stored["comments"].get(member.pk, 0)
            ballots = stored["ballots"].get(member.pk, 0)
            # The roll and the board are written in one transaction: never one alone.
            assert stored["board"] == sum(stored["ballots"].values())
            assert member.acked["comment"] <= comments <= member.sent["comment"], member.pk
            assert member.acked["ballot"] <= ballots <= min(member.sent["ballot"], 1), member.pk
        coordinator = members[0]
        tokens = stored["tokens"]
        assert len(tokens) == len(set(tokens))  # no token twice
        assert coordinator.tokens_acked <= set(tokens)  # none acknowledged is lost
        assert set(tokens) <= set(coordinator.tokens_sent)
        # The run did something: writes acknowledged before, between and after the crashes.
        log = (tmp_path / "server.log").read_text()[-3000:]
        assert 10 <= phases[0] < phases[1] - 9 < phases[2] - 18, (phases, log)
        assert len(coordinator.tokens_acked) > 1
    finally:
        if database is not None:
            connection.close()
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
