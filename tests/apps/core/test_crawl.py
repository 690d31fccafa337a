"""Crawl the demo federation as each group's members: no script, no style, nothing off-site.

Every page reachable by plain links from ``/`` and ``/inbox/`` is fetched with the
Django test client, breadth-first, and its HTML is read with the standard library's
parser. The pages must work in Tor Browser at *Safest*: no ``<script>``, no inline
style or event handler, no URL pointing anywhere but this server, every form
submittable with a plain button, and the strict Content-Security-Policy on every
response (stylesheets and exports included).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

URL_ATTRIBUTES = {
    "src",
    "href",
    "action",
    "formaction",
    "srcset",
    "poster",
    "data",
    "background",
    "cite",
    "longdesc",
    "manifest",
    "ping",
    "xlink:href",
}
MAX_PAGES = 400
TEST_SERVER = "http://testserver"


@dataclass
class Form:
    method: str
    action: str | None
    has_submit: bool = False


@dataclass
class PageReport:
    """What the parser saw on one page."""

    links: list[str] = field(default_factory=list)
    stylesheets: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)


def is_external(url: str) -> bool:
    """Return whether ``url`` leaves this server (any scheme or host, ``//x`` included)."""
    parts = urlsplit(url.strip())
    return bool(parts.scheme or parts.netloc) or url.strip().startswith("//")


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.report = PageReport()

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        report = self.report
        if tag in {"script", "style", "iframe", "object", "embed", "frame", "base"}:
            report.problems.append(f"<{tag}> element")
        for name, value in attrs:
            value = value or ""
            if name == "style":
                report.problems.append(f"style= on <{tag}>")
            if name.startswith("on"):
                report.problems.append(f"{name}= on <{tag}>")
            if name in URL_ATTRIBUTES:
                candidates = (
                    [part.strip().split(" ")[0] for part in value.split(",")]
                    if name == "srcset"
                    else [value]
                )
                for url in candidates:
                    if is_external(url):
                        report.problems.append(f"external URL in <{tag} {name}={url!r}>")
            if "url(" in value.replace(" ", "").lower():
                report.problems.append(f"url() in <{tag} {name}>")
        if tag == "meta":
            values = dict(attrs)
            if (values.get("http-equiv") or "").lower() == "refresh":
                report.problems.append("<meta http-equiv=refresh>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and values.get("href", "").startswith("/"):
            self.report.links.append(values["href"])
        if tag == "link" and "stylesheet" in values.get("rel", "").split():
            self.report.stylesheets.append(values.get("href", ""))
        if tag == "form":
            self.report.forms.append(
                Form(method=values.get("method", "get").lower(), action=values.get("action"))
            )
        if self.report.forms and (
            (tag == "button" and values.get("type", "submit") == "submit")
            or (tag == "input" and values.get("type") in {"submit", "image"})
        ):
            self.report.forms[-1].has_submit = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def parse(html: str) -> PageReport:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    report = parser.report
    for form in report.forms:
        if not form.has_submit:
            report.problems.append(f"a form (action={form.action!r}) without a submit button")
        if form.method not in {"get", "post"}:
            report.problems.append(f"a form with method={form.method!r}")
    return report


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _local(url: str, base: str) -> str | None:
    """Return the path (with query) of a same-origin URL, or None for any other."""
    absolute = urljoin(TEST_SERVER + base, url)
    parts = urlsplit(absolute)
    if f"{parts.scheme}://{parts.netloc}" != TEST_SERVER:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def skipped(path: str) -> bool:
    return path.startswith("/logout")


@dataclass
class Crawl:
    pages: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    stylesheets: set[str] = field(default_factory=set)
    downloads: set[str] = field(default_factory=set)


def crawl(client: Any, starts: list[str]) -> Crawl:
    from veche.apps.core.middleware import CONTENT_SECURITY_POLICY

    result = Crawl()
    queue = deque(starts)
    seen = set(starts)
    while queue:
        path = queue.popleft()
        assert len(result.pages) < MAX_PAGES, "the crawl does not end: links multiply"
        response = client.get(path)
        result.pages[path] = response.status_code
        if response.get("Content-Security-Policy") != CONTENT_SECURITY_POLICY:
            result.problems.append(f"{path}: no strict Content-Security-Policy")
        found: list[str] = []
        if response.status_code in {301, 302, 303, 307, 308}:
            found.append(response["Location"])
        elif response.status_code != 200:
            result.problems.append(f"{path}: status {response.status_code}")
        elif urlsplit(path).path.endswith((".jsonl", ".csv", ".json")):
            result.downloads.add(path)
            _body(response)
        elif response["Content-Type"].startswith("text/html"):
            report = parse(_body(response).decode("utf-8"))
            result.problems.extend(f"{path}: {problem}" for problem in report.problems)
            found.extend(report.links)
            result.stylesheets.update(report.stylesheets)
        else:
            result.problems.append(f"{path}: unexpected {response['Content-Type']}")
        for url in found:
            local = _local(url.split("#", 1)[0] or path, path)
            if local is None:
                result.problems.append(f"{path}: link off the server: {url}")
            elif local not in seen and not skipped(local):
                seen.add(local)
                queue.append(local)
    return result


def check_stylesheets(client: Any, stylesheets: set[str]) -> list[str]:
    from veche.apps.core.middleware import CONTENT_SECURITY_POLICY

    problems = []
    for href in sorted(stylesheets):
        if is_external(href):
            problems.append(f"external stylesheet {href}")
            continue
        response = client.get(href)
        if response.status_code != 200:
            problems.append(f"{href}: status {response.status_code}")
            continue
        if response.get("Content-Security-Policy") != CONTENT_SECURITY_POLICY:
            problems.append(f"{href}: no strict Content-Security-Policy")
        css = _body(response).decode("utf-8").lower()
        if "@import" in css:
            problems.append(f"{href}: @import")
        for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
            if is_external(target) and not target.startswith("data:"):
                problems.append(f"{href}: url({target})")
        if re.search(r"url\(\s*['\"]?\s*(https?:)?//", css):
            problems.append(f"{href}: url() off the server")
    return problems


# --- the parser itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<script>alert(1)</script>", "<script> element"),
        ("<style>p{}</style>", "<style> element"),
        ('<p style="color:red">x</p>', "style= on <p>"),
        ('<a href="/x" onclick="f()">x</a>', "onclick= on <a>"),
        ('<img src="https://cdn.example/x.png">', "external URL"),
        ('<img srcset="/a.png 1x, //cdn.example/b.png 2x">', "external URL"),
        ('<form action="http://evil.example/"><button>x</button></form>', "external URL"),
        ('<link rel="stylesheet" href="//fonts.example/css">', "external URL"),
        ('<form method="post"><input name="x"></form>', "without a submit button"),
        ('<meta http-equiv="refresh" content="0;url=/x">', "refresh"),
    ],
)
def test_parser_catches(html: str, problem: str) -> None:
    assert any(problem in found for found in parse(html).problems), parse(html).problems


