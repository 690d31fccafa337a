"""Time veche's main pages over HTTP against a bare Django page, interleaved in one run.

    .venv/bin/python bench/pages.py                     # SQLite and PostgreSQL, 50 and 10,000
    .venv/bin/python bench/pages.py --quick             # smoke run: 20 and 100, short bursts
    .venv/bin/python bench/pages.py --sizes 50,1000 --databases sqlite

For each database and each world size, the world (bench/world.py, built through veche's
own services, cached under var/bench/ by size, builder version and migrations) is copied
afresh, then two servers are started with the same gunicorn command line ``veche serve``
uses (read from ``veche.cli`` by capturing what it would exec): veche itself, and the
bare Django project in bench/bare/ (DEBUG off, Django templates, 50 rows and a form with
CSRF, no database). A member logs in once through the real login form; their session
and key cookies are reused for every request.

Load: a Python client in this process (threads, one HTTP connection each, fixed
concurrency, fixed burst length; gunicorn's sync workers close each connection, so the
client reconnects as a browser would). Each page is measured in short bursts alternating
with bursts on the bare page (bare, page, bare, page...), so machine noise hits both; a
page's ratio is against the bare bursts that ran just before its own. A request that is
running when its burst ends is waited for (at most --timeout seconds). Traffic goes to
127.0.0.1 only.

Also per page: SQL queries and writes (INSERT/UPDATE/DELETE) of one request, counted
in-process with Django's test client and a query wrapper on the same database;
the page's size in bytes. Targets printed beside the figures (issue 8): every page at
least 0.5x the bare page; each page at the largest size within 1.5x its time (p50) at
the smallest.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
SRC = ROOT / "src"
BARE = BENCH / "bare"
HOST = "127.0.0.1"  # never anything else

TARGET_RATIO = 0.5  # every page at least half the bare page's rate
TARGET_GROWTH = 1.5  # a page at the largest size within 1.5x its time at the smallest
PG_RUN_DB = "veche_bench_run"
PG_BUILD_DB = "veche_bench_build_{size}"
PG_WORLD_PREFIX = "veche_bench_w"


def pages_of(world: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (name, path) of the pages measured in ``world``."""
    return [
        ("proposals list", "/proposals/"),
        ("proposal detail", f"/proposals/{world['detail']}/"),
        ("inbox", "/inbox/"),
        ("decision log", "/decisions/"),
        ("fund", "/fund/"),
        ("fund statement", f"/fund/accounts/{world['statement']}/"),
    ]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- worlds: build once, cache, copy afresh per run ---------------------------------------


