"""A real ``veche serve`` (gunicorn) writes no path, origin, address, name or passphrase.

The server is started as operators start it, on a free port of 127.0.0.1, in a fresh data
directory on SQLite. It is sent what an attacker or a careless client sends: refused CSRF
posts with a foreign Origin, bad Host headers, malformed request lines and URLs, oversized
and too many headers, and fuzzed forms; a member joins and logs in, and guesses are made
at known and unknown names. Then everything the server wrote (stdout, stderr, any file
in its data directory but the database) is read: none of the markers sent, and no IP
address, appears in it. Decision 0075.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

PSEUDONYM = "Pseudomark_q7"
PASSPHRASE = "passmark velvet lantern cobalt tundra"
UNKNOWN = "Nobodymark_z9"
PATH = "PATHMARK"
ORIGIN = "originmark.example"
REFERER = "referermark.example"
HOST = "hostmark.example"
FORM = "FORMMARK"
ADDRESSES = ["203.0.113.77", "198.51.100.23", "2001:db8::77"]
MARKERS = [PSEUDONYM, PASSPHRASE, "passmark", UNKNOWN, PATH, ORIGIN, REFERER, HOST, FORM]
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A ``veche serve`` subprocess; every byte it writes goes to files in ``where``."""

    def __init__(self, where: Path) -> None:
        self.data = where / "data"
        self.data.mkdir()
        self.port = _free_port()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "VECHE_DEBUG"}
        }
        self.env.update(VECHE_DATA_DIR=str(self.data), VECHE_HASHING_SLOTS="1")
        self.out = where / "stdout.txt"
        self.err = where / "stderr.txt"
        init = self._veche("init", "--base-url", f"http://127.0.0.1:{self.port}")
        self.join_path = re.search(r"http://[^/]+(/join/[^/\s]+/)", init).group(1)
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-m", "veche.cli", "serve", "--port", str(self.port),
                 "--workers", "1", "--threads", "4"],
                env=self.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"veche serve did not start: {self.err.read_text()[-2000:]}")

    def _veche(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "veche.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return done.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def everything_written(self) -> str:
        parts = [self.out.read_text(errors="replace"), self.err.read_text(errors="replace")]
        for path in sorted(self.data.rglob("*")):
            skipped = (
                path.name.startswith(("veche.sqlite3", "secret_key")) or path.suffix == ".lock"
            )
            if path.is_file() and not skipped:
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)


class Browser:
    """Cookies and requests over one keep-alive connection, like a browser."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}
        self.statuses: list[int] = []
        self.server_headers: list[str] = []

    def request(
        self, method: str, path: str, body: bytes | str | None = None, **headers: str
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        sent = {
            "Host": "127.0.0.1",
            "X-Forwarded-For": f"{ADDRESSES[0]}, {ADDRESSES[2]}",
            "X-Real-IP": ADDRESSES[1],
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None and "Content-Type" not in headers:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update({k.replace("_", "-"): v for k, v in headers.items()})
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            if header.lower() == "server":
                self.server_headers.append(value)
        self.statuses.append(response.status)
        return response.status, text

    def form(self, path: str) -> str:
        status, page = self.request("GET", path)
        match = CSRF_INPUT.search(page)
        assert match, (path, status)
        return match.group(1)

    def post(self, path: str, fields: dict[str, str], **headers: str) -> tuple[int, str]:
        from urllib.parse import urlencode

        return self.request("POST", path, urlencode(fields), **headers)


def raw(server: Server, data: bytes) -> bytes:
    """Send bytes as they are; return what came back (empty if the server hung up)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path)
    yield running
    running.stop()


