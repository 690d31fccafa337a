"""Security headers, deny-by-default access, and the no-inline-anything rule for templates."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, include, path

from veche.apps.core.middleware import CONTENT_SECURITY_POLICY
from veche.apps.core.permissions import MEMBER, PUBLIC, TOKEN, access_of

pytestmark = pytest.mark.django_db

EXPECTED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response: HttpResponse) -> None:
    for header, value in EXPECTED_HEADERS.items():
        assert response[header] == value, header
    assert "camera=()" in response["Permissions-Policy"]


def test_csp_forbids_scripts_and_inline_styles() -> None:
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "script-src 'none'" in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/", 200),
        ("get", "/login/", 200),
        ("post", "/login/", 400),
        ("get", "/no-such-page/", 404),
        ("get", "/federation/", 302),
        ("get", "/logout/", 302),
        ("put", "/logout/", 405),
        ("get", "/static/veche/veche.css", 200),
        ("get", "/join/not-a-real-secret/", 404),
    ],
)
def test_every_response_carries_security_headers(client, federation, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert_security_headers(response)


def test_member_pages_are_not_cached(client_for, member_a):
    response = client_for(member_a).get("/federation/")
    assert response.status_code == 200
    assert_security_headers(response)
    assert response["Cache-Control"] == "no-store"


def test_static_css_is_served_with_debug_off(client, settings):
    settings.DEBUG = False
    response = client.get("/static/veche/veche.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"font-family" in b"".join(response.streaming_content)


def test_static_refuses_path_traversal(client):
    assert client.get("/static/../config/settings.py").status_code == 404
    assert client.get("/static/veche/../../../config/settings.py").status_code == 404


def _walk(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + str(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + str(entry.pattern), entry.callback


def test_every_url_pattern_declares_its_access():
    undeclared = [
        route
        for route, view in _walk(get_resolver())
        if access_of(view) not in {PUBLIC, MEMBER, TOKEN}
    ]
    assert undeclared == []


def test_public_views_are_the_expected_few():
    public = sorted(route for route, view in _walk(get_resolver()) if access_of(view) == PUBLIC)
    assert public == sorted(
        [
            "",
            "join/<str:secret>/",
            "login/",
            "logout/",
            "i18n/setlang/",
            "static/<path:path>",
            # The API's reference, its OpenAPI document, django-ninja's root (shadowed by
            # the reference) and the problem-details 404 of any other address under /api/.
            "api/",
            "api/",
            "api/openapi.json",
            "api/<path:path>",
        ]
    )


@pytest.fixture
def undeclared_urlconf(settings):
    def undeclared_view(request):
        return HttpResponse("secret internals")

    module = types.ModuleType("veche_test_undeclared_urls")
    module.urlpatterns = [
        path("undeclared/", undeclared_view),
        path("", include("veche.config.urls")),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    yield
    del sys.modules[module.__name__]


def test_undeclared_view_redirects_anonymous_to_login(client, undeclared_urlconf):
    response = client.get("/undeclared/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_undeclared_view_is_forbidden_to_members(client_for, member_a, undeclared_urlconf):
    response = client_for(member_a).get("/undeclared/")
    assert response.status_code == 403
    assert b"secret internals" not in response.content


APPS_DIR = Path(__file__).resolve().parents[3] / "src" / "veche" / "apps"
FORBIDDEN_IN_TEMPLATES = re.compile(
    r"<script|<style|\sstyle=|\son[a-z]+=|javascript:|https?://", re.IGNORECASE
)
# Every page's template, in every app (Jinja2, decision 0081).
TEMPLATES = sorted(APPS_DIR.glob("*/jinja2/**/*.html"))


def test_the_template_check_finds_every_apps_templates():
    """The check below must not pass by finding nothing (as when templates move)."""
    apps = {p.relative_to(APPS_DIR).parts[0] for p in TEMPLATES}
    assert {"core", "accounts", "federation", "proposals", "fund", "api"} <= apps
    assert len(TEMPLATES) >= 40


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=lambda p: str(p.relative_to(APPS_DIR)).replace("/", ":")
)
def test_templates_have_no_script_inline_style_or_outside_resource(template):
    assert not FORBIDDEN_IN_TEMPLATES.search(template.read_text())


def test_language_switch_is_a_post_form(client):
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/login/"})
    assert response.status_code == 302
    page = client.get("/login/")
    assert page["Content-Language"] == "ru"


@pytest.mark.parametrize(
    ("language", "text"), [("ru", "Войти"), ("uk", "Увійти"), ("en", "Log in")]
)
def test_pages_are_translated(client, federation, language, text):
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert text in client.get("/login/").content.decode()
