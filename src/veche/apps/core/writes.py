"""Small helpers every write path shares: clean text input, retry a contended write."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction

from veche.domain.errors import DomainError, InvalidEvent, _

T = TypeVar("T")


def clean_text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    """Return ``value`` stripped; raise InvalidEvent (naming ``field``) if empty or too long."""
    value = (value or "").strip()
    if required and not value:
        raise InvalidEvent(_("this cannot be empty"), field=field)
    if len(value) > limit:
        raise InvalidEvent(_("at most %(limit)d characters"), field=field, params={"limit": limit})
    return value


def retrying(
    action: Callable[[], T], *, attempts: int = 5, busy: str = _("busy; please try again")
) -> T:
    """Run ``action`` in a transaction, again if a concurrent writer took the same slot.

    Two writers racing for the same unique position (an event's seq, a chain's next
    record) both read n, one commits n and the other fails on the unique constraint:
    it reads again and appends n+1. After ``attempts`` the member is told to retry.
    """
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return action()
        except IntegrityError:
            if attempt == attempts - 1:
                raise DomainError(busy) from None
    raise AssertionError("unreachable")  # pragma: no cover
