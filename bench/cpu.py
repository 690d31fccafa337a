"""CPU time per request of veche's main pages against the bare Django page, in-process.

    .venv/bin/python bench/cpu.py                          # SQLite and PostgreSQL, 50 and 10,000
    .venv/bin/python bench/cpu.py --sizes 50 --databases sqlite --requests 100

The sibling of bench/pages.py, on the same cached worlds (bench/world.py), for a machine
whose other users make wall-clock rates drift by 2x within minutes: here each request's
cost is the CPU time its own process spent (``time.process_time``), which other processes
on the machine do not inflate. The member logs in through the real login form; every page
is requested through Django's whole stack (middleware, sessions, the keyring, templates)
with Django's test client, without HTTP or the server, and so is the bare page
(bench/bare/, its own process). A last row, the floor, is a member's 404 page: what any
page costs before its own content (session, member, keyring, middleware, layout).
bare ÷ veche is the ratio the HTTP benchmark would show with the server's and the
client's own costs left out; each side is measured twice, before and after the other,
and the mean is used.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # bench/pages.py, beside this file

TARGET_RATIO = pages.TARGET_RATIO
# What every page costs a member before its own content: the session, the member, the
# keyring, the middleware and the base layout, measured as a 404 page.
FLOOR = "/no-such-page/"


def cmd_measure(argv: list[str]) -> int:
    """Subprocess: log in (unless bare), time each path; print {path: ms} as JSON."""
    paths, requests, member, passphrase = json.loads(argv[0])
    import django

    django.setup()
    from django.test import Client

    # The bare project allows only 127.0.0.1 and localhost; veche is told "testserver".
    client = Client() if member else Client(HTTP_HOST="127.0.0.1")
    if member:
        response = client.post("/login/", {"pseudonym": member, "passphrase": passphrase})
        if response.status_code != 302:
            raise SystemExit(f"cpu.py: logging in failed ({response.status_code})")
    out: dict[str, float] = {}
    for path in paths:
        for _ in range(5):  # warm: compiled templates, caches, connections
            response = client.get(path)
        if response.status_code != (404 if path == FLOOR else 200):
            raise SystemExit(f"cpu.py: {path} answered {response.status_code}")
        started = time.process_time()
        for _ in range(requests):
            client.get(path)
        out[path] = (time.process_time() - started) / requests * 1000
    print(json.dumps(out))
    return 0


def measure(env: dict[str, str], paths: list[str], requests: int, login: tuple[str, str]) -> Any:
    env = {**env, "VECHE_ALLOWED_HOSTS": "testserver"}
    done = subprocess.run(  # noqa: S603 - this very script, with the venv's Python
        [sys.executable, __file__, "_measure", json.dumps([paths, requests, *login])],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"cpu.py: measuring failed: {done.stderr[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_world(db: str, size: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    cache, meta = pages.ensure_world(db, size, args)
    data_dir, url = pages.fresh_copy(db, size, cache, meta, args)
    env = pages.python_env(data_dir, url)
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bare_site.settings"}
    bare_env["PYTHONPATH"] = f"{pages.BARE}{os.pathsep}{pages.SRC}"
    named = [*pages.pages_of(meta), ("(floor: a member's 404 page)", FLOOR)]
    paths = [p for _, p in named]
    login = (meta["member"], meta["passphrase"])
    bare = [measure(bare_env, ["/"], args.requests * 2, ("", ""))["/"]]
    veche = [measure(env, paths, args.requests, login)]
    bare.append(measure(bare_env, ["/"], args.requests * 2, ("", ""))["/"])
    veche.append(measure(env, paths, args.requests, login))
    bare_ms = sum(bare) / len(bare)
    rows = []
    for name, path in named:
        ms = sum(v[path] for v in veche) / len(veche)
        rows.append({"db": db, "size": size, "page": name, "ms": ms, "bare_ms": bare_ms})
    return rows


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        return cmd_measure(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,10000", help="proposals per world (50,10000)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200, help="per page and pass")
    pages.add_world_options(parser)
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        parser.error("--sizes takes whole numbers, comma-separated")
    databases = [d.strip() for d in args.databases.split(",")]
    if not set(databases) <= {"sqlite", "postgresql"}:
        parser.error("--databases takes sqlite and/or postgresql")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0]
    print(f"Run on {when}, {args.requests} requests per page and pass, 2 passes; "
          f"load average {load:.2f}.\n")  # fmt: skip
    print("| database | proposals | page | CPU ms per request | bare CPU ms | veche ÷ bare "
          f"| target ≥ {TARGET_RATIO} |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---|")
    for db in databases:
        for size in sizes:
            for row in run_world(db, size, args):
                ratio = row["bare_ms"] / row["ms"]
                ok = "ok" if ratio >= TARGET_RATIO else "**missed**"
                print(f"| {db} | {size:,} | {row['page']} | {row['ms']:.2f} "
                      f"| {row['bare_ms']:.2f} | {ratio:.3f} | {ok} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