def schema_digest() -> str:
    """Return a digest of every migration, so a changed schema means a new world."""
    h = hashlib.sha256()
    for path in sorted(SRC.glob("veche/apps/*/migrations/*.py")):
        h.update(path.relative_to(SRC).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


def builder_version() -> int:
    sys.path.insert(0, str(BENCH))
    try:
        import world  # bench/world.py

        return int(world.BUILDER_VERSION)
    finally:
        sys.path.remove(str(BENCH))


def world_key(size: int) -> str:
    return f"{size}-v{builder_version()}-{schema_digest()}"


def pg_url(base: str, dbname: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


def pg_admin(base: str, *statements: str) -> None:
    """Run statements on the server's maintenance database, outside a transaction."""
    import psycopg

    with psycopg.connect(pg_url(base, "postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def pg_databases(base: str, prefix: str) -> list[str]:
    import psycopg

    with psycopg.connect(pg_url(base, "postgres"), autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database").fetchall()
    # Filtered here: in LIKE, the underscores of our names would match any character.
    return [r[0] for r in rows if r[0].startswith(prefix)]


def python_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env["VECHE_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(SRC)
    env["DJANGO_SETTINGS_MODULE"] = "veche.config.settings"
    env.pop("VECHE_DEBUG", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def add_world_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that say where the cached worlds are, as every benchmark reads them."""
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("VECHE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/"),
        help="server to use (databases veche_bench_* are created there)",
    )
    parser.add_argument("--cache-dir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--max-age-hours", type=float, default=12, help="rebuild older worlds")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the worlds")
    parser.add_argument("--build-timeout", type=float, default=5400, help="per world, seconds")


def ensure_world(db: str, size: int, args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """Return the cached world's directory and description, building it if missing or stale."""
    key = world_key(size)
    cache = Path(args.cache_dir).resolve() / "worlds" / f"{db}-{key}"
    meta_path = cache / "world.json"
    pg_name = f"{PG_WORLD_PREFIX}{size}_{key.split('-', 1)[1].replace('-', '_')}"
    if meta_path.exists() and not args.rebuild:
        meta = json.loads(meta_path.read_text())
        age_h = (time.time() - meta["built_at"]) / 3600
        present = db == "sqlite" or pg_name in pg_databases(args.postgres_url, pg_name)
        if age_h <= args.max_age_hours and present:
            say(f"{db} {size}: cached world from {age_h:.1f} h ago ({cache.name})")
            return cache, meta
        say(f"{db} {size}: cached world is {age_h:.1f} h old (open votes close after a day)")
    say(f"{db} {size}: building the world (once; cached in {cache})")
    started = time.monotonic()
    tmp = cache.with_name(cache.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    url = None
    build_db = PG_BUILD_DB.format(size=size)
    if db == "postgresql":
        pg_admin(args.postgres_url, f'DROP DATABASE IF EXISTS "{build_db}"')
        pg_admin(args.postgres_url, f'CREATE DATABASE "{build_db}"')
        url = pg_url(args.postgres_url, build_db)
    command = [sys.executable, __file__, "_build", "--size", str(size)]
    command += ["--label", f"{db} {size}:", "--out", str(tmp / "world.json")]
    done = subprocess.run(  # noqa: S603 - this very script, with the venv's Python
        command,
        env=python_env(tmp, url),
        check=False,
        timeout=args.build_timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"pages.py: building the {db} world of {size} failed")
    if db == "postgresql":
        for old in pg_databases(args.postgres_url, f"{PG_WORLD_PREFIX}{size}_"):
            pg_admin(args.postgres_url, f'DROP DATABASE IF EXISTS "{old}"')
        pg_admin(args.postgres_url, f'ALTER DATABASE "{build_db}" RENAME TO "{pg_name}"')
    meta = json.loads((tmp / "world.json").read_text())
    meta["built_at"] = time.time()
    meta["build_seconds"] = round(time.monotonic() - started, 1)
    meta["pg_template"] = pg_name if db == "postgresql" else None
    (tmp / "world.json").write_text(json.dumps(meta, indent=1))
    for old in cache.parent.glob(f"{db}-{size}-*"):
        if old != tmp:
            shutil.rmtree(old, ignore_errors=True)
    tmp.rename(cache)
    say(f"{db} {size}: built in {meta['build_seconds']:.0f} s: {describe(meta)}")
    return cache, meta


def describe(meta: dict[str, Any]) -> str:
    return (
        f"{meta['proposals']} proposals ({meta['open']} open, {meta['visible_to_member']} "
        f"visible to the member), {meta['decisions']} decisions, "
        f"{meta['fund_transactions']} fund transactions"
    )


def fresh_copy(
    db: str, size: int, cache: Path, meta: dict[str, Any], args: argparse.Namespace
) -> tuple[Path, str | None]:
    """Return (data dir, DATABASE_URL or None) of a fresh copy of the cached world."""
    run_dir = Path(args.cache_dir).resolve() / "run" / f"{db}-{size}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    shutil.copy2(cache / "secret_key", run_dir / "secret_key")
    if db == "sqlite":
        shutil.copy2(cache / "veche.sqlite3", run_dir / "veche.sqlite3")
        return run_dir, None
    pg_admin(
        args.postgres_url,
        f'DROP DATABASE IF EXISTS "{PG_RUN_DB}" WITH (FORCE)',
        f'CREATE DATABASE "{PG_RUN_DB}" TEMPLATE "{meta["pg_template"]}"',
    )
    return run_dir, pg_url(args.postgres_url, PG_RUN_DB)


def cmd_build(argv: list[str]) -> int:
    """Subprocess: migrate the configured database and build the world into it."""
    parser = argparse.ArgumentParser(prog="pages.py _build")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    sys.path.insert(0, str(BENCH))
    import world

    call_command("migrate", interactive=False, verbosity=0)
    meta = world.build(
        size=args.size, now=timezone.now(), progress=lambda m: say(f"{args.label}{m}")
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        # What autovacuum does to a database that lived five years, and had no time to do
        # to one built in minutes: without it the churned tables (a wait is written and
        # deleted for every member of every proposal) keep every dead row and stale
        # statistics, and PostgreSQL scans them whole (the inbox's query took 10 ms
        # instead of 0.3 at 10,000 proposals).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    connection.close()
    Path(args.out).write_text(json.dumps(meta))
    return 0


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


_CAPTURE = """
import json, os, sys
import veche.cli as cli
def execv(path, argv):
    print("ARGV " + json.dumps(argv), flush=True)
    os._exit(0)
cli.os.execv = execv
sys.exit(cli.main(["serve", "--host", sys.argv[1], "--port", sys.argv[2]]))
"""


def serve_argv(env: dict[str, str]) -> list[str]:
    """Return the command line ``veche serve`` execs (captured, not copied)."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _CAPTURE, HOST, "1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    for line in done.stdout.splitlines():
        if line.startswith("ARGV "):
            return list(json.loads(line[5:]))
    raise SystemExit(f"pages.py: could not read veche serve's command line: {done.stderr[-500:]}")


def with_bind(argv: list[str], port: int) -> list[str]:
    argv = list(argv)
    for flag in ("--bind", "-b"):
        if flag in argv:
            argv[argv.index(flag) + 1] = f"{HOST}:{port}"
            return argv
    raise SystemExit("pages.py: veche serve's command line has no --bind")


def bare_argv(veche_argv: list[str], port: int) -> list[str]:
    """Return veche's gunicorn command line serving the bare project instead."""
    argv = with_bind(veche_argv, port)
    apps = [i for i, a in enumerate(argv) if a.endswith(":application")]
    if len(apps) != 1:
        raise SystemExit("pages.py: cannot find the WSGI application in veche serve's argv")
    argv[apps[0]] = "bare_site.wsgi:application"
    return argv


def gunicorn_option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else "(gunicorn's default)"


def worker_class(argv: list[str]) -> str:
    """Return the worker class the server runs: given on the command line, else the one
    veche's gunicorn config names (``veche.config.gunicorn``), else gunicorn's choice."""
    if "--worker-class" in argv:
        return gunicorn_option(argv, "--worker-class")
    if "python:veche.config.gunicorn" in argv:
        try:
            from veche.config import gunicorn as config
        except ImportError:  # run without veche on the path: say less, not wrong
            return "(veche's gunicorn config)"
        return f"{config.worker_class} (veche's gunicorn config)"
    return "(gunicorn's default)"


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)  # gunicorn lets running requests finish
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start(name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    handle = log.open("wb")
    process = subprocess.Popen(  # noqa: S603
        argv, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT
    )
    handle.close()
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 90
    probe = "/login/" if name == "veche" else "/"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"pages.py: the {name} server exited; see {log}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            status, _, _ = request(port, "GET", probe, timeout=5)
            if status == 200:
                return server
        time.sleep(0.3)
    server.stop()
    raise SystemExit(f"pages.py: the {name} server did not answer in 90 s; see {log}")


# --- HTTP -----------------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 60,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.msg, response.read()
    finally:
        conn.close()


def cookies_from(message: http.client.HTTPMessage, jar: dict[str, str]) -> None:
    for header in message.get_all("Set-Cookie") or []:
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            jar[name] = morsel.value


def log_in(port: int, pseudonym: str, passphrase: str) -> dict[str, str]:
    """Log in through the real form (CSRF included); return the cookies to reuse."""
    jar: dict[str, str] = {}
    status, message, body = request(port, "GET", "/login/")
    cookies_from(message, jar)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        raise SystemExit(f"pages.py: the login form did not load ({status})")
    form = urlencode(
        {"csrfmiddlewaretoken": token.group(1).decode(), "pseudonym": pseudonym,
         "passphrase": passphrase}
    ).encode()  # fmt: skip
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookie_header(jar),
    }
    status, message, _ = request(port, "POST", "/login/", headers=headers, body=form)
    cookies_from(message, jar)
    if status != 302 or "veche_k" not in jar:
        raise SystemExit(f"pages.py: logging in as {pseudonym} failed ({status})")
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# --- load -----------------------------------------------------------------------------------


@dataclass
class Burst:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    bytes: int = 0


def burst(
    port: int, path: str, headers: dict[str, str], *, concurrency: int, seconds: float,
    timeout: float,
) -> Burst:  # fmt: skip
    """Keep ``concurrency`` clients requesting ``path`` for ``seconds``; return what happened."""
    result = Burst()
    lock = threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    stop_at = [0.0]
    last_end = [0.0]

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        ready.wait()
        while time.monotonic() < stop_at[0]:
            began = time.monotonic()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                ok, body = False, b""
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
                time.sleep(0.05)  # a server that is gone is not hammered
            ended = time.monotonic()
            with lock:
                if ok:
                    result.latencies.append(ended - began)
                    result.bytes = len(body)
                else:
                    result.errors += 1
                last_end[0] = max(last_end[0], ended)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    began = time.monotonic()
    stop_at[0] = began + seconds
    ready.wait()
    for t in threads:
        t.join(timeout + seconds + 5)
    result.seconds = max(last_end[0], began + 1e-9) - began
    return result


@dataclass
class Measure:
    page: list[Burst] = field(default_factory=list)
    bare: list[Burst] = field(default_factory=list)

    @staticmethod
    def rate(bursts: list[Burst]) -> float:
        seconds = sum(b.seconds for b in bursts)
        return sum(len(b.latencies) for b in bursts) / seconds if seconds else 0.0

    @staticmethod
    def pct(bursts: list[Burst], q: float) -> float:
        values = sorted(x for b in bursts for x in b.latencies)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(q * (len(values) - 1)))]

    def summary(self) -> dict[str, Any]:
        return {
            "rps": self.rate(self.page),
            "p50_ms": self.pct(self.page, 0.5) * 1000,
            "p99_ms": self.pct(self.page, 0.99) * 1000,
            "requests": sum(len(b.latencies) for b in self.page),
            "errors": sum(b.errors for b in self.page),
            "bytes": max((b.bytes for b in self.page), default=0),
            "bare_rps": self.rate(self.bare),
            "bare_p50_ms": self.pct(self.bare, 0.5) * 1000,
            "bare_errors": sum(b.errors for b in self.bare),
        }


# --- queries per page (in-process, Django's test client) -----------------------------------


def cmd_queries(argv: list[str]) -> int:
    """Subprocess: print each path's status, queries, writes and size as JSON."""
    paths = json.loads(argv[0])
    jar = json.loads(argv[1])
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    # Counted by a wrapper, not CaptureQueriesContext: its log keeps only the last 9,000.
    counted = {"queries": 0, "writes": 0}

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        counted["queries"] += 1
        counted["writes"] += sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE")
        return execute(sql, params, many, context)

    client = Client()
    for name, value in jar.items():
        client.cookies[name] = value
    out: dict[str, dict[str, int]] = {}
    for path in paths:
        # Twice: the first view may settle what fell due since the world was built (a
        # write); the second shows the page's steady state.
        first_writes = 0
        for first in (True, False):
            counted.update(queries=0, writes=0)
            with connection.execute_wrapper(count):
                response = client.get(path)
            if first:
                first_writes = counted["writes"]
        out[path] = {
            "status": response.status_code,
            "queries": counted["queries"],
            "writes": counted["writes"],
            "first_writes": first_writes,
            "bytes": len(response.content),
        }
    print(json.dumps(out))
    return 0


def count_queries(env: dict[str, str], paths: list[str], jar: dict[str, str]) -> dict[str, Any]:
    env = {**env, "VECHE_ALLOWED_HOSTS": "testserver"}
    done = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "_queries", json.dumps(paths), json.dumps(jar)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"pages.py: counting queries failed: {done.stderr[-800:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- one world ------------------------------------------------------------------------------


def run_world(db: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    cache, meta = ensure_world(db, size, args)
    data_dir, url = fresh_copy(db, size, cache, meta, args)
    env = python_env(data_dir, url)
    argv = serve_argv(env)
    veche_argv = [sys.executable, "-m", "veche.cli", "serve", "--host", HOST]
    veche_port, bare_port = free_port(), free_port()
    veche_argv += ["--port", str(veche_port)]
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bare_site.settings"}
    bare_env["PYTHONPATH"] = f"{BARE}{os.pathsep}{SRC}"
    servers: list[Server] = []
    try:
        servers.append(start("veche", veche_argv, env, veche_port, data_dir / "veche.log"))
        servers.append(
            start("bare", bare_argv(argv, bare_port), bare_env, bare_port, data_dir / "bare.log")
        )
        jar = log_in(veche_port, meta["member"], meta["passphrase"])
        pages = pages_of(meta)
        queries = count_queries(env, [p for _, p in pages], jar)
        for name, path in pages:
            if queries[path]["status"] != 200:
                raise SystemExit(f"pages.py: {name} ({path}) answered {queries[path]['status']}")
        headers = {"Cookie": cookie_header(jar)}
        measures = {name: Measure() for name, _ in pages}
        say(f"{db} {size}: measuring {len(pages)} pages, {args.rounds} rounds")
        for r in range(args.rounds):
            for name, path in pages:
                b = burst(
                    bare_port, "/", {}, concurrency=args.concurrency, seconds=args.burst,
                    timeout=args.timeout,
                )  # fmt: skip
                p = burst(
                    veche_port, path, headers, concurrency=args.concurrency, seconds=args.burst,
                    timeout=args.timeout,
                )  # fmt: skip
                measures[name].bare.append(b)
                measures[name].page.append(p)
                say(
                    f"  round {r + 1} {name}: {Measure.rate([p]):.1f} req/s "
                    f"(bare {Measure.rate([b]):.0f})"
                )
        results = []
        for name, path in pages:
            row = {"page": name, "path": path, **measures[name].summary(), **queries[path]}
            row["ratio"] = row["rps"] / row["bare_rps"] if row["bare_rps"] else float("nan")
            results.append(row)
        return {
            "database": db,
            "size": size,
            "world": {k: meta[k] for k in meta if k != "passphrase"},
            "gunicorn": {
                "workers": gunicorn_option(argv, "--workers"),
                "worker_class": worker_class(argv),
                "argv": with_bind(argv, 0)[1:],
            },
            "pages": results,
        }
    finally:
        for server in reversed(servers):
            server.stop()
        if url:
            pg_admin(args.postgres_url, f'DROP DATABASE IF EXISTS "{PG_RUN_DB}" WITH (FORCE)')


# --- report ---------------------------------------------------------------------------------


def fmt(x: float, digits: int = 1) -> str:
    return "n/a" if x != x else f"{x:,.{digits}f}"  # x != x: NaN


def report(runs: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for run in runs:
        w = run["world"]
        lines += [
            "",
            f"### {run['database']}, {run['size']:,} proposals",
            "",
            f"World: {describe(w)} (built in {w.get('build_seconds', '?')} s). gunicorn: "
            f"{run['gunicorn']['workers']} workers, {run['gunicorn']['worker_class']} worker "
            f"class. Load average after: {', '.join(f'{x:.2f}' for x in run['load_after'])}.",
            "",
            "| page | req/s | p50 ms | p99 ms | bare req/s | veche ÷ bare | target ≥ 0.5 "
            "| queries | writes | bytes | n (errors) |",
            "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
        ]
        for p in run["pages"]:
            ok = "ok" if p["ratio"] >= TARGET_RATIO else "**missed**"
            lines.append(
                f"| {p['page']} | {fmt(p['rps'])} | {fmt(p['p50_ms'])} | {fmt(p['p99_ms'])} "
                f"| {fmt(p['bare_rps'], 0)} | {fmt(p['ratio'], 3)} | {ok} | {p['queries']:,} "
                f"| {p['writes']} | {p['bytes']:,} | {p['requests']} ({p['errors']}) |"
            )
        due = [f"{p['page']} ({p['first_writes']})" for p in run["pages"] if p["first_writes"]]
        if due:
            lines += [
                "",
                "Writes on the first view (settling what fell due since the world was built): "
                + ", ".join(due)
                + ".",
            ]
    by_db: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_db.setdefault(run["database"], []).append(run)
    for db, db_runs in by_db.items():
        if len(db_runs) < 2:
            continue
        db_runs.sort(key=lambda r: r["size"])
        small, large = db_runs[0], db_runs[-1]
        s, big = f"{small['size']:,}", f"{large['size']:,}"
        lines += [
            "",
            f"### {db}: time at {big} against {s} proposals (p50)",
            "",
            f"| page | p50 ms at {s} | p50 ms at {big} | ratio | target ≤ 1.5 "
            f"| same, against bare¹ | queries at {s} | queries at {big} |",
            "|---|---:|---:|---:|---|---:|---:|---:|",
        ]
        for a, b in zip(small["pages"], large["pages"], strict=True):
            growth = b["p50_ms"] / a["p50_ms"] if a["p50_ms"] else float("nan")
            # Against each world's own bare bursts: cancels machine noise between the two.
            norm = a["ratio"] / b["ratio"] if b["ratio"] else float("nan")
            ok = "ok" if growth <= TARGET_GROWTH else "**missed**"
            lines.append(
                f"| {a['page']} | {fmt(a['p50_ms'])} | {fmt(b['p50_ms'])} | {fmt(growth, 2)} "
                f"| {ok} | {fmt(norm, 2)} | {a['queries']:,} | {b['queries']:,} |"
            )
        lines += [
            "",
            f"¹ (veche ÷ bare at {s}) / (veche ÷ bare at {big}), from req/s: the growth with "
            "the machine's drift between the two worlds cancelled by each world's bare bursts.",
        ]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        return cmd_build(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "_queries":
        return cmd_queries(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 20,100; 1 round of 1 s")
    parser.add_argument("--sizes", help="proposals per world, comma-separated (50,10000)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, help="bursts per page (default 3)")
    parser.add_argument("--burst", type=float, help="seconds per burst (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="clients (default 4)")
    parser.add_argument("--timeout", type=float, default=60, help="per request, seconds")
    add_world_options(parser)
    parser.add_argument("--build-only", action="store_true", help="build (or check) the worlds")
    parser.add_argument("--jobs", type=int, default=2, help="worlds built at once (default 2)")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    sizes = args.sizes or ("20,100" if args.quick else "50,10000")
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.burst = args.burst or (1.0 if args.quick else 3.0)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    for db in databases:
        if db not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {db!r}: sqlite or postgresql")
    started = time.monotonic()
    load_before = os.getloadavg()
    runs = []
    loads = []
    worlds = [(db, size) for db in databases for size in sorted(int(s) for s in sizes.split(","))]
    if any(size < 1 for _, size in worlds):
        parser.error("sizes are whole numbers of proposals, at least 1")
    # Build what is missing first, --jobs at a time (each build is one Python process).
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for built in [pool.submit(ensure_world, db, size, args) for db, size in worlds]:
            built.result()
    for db, size in worlds:
        if not args.build_only:
            runs.append(run_world(db, size, args))
            runs[-1]["load_after"] = os.getloadavg()
            loads.append(runs[-1]["load_after"][0])
    elapsed = time.monotonic() - started
    if args.build_only:
        say(f"worlds ready in {elapsed / 60:.1f} min")
        return 0
    print(f"# bench/pages.py: {' '.join(sys.argv[1:]) or '(defaults)'}")
    print()
    print(
        f"{args.concurrency} clients, {args.rounds} rounds of {args.burst:g} s bursts per page, "
        f"each after a bare-page burst. Load average (1 min) at the start "
        f"{load_before[0]:.2f}, after each world {', '.join(f'{x:.2f}' for x in loads)}; "
        f"{os.cpu_count()} CPUs. Wall time {elapsed / 60:.1f} min."
    )
    if runs:
        print(f"gunicorn argv (from veche.cli): {' '.join(runs[0]['gunicorn']['argv'])}")
    print(report(runs))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
