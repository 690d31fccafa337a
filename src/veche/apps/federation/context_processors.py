"""Template context shared by every page: the federation's name for the header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from markupsafe import escape

from veche.apps.federation.selectors import federation_name


class _FederationName:
    """The federation's name, read (once per request) only when a page prints it.

    One object for every request, instead of a lazy proxy made per request: Django's
    ``lazy()`` builds a class each time it is called, which cost a member's 404 page a
    tenth of its time.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return federation_name()

    def __html__(self) -> str:
        return str(escape(federation_name()))


FEDERATION_NAME = _FederationName()


def veche(request: HttpRequest) -> dict[str, Any]:
    """Return the federation's name (read only if a page shows it)."""
    return {"federation_name": FEDERATION_NAME}
