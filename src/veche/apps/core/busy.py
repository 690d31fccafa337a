"""A busy database answers clearly: a short wait for a lock, then "not saved, try again".

Every write takes the database's write lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL:
the proposal's or the fund's row lock). When another writer holds it longer than the
configured wait (``VECHE_DB_LOCK_WAIT_SECONDS``), the request ends with a 503 page that
says nothing was saved and hands back what the member typed, in a form that sends it
again. Never a 500, never a hang. Passphrases are never echoed back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Fields whose values are never put back on a page.
SECRET_FIELDS = ("passphrase", "password", "secret", "csrfmiddlewaretoken")
RETRY_AFTER_SECONDS = 5


def is_busy(error: BaseException) -> bool:
    """Return whether ``error`` means another writer held the lock too long."""
    if not isinstance(error, OperationalError):
        return False
    text = str(error).lower()
    cause = getattr(error, "__cause__", None)
    sqlstate = getattr(cause, "sqlstate", None)
    # SQLite: "database is locked" / "database table is locked"; PostgreSQL:
    # lock_not_available (55P03) when lock_timeout runs out, or a deadlock (40P01).
    return "locked" in text or sqlstate in {"55P03", "40P01"}


def kept_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """Return what the member posted, less secrets, to offer back for sending again."""
    kept = []
    for name, values in request.POST.lists():
        if any(secret in name.lower() for secret in SECRET_FIELDS):
            continue
        kept.extend((name, value) for value in values)
    return kept


class BusyDatabaseMiddleware:
    """Turn a lock that was not granted in time into a 503 that keeps the member's input."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except OperationalError as error:
            if not is_busy(error):
                raise
            return busy_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_busy(exception):
            return busy_response(request)
        return None


def busy_response(request: HttpRequest) -> HttpResponse:
    """Return the 503 page: nothing was saved; here is what you typed; send it again."""
    context = {"fields": kept_fields(request) if request.method == "POST" else [],
               "action": request.path, "posted": request.method == "POST"}  # fmt: skip
    response = render(request, "503_busy.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@contextlib.contextmanager
def short_waits(milliseconds: int = 250) -> Iterator[None]:
    """Wait at most ``milliseconds`` for a lock inside the block (work a page may skip)."""
    normal = int(getattr(settings, "VECHE_DB_LOCK_WAIT_SECONDS", 5) * 1000)
    set_wait(milliseconds)
    try:
        yield
    finally:
        set_wait(normal)


def set_wait(milliseconds: int) -> None:
    """Set how long this connection waits for a lock before giving up."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"SET lock_timeout = {int(milliseconds)}")


__all__: list[Any] = ["BusyDatabaseMiddleware", "is_busy", "short_waits"]
