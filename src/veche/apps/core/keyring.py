"""The keys one request may use, and nothing more: the request's keyring.

A member's private key lives in the server session only wrapped by a secret that only
their browser holds (the ``veche_k`` cookie). ``accounts.middleware.KeyringMiddleware``
unwraps it for the length of one request, opens the member's key grants (their group's
keys and the federation's, every epoch they were given) and puts the resulting
:class:`~veche.crypto.Keyring` in the context variable here, with :func:`serving`.
Models decrypt their encrypted fields through :func:`current`; services encrypt
through it. Outside a member's request
(the CLI, a background job) the keyring is empty unless code builds one explicitly with
:func:`using`, so the server cannot read content on its own.

A member of group A holds no key of group B: even a view that wrongly fetched B's rows
could only show "[encrypted]" — compartments are enforced twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse

from veche.crypto import (
    FEDERATION,
    CannotDecrypt,
    Keyring,
    group_scope,
    unwrap_from_session,
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


@contextlib.contextmanager
def serving(keyring: Keyring) -> Iterator[Keyring]:
    """Make ``keyring`` the current one for the length of a request."""
    with using(keyring):
        yield keyring


def adopt(keyring: Keyring) -> None:
    """Make ``keyring`` the current one for the rest of the request in progress.

    For a request authenticated by an API token or a feed's secret, which is known only
    once the view has read it: the enclosing :func:`serving` block (the keyring
    middleware) restores the previous keyring when the request ends.
    """
    _current.set(keyring)


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
    "adopt",
    "current",
    "decrypt",
    "encrypt",
    "forget_private_key",
    "group_scope",
    "private_key_of",
    "serving",
    "using",
]
