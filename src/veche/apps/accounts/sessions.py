"""Django's database sessions, read by a statement compiled once per process.

Every request of a member loads their session first; Django's store builds the same
SELECT afresh each time (``core.statements``). Here the row is read by its key alone and
its expiry checked after, as Django's own query does in SQL (``expire_date > now``):
an expired session is no session. Writing, rotating and deleting are Django's.
"""

from __future__ import annotations

import functools

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from veche.apps.core.statements import ModelStatement

# Longer than any session key Django makes (32 characters): it only marks where a key
# goes when the statement is compiled.
_KEY = "!" * 41


@functools.cache
def _by_key() -> ModelStatement:
    return ModelStatement(Session.objects.filter(session_key=_KEY).order_by()[:1], (_KEY,))


class SessionStore(DatabaseSessionStore):
    """The database session store, with its load compiled once."""

    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        row = _by_key().first(key) if key else None
        if row is None or row.expire_date <= timezone.now():
            self._session_key = None  # as Django's store: a new session begins
            return None
        return row  # type: ignore[return-value]
