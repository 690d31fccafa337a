"""On PostgreSQL, each ``timestamptz`` is read by psycopg's C loader when it gives what
Django's own loader gives (``core.postgres``): the same instants, in the same zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import adapters
from psycopg.types.datetime import TimestamptzLoader

from veche.apps.core import postgres

pytestmark = pytest.mark.django_db

INSTANTS = [
    "2000-01-01 00:00:00+00",
    "1999-12-31 23:59:59.999999+00",
    "2026-12-01 06:30:00.5+00",
    "2026-03-29 01:00:00+02",  # another offset, as PostgreSQL may be given one
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def _read() -> list[dt.datetime]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
            [INSTANTS],
        )
        return [value for (value,) in cursor.fetchall()]


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's timestamptz")


def test_each_connection_reads_timestamps_with_the_c_loader() -> None:
    _needs_postgres()
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(postgres._TIMESTAMPTZ, postgres.Format.TEXT)
    assert issubclass(loader, postgres._Checked)
    assert loader.timezone is connection.timezone is dt.UTC
    # Its values are loaded by psycopg's compiled loader itself, bound once, not through
    # Python code (neither psycopg's pure-Python loader nor a method of ours).
    compiled = adapters.get_loader(postgres._TIMESTAMPTZ, postgres.Format.TEXT)
    assert compiled is not TimestamptzLoader
    assert type(loader.load.__self__) is compiled
    instance = loader(postgres._TIMESTAMPTZ, connection.connection)
    assert instance.load is loader.load


def test_the_c_loader_reads_what_djangos_loader_reads() -> None:
    _needs_postgres()
    connection.ensure_connection()
    fast = _read()
    register_tzloader(connection.timezone, connection.connection)  # Django's own, back
    try:
        slow = _read()
    finally:
        assert postgres.install(connection)
    assert fast == slow
    assert [v.tzinfo for v in fast] == [v.tzinfo for v in slow] == [dt.UTC] * len(fast)
    assert fast[3] == dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)


def test_a_connection_whose_zone_differs_keeps_djangos_loader(monkeypatch: Any) -> None:
    """If the C loader would give another zone than Django's (a database set to another
    TIME_ZONE), nothing changes."""
    _needs_postgres()
    connection.ensure_connection()
    before = connection.connection.adapters.get_loader(postgres._TIMESTAMPTZ, postgres.Format.TEXT)
    other = dt.timezone(dt.timedelta(hours=3))
    wrapper = connections["default"]
    monkeypatch.setattr(type(wrapper), "timezone", property(lambda self: other))
    assert postgres.install(wrapper) is False
    after = connection.connection.adapters.get_loader(postgres._TIMESTAMPTZ, postgres.Format.TEXT)
    assert after is before


def test_sqlite_is_left_alone() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's connections")
    connection.ensure_connection()
    assert postgres.install(connection) is False


def test_a_c_loader_that_cannot_be_made_or_read_keeps_djangos_loader(monkeypatch: Any) -> None:
    """Whatever goes wrong with the C loader, a connection is still made and reads as
    Django reads (no page fails for a faster path that is not there)."""
    _needs_postgres()
    connection.ensure_connection()
    before = connection.connection.adapters.get_loader(postgres._TIMESTAMPTZ, postgres.Format.TEXT)

    class Broken:
        def __init__(self, oid: int, context: Any) -> None:
            raise RuntimeError("no such loader here")

    class Unreadable:
        def __init__(self, oid: int, context: Any) -> None:
            pass

        def load(self, data: Any) -> Any:
            raise ValueError("cannot read")

    for bad in (Broken, Unreadable):
        monkeypatch.setattr(postgres.adapters, "get_loader", lambda oid, fmt, bad=bad: bad)
        assert postgres.install(connections["default"]) is False
        after = connection.connection.adapters.get_loader(
            postgres._TIMESTAMPTZ, postgres.Format.TEXT
        )
        assert after is before
