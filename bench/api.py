"""Time the API's main reads and the private feeds against the bare Django page, in one run.

    .venv/bin/python bench/api.py                   # SQLite, 50 and 10,000 proposals
    .venv/bin/python bench/api.py --quick           # smoke run: 20 and 100, short bursts
    .venv/bin/python bench/api.py --sizes 50,1000 --databases sqlite,postgresql

The sibling of bench/pages.py, and built on it: the same cached worlds (bench/world.py),
the same two servers (``veche serve``'s gunicorn command line, and the bare Django page of
bench/bare/), the same interleaved bursts (bare, endpoint, bare, endpoint...) and the
same target: every endpoint at least 0.5x the bare page's rate. The member logs in
through the real form once, then makes an API token (read only) and two feeds with
titles on the account page, as a member would; the load sends only the token
(``Authorization: Bearer``) or the feed's address, never a cookie.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import pages  # noqa: E402 - bench/pages.py, beside this file

TARGET_RATIO = pages.TARGET_RATIO


def endpoints_of(world: dict[str, Any], feeds: dict[str, str]) -> list[tuple[str, str]]:
    """Return (name, path) of what is measured: the API's main reads and the feeds."""
    return [
        ("api proposals list", "/api/proposals"),
        ("api proposal detail", f"/api/proposals/{world['detail']}"),
        ("api inbox", "/api/inbox"),
        ("api decisions", "/api/decisions"),
        ("api fund", "/api/fund"),
        ("api members", "/api/members"),
        ("feed: inbox", f"/feeds/{feeds['inbox']}/inbox.atom"),
        ("feed: decisions", f"/feeds/{feeds['decisions']}/decisions.atom"),
    ]


SECRET = re.compile(rb'id="new-secret" type="text" readonly size="\d+" value="([^"]+)"')


def make_secret(port: int, jar: dict[str, str], form: dict[str, str]) -> str:
    """Post the account page's form as the logged-in member; return the secret it shows."""
    status, _message, body = pages.request(
        port, "GET", "/account/", headers={"Cookie": pages.cookie_header(jar)}
    )
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        raise SystemExit(f"api.py: the account page did not load ({status})")
    data = urlencode({"csrfmiddlewaretoken": token.group(1).decode(), **form}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": pages.cookie_header(jar),
        "Origin": f"http://{pages.HOST}:{port}",
    }
    status, _message, body = pages.request(port, "POST", "/account/", headers=headers, body=data)
    found = SECRET.search(body)
    if status != 201 or found is None:
        raise SystemExit(f"api.py: making {form} failed ({status})")
    value = found.group(1).decode()
    return value.rsplit("/feeds/", 1)[-1].split("/", 1)[0]


