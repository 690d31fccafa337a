"""A member's keys for one request: unwrapped from the session and the key cookie.

The request's keyring (``veche.apps.core.keyring``) is built here from the member's key
grants, which this app keeps, and lives only for the request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from nacl.public import PrivateKey

from veche.apps.accounts.keys import keyring_for
from veche.apps.accounts.models import MemberSession
from veche.apps.core.keyring import (
    COOKIE_NAME,
    KEY_LOST,
    SESSION_KEY,
    private_key_of,
    serving,
)
from veche.crypto import Keyring, wrap_for_session


def remember_private_key(
    request: HttpRequest, response: HttpResponse, private_key: PrivateKey
) -> None:
    """Keep the unlocked key for this session: wrapped in the session, its secret in a cookie."""
    cookie_secret, blob = wrap_for_session(private_key)
    request.session[SESSION_KEY] = blob
    request.session.save()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and request.session.session_key:
        MemberSession.objects.get_or_create(
            session_key=request.session.session_key, defaults={"member": user}
        )
    response.set_cookie(
        COOKIE_NAME,
        cookie_secret,
        max_age=None,  # a browser-session cookie: closing the browser forgets the key
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
        path="/",
    )


class KeyringMiddleware:
    """Build the request's keyring from the session and the cookie; clear it afterwards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        keyring = Keyring()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            private_key = private_key_of(request)
            if private_key is not None:
                keyring = keyring_for(user, private_key)
            else:
                _ignore_session(request)
        with serving(keyring):
            return self.get_response(request)


def _ignore_session(request: HttpRequest) -> None:
    """Treat this request as logged out, without touching the session it presented.

    Logged in, but without the key cookie: the browser was closed (the session cookie
    outlived the key cookie), or someone presents a stolen session cookie alone. Such a
    session can read and write nothing. It is not ended: a stolen session cookie alone
    must not be able to log the member out (logout, or a login as someone else, would
    delete the session). The request gets a new, empty session instead, which tells the
    login page to say why the member must log in again; the member's own browser, which
    holds both cookies, carries on.
    """
    fresh = request.session.__class__()
    fresh[KEY_LOST] = True
    request.session = fresh
    anonymous = AnonymousUser()
    request.user = anonymous

    async def auser() -> AnonymousUser:
        return anonymous

    request.auser = auser  # type: ignore[attr-defined]
