"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def veche(request: HttpRequest) -> dict[str, Any]:
    """Return the federation's name (lazily) for the page header."""
    from veche.apps.federation.selectors import federation_name

    return {"federation_name": federation_name}