def run_world(db: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    cache, meta = pages.ensure_world(db, size, args)
    data_dir, url = pages.fresh_copy(db, size, cache, meta, args)
    env = pages.python_env(data_dir, url)
    argv = pages.serve_argv(env)
    veche_port, bare_port = pages.free_port(), pages.free_port()
    veche_argv = [sys.executable, "-m", "veche.cli", "serve", "--host", pages.HOST]
    veche_argv += ["--port", str(veche_port)]
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bare_site.settings"}
    bare_env["PYTHONPATH"] = f"{pages.BARE}{os.pathsep}{pages.SRC}"
    servers: list[pages.Server] = []
    try:
        servers.append(pages.start("veche", veche_argv, env, veche_port, data_dir / "veche.log"))
        servers.append(
            pages.start(
                "bare", pages.bare_argv(argv, bare_port), bare_env, bare_port,
                data_dir / "bare.log",
            )
        )  # fmt: skip
        jar = pages.log_in(veche_port, meta["member"], meta["passphrase"])
        token = make_secret(veche_port, jar, {"action": "token"})
        feeds = {
            kind: make_secret(
                veche_port, jar, {"action": "feed", "kind": kind, "with_titles": "on"}
            )
            for kind in ("inbox", "decisions")
        }
        measured = endpoints_of(meta, feeds)
        headers = {"Authorization": f"Bearer {token}"}
        for name, path in measured:
            # Once each first: the day's one write of "last used", and a check it answers.
            status, _m, body = pages.request(veche_port, "GET", path, headers=headers)
            if status != 200:
                raise SystemExit(f"api.py: {name} answered {status}: {body[:200]!r}")
        measures = {name: pages.Measure() for name, _ in measured}
        pages.say(f"{db} {size}: measuring {len(measured)} endpoints, {args.rounds} rounds")
        for r in range(args.rounds):
            for name, path in measured:
                b = pages.burst(bare_port, "/", {}, concurrency=args.concurrency,
                                seconds=args.burst, timeout=args.timeout)  # fmt: skip
                p = pages.burst(veche_port, path, headers, concurrency=args.concurrency,
                                seconds=args.burst, timeout=args.timeout)  # fmt: skip
                measures[name].bare.append(b)
                measures[name].page.append(p)
                pages.say(
                    f"  round {r + 1} {name}: {pages.Measure.rate([p]):.1f} req/s "
                    f"(bare {pages.Measure.rate([b]):.0f})"
                )
        results = []
        for name, _path in measured:
            row = {"page": name, **measures[name].summary()}
            row["ratio"] = row["rps"] / row["bare_rps"] if row["bare_rps"] else float("nan")
            results.append(row)
        return {"database": db, "size": size, "world": meta, "endpoints": results}
    finally:
        for server in reversed(servers):
            server.stop()
        if url:
            pages.pg_admin(
                args.postgres_url, f'DROP DATABASE IF EXISTS "{pages.PG_RUN_DB}" WITH (FORCE)'
            )


def report(runs: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for run in runs:
        lines += [
            "",
            f"### {run['database']}, {run['size']:,} proposals",
            "",
            "| endpoint | req/s | p50 ms | p99 ms | bare req/s | veche ÷ bare | target ≥ 0.5 "
            "| n (errors) |",
            "|---|---:|---:|---:|---:|---:|---|---:|",
        ]
        for p in run["endpoints"]:
            ok = "ok" if p["ratio"] >= TARGET_RATIO else "**missed**"
            lines.append(
                f"| {p['page']} | {pages.fmt(p['rps'])} | {pages.fmt(p['p50_ms'])} "
                f"| {pages.fmt(p['p99_ms'])} | {pages.fmt(p['bare_rps'], 0)} "
                f"| {pages.fmt(p['ratio'], 3)} | {ok} | {p['requests']} ({p['errors']}) |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 20,100; 1 round of 1 s")
    parser.add_argument("--sizes", help="proposals per world, comma-separated (50,10000)")
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--rounds", type=int, help="bursts per endpoint (default 3)")
    parser.add_argument("--burst", type=float, help="seconds per burst (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="clients (default 4)")
    parser.add_argument("--timeout", type=float, default=60, help="per request, seconds")
    pages.add_world_options(parser)
    args = parser.parse_args()
    sizes = args.sizes or ("20,100" if args.quick else "50,10000")
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.burst = args.burst or (1.0 if args.quick else 3.0)
    started = time.monotonic()
    runs = [
        run_world(db.strip(), size, args)
        for db in args.databases.split(",")
        if db.strip()
        for size in sorted(int(s) for s in sizes.split(","))
    ]
    print(f"# bench/api.py: {' '.join(sys.argv[1:]) or '(defaults)'}")
    print()
    print(
        f"{args.concurrency} clients, {args.rounds} rounds of {args.burst:g} s bursts per "
        f"endpoint, each after a bare-page burst; {os.cpu_count()} CPUs; load average now "
        f"{os.getloadavg()[0]:.2f}. Wall time {(time.monotonic() - started) / 60:.1f} min."
    )
    print(report(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
