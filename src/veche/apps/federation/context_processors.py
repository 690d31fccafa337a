"""Template context shared by every page: the federation's name for the header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import lazy

from veche.apps.federation.selectors import federation_name


def veche(request: HttpRequest) -> dict[str, Any]:
    """Return the federation's name (lazily: read only if a page shows it)."""
    return {"federation_name": lazy(federation_name, str)()}
