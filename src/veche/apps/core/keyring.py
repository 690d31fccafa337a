"""The keys one request may use, and nothing more: the request's keyring.

A member's private key lives in the server session only wrapped by a secret that only
their browser holds (the ``veche_k`` cookie). :class:`KeyringMiddleware` unwraps it for
the length of one request, opens the member's key grants (their group's keys and the
federation's, every epoch they were given) and puts the resulting
:class:`~veche.crypto.Keyring` in a context variable. Models decrypt their encrypted
fields through :func:`current`; services encrypt through it. Outside a member's request
(the CLI, a background job) the keyring is empty unless code builds one explicitly with
:func:`using`, so the server cannot read content on its own.

A member of group A holds no key of group B: even a view that wrongly fetched B's rows
could only show "[encrypted]" — compartments are enforced twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from veche.crypto import (
    FEDERATION,
    CannotDecrypt,
    KeyId,
    Keyring,
    group_scope,
    open_key,
    unwrap_from_session,
    wrap_for_session,
)

if TYPE_CHECKING:
    from nacl.public import PrivateKey

COOKIE_NAME = "veche_k"
SESSION_KEY = "veche_key_blob"
UNREADABLE = "[encrypted]"
# Set in a fresh session when a request's session was ignored because its key was gone.
KEY_LOST = "veche_key_lost"

_current: ContextVar[Keyring | None] = ContextVar("veche_keyring", default=None)


def current() -> Keyring:
    """Return the keyring of the request (or ``using`` block) in progress; empty if none."""
    keyring = _current.get()
    return keyring if keyring is not None else Keyring()


@contextlib.contextmanager
def using(keyring: Keyring) -> Iterator[Keyring]:
    """Make ``keyring`` the current one inside the block (CLI, demo, tests)."""
    token = _current.set(keyring)
    try:
        yield keyring
    finally:
        _current.reset(token)


def keyring_for(member: Any, private_key: PrivateKey) -> Keyring:
    """Return a keyring holding every key granted to ``member`` that opens with ``private_key``."""
    from veche.apps.accounts.models import KeyGrant

    keyring = Keyring()
    for scope, epoch, sealed in KeyGrant.objects.filter(member=member).values_list(
        "scope", "epoch", "sealed_key"
    ):
        try:
            key_id = KeyId(scope, epoch)
            keyring.add(key_id, open_key(private_key, key_id, bytes(sealed)))
        except CannotDecrypt:
            # A grant that does not open is someone's mistake, never a reason to stop
            # the member from reading what their other keys open.
            continue
    return keyring


def remember_private_key(
    request: HttpRequest, response: HttpResponse, private_key: PrivateKey
) -> None:
    """Keep the unlocked key for this session: wrapped in the session, its secret in a cookie."""
    cookie_secret, blob = wrap_for_session(private_key)
    request.session[SESSION_KEY] = blob
    request.session.save()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and request.session.session_key:
        from veche.apps.accounts.models import MemberSession

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


def forget_private_key(response: HttpResponse) -> None:
    """Tell the browser to drop its half of the session key."""
    response.delete_cookie(COOKIE_NAME, path="/", samesite="Strict")


def private_key_of(request: HttpRequest) -> PrivateKey | None:
    """Return the member's unlocked private key for this request, or None."""
    blob = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    cookie_secret = request.COOKIES.get(COOKIE_NAME)
    if not blob or not cookie_secret:
        return None
    try:
        return unwrap_from_session(cookie_secret, blob)
    except CannotDecrypt:
        return None


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
        token = _current.set(keyring)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


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
    from django.contrib.auth.models import AnonymousUser

    fresh = request.session.__class__()
    fresh[KEY_LOST] = True
    request.session = fresh
    anonymous = AnonymousUser()
    request.user = anonymous

    async def auser() -> AnonymousUser:
        return anonymous

    request.auser = auser  # type: ignore[attr-defined]


def encrypt(scope: str, plaintext: str, *, context: str) -> bytes:
    """Return ``plaintext`` encrypted with the current keyring's latest key for ``scope``."""
    return current().encrypt(scope, plaintext, context=context)


def decrypt(blob: bytes | memoryview | None, *, context: str, fallback: str = UNREADABLE) -> str:
    """Return the plaintext of ``blob`` if the current keyring opens it, else ``fallback``."""
    if blob is None or len(blob) == 0:
        return ""
    return current().try_decrypt(bytes(blob), context=context, fallback=fallback)


__all__ = [
    "COOKIE_NAME",
    "FEDERATION",
    "SESSION_KEY",
    "UNREADABLE",
    "KeyringMiddleware",
    "current",
    "decrypt",
    "encrypt",
    "forget_private_key",
    "group_scope",
    "keyring_for",
    "private_key_of",
    "remember_private_key",
    "using",
]
