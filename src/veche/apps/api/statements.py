"""SELECTs the API runs on every request, compiled by Django once per process.

Each API request looks up its secret, opens the member's key grants and, for a
proposal, finds it among those the member may see: small indexed queries that Django
took longer to build (``as_sql``) than the database took to run. A :class:`Statement`
is a queryset compiled once with placeholders where the values go (values no row can
hold); running it puts the values in, and its rows are converted and, for a queryset
of models, made into models (with their ``select_related`` rows) as Django's own
iterator makes them. The SQL is Django's: the queryset still says what is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model
from django.db.models.query import get_related_populators


class Statement:
    """A queryset's SELECT, compiled once, run with fresh values for its placeholders."""

    def __init__(self, queryset: Any, placeholders: tuple[Any, ...]) -> None:
        self.alias = queryset.db
        compiler = queryset.query.get_compiler(using=self.alias)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        # Where each placeholder's value goes (a value may go to several places).
        self.places = [
            [i for i, p in enumerate(self.params) if type(p) is type(v) and p == v]
            for v in placeholders
        ]
        if not all(self.places):
            raise ValueError("a placeholder is not among the statement's parameters")
        self.select = compiler.select
        self.klass_info = compiler.klass_info
        self.converters = compiler.get_converters([col for col, _sql, _alias in self.select])

    def rows(self, *values: Any) -> list[list[Any]]:
        """Return the rows for ``values`` (one per placeholder), converted as Django does."""
        params = list(self.params)
        for places, value in zip(self.places, values, strict=True):
            for at in places:
                params[at] = value
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            found = [list(row) for row in cursor.fetchall()]
        for row in found:
            for at, (converters, expression) in self.converters.items():
                for converter in converters:
                    row[at] = converter(row[at], expression, connection)
        return found


class ModelStatement(Statement):
    """A statement of a queryset of models: its rows are made into models."""

    def __init__(self, queryset: Any, placeholders: tuple[Any, ...]) -> None:
        super().__init__(queryset, placeholders)
        self.model = self.klass_info["model"]
        fields = self.klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [
            col.target.attname for col, _sql, _alias in self.select[self.start : self.end]
        ]
        self.populators = get_related_populators(self.klass_info, self.select, self.alias)

    def objects(self, *values: Any) -> list[Model]:
        """Return the models for ``values``, with their ``select_related`` rows."""
        out = []
        for row in self.rows(*values):
            obj = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            out.append(obj)
        return out


class Pages:
    """What ``core.pagination.paginate`` slices, each window a statement compiled once.

    ``statement(start, stop)`` returns the statement of the window (Django writes a
    slice's bounds into the SQL itself); ``values`` are its placeholders' values.
    """

    def __init__(self, statement: Callable[[int, int], ModelStatement], *values: Any) -> None:
        self.statement = statement
        self.values = values

    def __getitem__(self, window: slice) -> list[Model]:
        return self.statement(window.start, window.stop).objects(*self.values)
