"""Errors as RFC 9457 problem details (``application/problem+json``), in the member's language.

Every refusal of the API is one of these: a missing token (401), an unknown or revoked
one (404), a token that may only read used to act (403), an object of another group
(404, as on the pages: nobody learns that it exists), input that does not parse or fit
the schema (422), and a rule of the domain or a form that refuses it (400). The domain's
messages are translated by ``Accept-Language`` (Django's LocaleMiddleware) exactly as
the pages translate them (``core.errors.translated``).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

PROBLEM_TYPE = "application/problem+json"


class Problem(Exception):
    """A refusal to answer as problem details."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str = "",
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.errors = errors or []


TITLES = {
    400: "Refused",
    401: "No token",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    503: "Busy",
}


def problem_response(
    status: int,
    detail: str,
    *,
    title: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """Return a problem-details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _(TITLES.get(status, "Error")),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def form_errors(form: Any) -> list[dict[str, Any]]:
    """Return a refused Django form's errors as ``[{"field": ..., "message": ...}]``."""
    return [
        {"field": name if name != "__all__" else None, "message": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]