def test_a_real_server_logs_no_path_origin_address_name_or_passphrase(server):
    member = Browser(server)
    token = member.form(server.join_path)
    status, page = member.post(
        server.join_path,
        {"csrfmiddlewaretoken": token, "pseudonym": PSEUDONYM,
         "passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE},
    )  # fmt: skip
    assert status == 302, page[:2000]
    assert member.request("GET", "/inbox/")[0] == 200

    # Logging in: wrong, unknown name, right (after the delay a failure starts).
    guesser = Browser(server)
    for name, passphrase in [(PSEUDONYM, "passmark wrong guess one"), (UNKNOWN, PASSPHRASE)]:
        token = guesser.form("/login/")
        guesser.post(
            "/login/", {"csrfmiddlewaretoken": token, "pseudonym": name, "passphrase": passphrase}
        )
    time.sleep(1.2)
    token = guesser.form("/login/")
    status, _ = guesser.post(
        "/login/", {"csrfmiddlewaretoken": token, "pseudonym": PSEUDONYM, "passphrase": PASSPHRASE}
    )
    assert status == 302

    # Refused CSRF posts: no token, a wrong token, a foreign Origin and Referer.
    stranger = Browser(server)
    stranger.form("/login/")
    fields = {"pseudonym": PSEUDONYM, "passphrase": PASSPHRASE}
    for path in ("/login/", "/logout/", f"/{PATH}-csrf/", f"/login/?next=/{PATH}-next/"):
        assert stranger.post(path, fields, Origin=f"http://{ORIGIN}")[0] in {403, 404}
        assert stranger.post(
            path,
            {**fields, "csrfmiddlewaretoken": "x" * 64},
            Referer=f"http://{REFERER}/{PATH}-referer/",
        )[0] in {403, 404}

    # Pages that do not exist, and a bad Host header.
    assert stranger.request("GET", f"/{PATH}-missing/?q={PATH}-query")[0] == 404
    assert stranger.request("GET", f"/{PATH}-host/", Host=HOST)[0] == 400
    assert stranger.request("GET", f"/{PATH}-%zz%00/")[0] in {400, 404}

    # Requests gunicorn itself refuses: malformed lines, methods, headers, sizes.
    malformed = [
        f"GET /{PATH}-space in path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        f"BR@KEN /{PATH}-method HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        f"GET /{PATH}-{'a' * 5000} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        f"GET /{PATH}-big HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {PATH}{'b' * 9000}\r\n\r\n".encode(),  # noqa: E501
        (f"GET /{PATH}-many HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         + "".join(f"X-{i}: {PATH}\r\n" for i in range(150)) + "\r\n").encode(),
        f"GET /{PATH}-name HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: {PATH}\r\n\r\n".encode(),
        f"GET /{PATH}-bytes\xff\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode("latin-1"),
        f"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n{PATH}".encode(),
        f"GET /{PATH}-version HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        f"PROXY TCP4 {ADDRESSES[0]} 127.0.0.1 1 2\r\nGET /{PATH}-proxy HTTP/1.1\r\n\r\n".encode(),
        f"GET http://{ORIGIN}/{PATH}-absolute HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode(),
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + PATH.encode() + b"\x00" * 40,
    ]  # fmt: skip
    for data in malformed:
        answer = raw(server, data)
        assert not answer.startswith(b"HTTP/1.1 5"), (data[:60], answer[:200])

    # Fuzzed forms, with a valid CSRF token: random bytes, huge values, too many fields.
    fuzzer = Browser(server)
    rng = random.Random(12)
    targets = ["/login/", server.join_path, "/i18n/setlang/"]
    for i in range(60):
        token = fuzzer.form("/login/")
        junk = "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(0, 300)))
        fields = {
            "csrfmiddlewaretoken": token,
            "pseudonym": rng.choice([PSEUDONYM, UNKNOWN, f"{FORM}-{junk}", ""]),
            "passphrase": rng.choice([PASSPHRASE, f"{FORM}{junk}", "x" * 5000]),
            "passphrase_again": f"{FORM}-{junk}",
            "language": f"{FORM}-{junk}"[:50],
            "next": f"/{PATH}-{junk}"[:100],
            f"{FORM}-{i}": junk,
        }
        status, _ = fuzzer.post(rng.choice(targets), fields)
        assert status < 500
    token = fuzzer.form("/login/")
    many = "&".join(f"{FORM}{i}=x" for i in range(1500))
    assert fuzzer.request("POST", "/login/", f"csrfmiddlewaretoken={token}&{many}")[0] == 400
    fuzzer.request("POST", "/login/", f"csrfmiddlewaretoken={token}&pseudonym=%ff%fe{FORM}")
    fuzzer.request(
        "POST", "/login/", f"--{FORM}\r\n\r\n".encode(),
        Content_Type=f"multipart/form-data; boundary={FORM}",
    )  # fmt: skip

    everyone = [member, guesser, stranger, fuzzer]
    assert all(status < 500 for browser in everyone for status in browser.statuses)
    assert not [h for browser in everyone for h in browser.server_headers], "no Server header"

    server.stop()
    written = server.everything_written()
    if os.environ.get("VECHE_SHOW_SERVER_LOG"):
        print(written)
    assert "Booting worker" in written  # the server's own life is logged…
    assert "refused as malformed" in written  # …and that requests were refused, no more
    lowered = written.lower()
    for marker in [*MARKERS, *ADDRESSES, "127.0.0.1", "ip=", "localhost"]:
        assert marker.lower() not in lowered, (marker, _around(written, marker))
    assert not IPV4.search(written), _around(written, IPV4.search(written).group(0))
    assert "/join/" not in written


def _around(text: str, marker: str) -> str:
    at = text.lower().find(marker.lower())
    return text[max(0, at - 300) : at + 300]
