"""PostgreSQL's ``timestamptz`` read by psycopg's C loader, as Django would read it.

Django reads every ``timestamptz`` with a loader of its own (``BaseTzLoader``) that
derives from psycopg's pure-Python one, so that it can set the value's time zone: the C
loader that ``psycopg[binary]`` ships is final and cannot be derived from (Django ticket
#36960, psycopg issue #1273). Every date on a page was parsed in Python: 5-8 % of a
proposal's page on PostgreSQL, profiled (bench/pages.py's world of 50).

Here each connection gets a loader whose ``load`` *is* the C loader's, when that gives
exactly what Django's gives: the connection's zone is the one Django sets its values to
(UTC, as veche runs), so the C loader's values carry that same ``tzinfo`` and Django's
``replace`` would change nothing. Otherwise (another zone, no C loader, ``USE_TZ`` off)
Django's loader stays.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import adapters
from psycopg.adapt import Loader
from psycopg.pq import Format

_TIMESTAMPTZ = adapters.types["timestamptz"].oid
# A value whose reading shows which zone the C loader gives this connection's values.
_PROBE = b"2000-01-01 00:00:00+00"


class _Checked(Loader):
    """A ``timestamptz`` loader whose values carry ``timezone``, as Django's loader says.

    Made for one connection by :func:`install`, with ``load`` the bound method of a C
    loader made once for that connection: each value costs what psycopg's own loader
    costs, and each query's result makes no new C loader (psycopg makes a loader per
    result; making the C one read the connection's settings each time).
    """

    timezone: dt.tzinfo | None = None  # Django's create_cursor compares it with its own

    def load(self, data: Any) -> dt.datetime:  # replaced in each class install() makes
        raise NotImplementedError


def install(connection: BaseDatabaseWrapper) -> bool:
    """Give ``connection`` the C ``timestamptz`` loader if its values come out as Django's
    would; return whether it did."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return False
    zone = connection.timezone
    fast = adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)
    if zone is None or fast is None:
        return False
    pg = connection.connection
    try:
        load = fast(_TIMESTAMPTZ, pg).load
        probe = load(_PROBE)
    except Exception:  # any doubt keeps Django's loader
        return False
    if probe.tzinfo is not zone:
        return False
    # A builtin method is no descriptor: an instance's ``load`` is the C method itself.
    loader = type("TimestamptzInZone", (_Checked,), {"timezone": zone, "load": load})
    pg.adapters.register_loader(_TIMESTAMPTZ, loader)
    return True


def on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    install(connection)
