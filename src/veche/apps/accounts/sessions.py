"""Django's database sessions, read by a statement compiled once per process.

Every request of a member loads their session first; Django's store builds the same
SELECT afresh each time (``core.statements``). Here the row is read by its key alone and
its expiry checked after, as Django's own query does in SQL (``expire_date > now``):
an expired session is no session. Writing, rotating and deleting are Django's.

During a request, a member's session is read together with its member (through the
session's ``MemberSession`` row, with their group and key grants, as
``backends.MemberBackend.get_user`` reads them): one query where there were two. The
member read so is kept for the request alone, and the backend takes it only for the id
the session itself names; otherwise it reads the member as before. A session that no
``MemberSession`` row names (a visitor's) is read alone.
"""

from __future__ import annotations

import functools

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db.models import Subquery
from django.utils import timezone

from veche.apps.accounts.backends import SESSION_MEMBER, member_of, with_grants
from veche.apps.accounts.models import Member, MemberSession
from veche.apps.core import requestcache
from veche.apps.core.statements import ModelStatement

# Longer than any session key Django makes (32 characters): it only marks where a key
# goes when the statement is compiled.
_KEY = "!" * 41


@functools.cache
def _by_key() -> ModelStatement:
    return ModelStatement(Session.objects.filter(session_key=_KEY).order_by()[:1], (_KEY,))


# What the session's row gives beside its member's rows.
_SESSION_COLUMNS = ("session_data", "session_expires")


@functools.cache
def _with_member() -> ModelStatement:
    """The member a session's ``MemberSession`` row names (their group and key grants, a
    row per grant), with the session's data and expiry beside each row (NULL: no such
    session): compiled once."""
    session = Session.objects.filter(session_key=_KEY)
    sessions = MemberSession.objects.filter(session_key=_KEY)
    members = with_grants(Member.objects.filter(pk__in=sessions.values("member_id")))
    return ModelStatement(
        members.annotate(
            session_data=Subquery(session.values("session_data")[:1]),
            session_expires=Subquery(session.values("expire_date")[:1]),
        ),
        (_KEY,),
    )


class SessionStore(DatabaseSessionStore):
    """The database session store, with its load compiled once."""

    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        row = self._read(key) if key else None
        if row is None or row.expire_date <= timezone.now():
            self._session_key = None  # as Django's store: a new session begins
            return None
        return row

    @staticmethod
    def _read(key: str) -> Session | None:
        if not requestcache.active():
            return _by_key().first(key)  # type: ignore[return-value]
        rows = _with_member().objects(key)
        if not rows:  # no member's session: a visitor's, or none
            return _by_key().first(key)  # type: ignore[return-value]
        first = rows[0]
        if first.session_data is None:  # type: ignore[attr-defined]
            return None  # the session is gone (its MemberSession row outlived it)
        row = Session(
            session_key=key,
            session_data=first.session_data,  # type: ignore[attr-defined]
            expire_date=first.session_expires,  # type: ignore[attr-defined]
        )
        requestcache.keep(SESSION_MEMBER, member_of(rows, *_SESSION_COLUMNS))
        return row