def test_parser_accepts_a_plain_page() -> None:
    report = parse(
        '<a href="/proposals/1/">x</a><a href="#top">y</a>'
        '<form method="post" action="/x/"><button type="submit">Go</button></form>'
    )
    assert report.problems == []
    assert report.links == ["/proposals/1/"]


# --- the crawl ---------------------------------------------------------------------------


@pytest.fixture
def demo(db: Any) -> dict[str, list[str]]:
    from django.utils import timezone

    from veche.demo import build as build_demo

    return build_demo(now=timezone.now())


def test_anonymous_pages_are_plain_and_local(client: Any, demo: Any) -> None:
    result = crawl(client, ["/", "/login/"])
    assert result.problems == []
    assert result.pages["/login/"] == 200
    assert check_stylesheets(client, result.stylesheets) == []


def test_every_page_a_member_reaches_is_plain_and_local(client: Any, demo: Any) -> None:
    from tests.conftest import log_in_with_keys

    from veche.apps.accounts.models import Member
    from veche.crypto import unlock
    from veche.demo import PASSPHRASE as DEMO_PASSPHRASE

    for group, pseudonyms in demo.items():
        # The coordinator and one other member: their pages differ (carrying, inviting).
        for pseudonym in (pseudonyms[0], pseudonyms[-1]):
            member = Member.objects.get(pseudonym=pseudonym)
            log_in_with_keys(client, member, unlock(member.key_record(), DEMO_PASSPHRASE))
            result = crawl(client, ["/", "/inbox/"])
            assert result.problems == [], (group, pseudonym)
            ok = [path for path, status in result.pages.items() if status == 200]
            assert any(path.startswith("/proposals/") for path in ok), (pseudonym, result.pages)
            assert "/decisions/" in ok
            assert {"/federation/rules/", "/proposals/new/charter/"} <= set(ok)
            assert "/federation/rules/charter-2.json" in result.downloads
            # The account page (tokens, feeds) and the API's reference and schema.
            assert {"/account/", "/api/"} <= set(ok)
            assert "/api/openapi.json" in result.downloads
            assert result.downloads, "the decision log's export is linked"
            assert result.stylesheets
            assert check_stylesheets(client, result.stylesheets) == []
            client.logout()
