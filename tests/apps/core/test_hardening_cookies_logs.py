"""Hardening (issue 4, part 4) not covered elsewhere: cookies on a real login, the
``Secure`` flag following ``VECHE_SECURE_COOKIES``, no admin, and logs that hold
no IP address and no content even at DEBUG during a whole scenario.

Headers and CSP on every response are in test_core_security.py, throttling in
tests/apps/accounts/test_accounts_login.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from compartment_world import PASSPHRASE, World, build_world
from test_compartment_matrix import make_role, run, targets

pytestmark = pytest.mark.django_db

IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
CLIENT_ADDRESSES = {
    "REMOTE_ADDR": "203.0.113.77",
    "HTTP_X_FORWARDED_FOR": "198.51.100.23, 2001:db8::77",
    "HTTP_X_REAL_IP": "192.0.2.99",
}
INJECTED = ["203.0.113.77", "198.51.100.23", "2001:db8::77", "192.0.2.99"]


@pytest.fixture
def world(test_keys: Any) -> World:
    from django.utils import timezone

    return build_world(now=timezone.now(), keys=test_keys)


def log_in(client: Any, pseudonym: str, passphrase: str = PASSPHRASE) -> Any:
    client.get("/login/", **CLIENT_ADDRESSES)
    return client.post(
        "/login/", {"pseudonym": pseudonym, "passphrase": passphrase}, **CLIENT_ADDRESSES
    )


# --- cookies ------------------------------------------------------------------------------


def test_every_cookie_of_a_real_login_is_httponly_and_samesite_strict(client, world):
    first = client.get("/login/")
    response = log_in(client, world["A"].members["ann"].pseudonym)
    assert response.status_code == 302, response.content[:500]
    language = client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    cookies = {**first.cookies, **response.cookies, **language.cookies}
    assert {"veche_session", "veche_csrf", "veche_language"} <= set(cookies)
    for name, morsel in cookies.items():
        if not morsel.value:
            continue  # a deletion
        assert morsel["httponly"], name
        assert morsel["samesite"] == "Strict", name
        assert not morsel["secure"], f"{name}: Secure by default breaks onion services (HTTP)"


def test_cookies_are_secure_when_the_operator_says_so(client, world, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.LANGUAGE_COOKIE_SECURE = True
    first = client.get("/login/")
    response = log_in(client, world["A"].members["ann"].pseudonym)
    for name, morsel in {**first.cookies, **response.cookies}.items():
        if morsel.value:
            assert morsel["secure"], name


@pytest.mark.parametrize(("value", "secure"), [(None, False), ("0", False), ("1", True)])
def test_secure_follows_veche_secure_cookies(tmp_path, value, secure):
    env = {k: v for k, v in os.environ.items() if k != "VECHE_SECURE_COOKIES"}
    env["VECHE_DATA_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "veche.config.settings"
    if value is not None:
        env["VECHE_SECURE_COOKIES"] = value
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE)"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed snippet
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(secure)] * 3


# --- no admin -----------------------------------------------------------------------------


def test_there_is_no_admin(client, world, settings):
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    assert client.get("/admin/").status_code == 404
    coordinator = make_role("coordinator_A", world)
    for url in ("/admin/", "/admin/login/", "/admin/accounts/member/"):
        assert coordinator.client.get(url).status_code == 404, url


# --- logs ---------------------------------------------------------------------------------


@pytest.fixture
def every_log_record(caplog) -> Iterator[Any]:
    """Capture every logger at DEBUG, the ones that do not propagate included."""
    from veche.apps.core.logging import RedactSecretsFilter

    caplog.set_level(logging.DEBUG)
    # What the shipped console handler would write: its filter, every level.
    caplog.handler.addFilter(RedactSecretsFilter())
    changed = []
    for name in ["", *logging.root.manager.loggerDict]:
        logger = logging.getLogger(name)
        changed.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if not logger.propagate:
            logger.addHandler(caplog.handler)
    yield caplog
    for logger, level, disabled in changed:
        logger.setLevel(level)
        logger.disabled = disabled
        if caplog.handler in logger.handlers:
            logger.removeHandler(caplog.handler)


def _everything_logged(caplog: Any) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.__dict__))
    return "\n".join(parts)


def test_a_whole_scenario_logs_no_address_and_no_content(client, world, every_log_record):
    # Logging in, failing to, and crossing every route as every role, from addresses
    # a careless log line would record; plus a server error's traceback.
    log_in(client, world["B"].members["ann"].pseudonym, "a wrong passphrase!")
    log_in(client, "PSEUDO-X-nobody", "a wrong passphrase!")
    with time_machine.travel(dt.timedelta(seconds=2)):  # past the delay after a failure
        assert log_in(client, world["B"].members["ann"].pseudonym).status_code == 302
    client.get("/join/a-secret-in-a-url/", **CLIENT_ADDRESSES)
    every = targets(world)
    for name in ("anonymous", "member_A", "member_B"):  # the matrix runs all six
        role = make_role(name, world)
        role.client.defaults.update(CLIENT_ADDRESSES)
        for method in ("GET", "POST"):
            for target in every:
                run(role, target, method)
    logged = _everything_logged(every_log_record)
    for address in INJECTED:
        assert address not in logged
    assert not IPV4.search(logged), IPV4.search(logged)
    for marker in ("MARKER-", "PSEUDO-", "FEDTEXT-", PASSPHRASE, "a-secret-in-a-url"):
        assert marker not in logged, marker


def test_a_server_error_is_logged_without_request_or_address(client, world, every_log_record):
    from django.test import Client
    from django.urls import path

    from veche.apps.core.permissions import public

    @public
    def broken(request: Any) -> Any:
        raise RuntimeError("boom")

    import sys as _sys
    import types

    module = types.ModuleType("veche_test_broken_urls")
    module.urlpatterns = [path("broken/MARKER-A-TITLE-url/", broken)]  # type: ignore[attr-defined]
    _sys.modules[module.__name__] = module
    try:
        from django.test.utils import override_settings

        with override_settings(ROOT_URLCONF=module.__name__):
            response = Client(raise_request_exception=False).get(
                "/broken/MARKER-A-TITLE-url/", **CLIENT_ADDRESSES
            )
    finally:
        del _sys.modules[module.__name__]
    assert response.status_code == 500
    errors = [r for r in every_log_record.records if r.name == "django.request"]
    assert errors, "a server error is logged (it is the one thing worth logging)"
    logged = _everything_logged(every_log_record)
    for address in INJECTED:
        assert address not in logged
    assert all(getattr(r, "request", None) is None for r in errors)


def test_feed_addresses_and_api_tokens_are_never_logged(client_for, world, every_log_record):
    """A feed's secret is in its address, a token in a header: neither reaches a log line,
    whether the request succeeds, is refused, or names a revoked feed."""
    from django.test import Client

    from veche.apps.api.models import AccessKey
    from veche.apps.api.services import create_feed, create_token

    member = world["A"].members["ann"]
    _row, token = create_token(
        member=member, private_key=world.keys.private[member.pk], may_act=True
    )
    row, feed = create_feed(member=member, kind=AccessKey.Kind.INBOX_FEED)
    api = Client(headers={"Authorization": f"Bearer {token}"}, **CLIENT_ADDRESSES)
    api.get("/api/inbox")
    api.post("/api/proposals/1/respond", "{", content_type="application/json")
    Client(**CLIENT_ADDRESSES).get(f"/feeds/{feed}/inbox.atom")
    row.delete()
    Client(**CLIENT_ADDRESSES).get(f"/feeds/{feed}/inbox.atom")
    Client(**CLIENT_ADDRESSES).get(f"/feeds/{token}/decisions.atom")
    logged = _everything_logged(every_log_record)
    assert token not in logged
    assert feed not in logged
