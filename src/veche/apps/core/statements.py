"""SELECTs run on every request, compiled by Django once per process.

Each request loads its session and its member, opens the member's key grants, reads the
federation's row and then a page of lines, or finds a proposal among those the member
may see: small indexed queries that Django took longer to build (``as_sql``) than the
database took to run (a third of a member's 404 page, profiled with bench/cpu.py's
worlds). A :class:`Statement` is a queryset compiled once with placeholders where the
values go (values no row can hold); running it puts the values in, and its rows are
converted and, for a queryset of models, made into models (with their
``select_related`` rows) as Django's own iterator makes them. The SQL is Django's: the
queryset still says what is read.

Models are made as Django's ``Model.from_db`` makes them, without calling ``__init__``
where that changes nothing (:func:`make`): a page of fifty lines makes 100-300 models,
and ``__init__`` walked every field of each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import RelatedPopulator, get_related_populators
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

_PLAIN: dict[type[Model], bool] = {}


def _attribute(model: type[Model], name: str) -> Any:
    return next((c.__dict__[name] for c in model.__mro__ if name in c.__dict__), None)


def _plain(model: type[Model]) -> bool:
    """Whether ``model(*values)`` would only store its values: no ``__init__`` or
    ``from_db`` of its own, no listener to its init signals, and plain field attributes
    (setting one does nothing else on a new model)."""
    plain = _PLAIN.get(model)
    if plain is None:
        plain = _PLAIN[model] = (
            model.__init__ is Model.__init__
            and model.from_db.__func__ is Model.from_db.__func__  # type: ignore[attr-defined]
            and not pre_init.has_listeners(model)
            and not post_init.has_listeners(model)
            and all(
                type(_attribute(model, f.attname))
                in (DeferredAttribute, ForeignKeyDeferredAttribute)
                for f in model._meta.concrete_fields
            )
        )
    return plain


def make(model: type[Model], alias: str, attnames: list[str], values: Any) -> Model:
    """Return ``model.from_db(alias, attnames, values)``: a model read from the database,
    with the fields not in ``attnames`` left to load when first read."""
    plain = _PLAIN.get(model)
    if not (_plain(model) if plain is None else plain):
        return model.from_db(alias, attnames, values)
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    fields = obj.__dict__
    fields["_state"] = state
    fields.update(zip(attnames, values, strict=True))
    return obj


class _Populator(RelatedPopulator):
    """Django's populator of a ``select_related`` model, making it with :func:`make`."""

    def populate(self, row: Any, from_obj: Model) -> None:
        if self.reorder_for_init:
            data = self.reorder_for_init(row)
        else:
            data = row[self.cols_start : self.cols_end]
        obj = None
        if data[self.pk_idx] is not None:
            obj = make(self.model_cls, self.db, self.init_list, data)
            for nested in self.related_populators:
                nested.populate(row, obj)
        self.local_setter(from_obj, obj)
        if obj is not None:
            self.remote_setter(obj, from_obj)


def _populators(klass_info: Any, select: Any, alias: str) -> list[RelatedPopulator]:
    populators = get_related_populators(klass_info, select, alias)
    stack = list(populators)
    while stack:
        populator = stack.pop()
        populator.__class__ = _Populator  # the same state; only populate() differs
        stack.extend(populator.related_populators)
    return populators


def adapted(alias: str, value: dt.datetime) -> Any:
    """Return ``value`` as the database's parameters carry a date and time (SQLite: text,
    PostgreSQL: the datetime): what a placeholder for one, and its values, must be."""
    return connections[alias].ops.adapt_datetimefield_value(value)


class Statement:
    """A queryset's SELECT, compiled once, run with fresh values for its placeholders.

    On PostgreSQL a statement is prepared after a few runs (decision 0140) and may then
    be planned once for any values. One whose best plan depends on its values (a range
    that may hold all rows or none) says ``planned_for_values``: its values are written
    into its text, so the server plans each set of values for itself.
    """

    def __init__(
        self, queryset: Any, placeholders: tuple[Any, ...], *, planned_for_values: bool = False
    ) -> None:
        self.alias = queryset.db
        self.planned_for_values = planned_for_values
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
        self.annotations = list(compiler.annotation_col_map.items())
        self.converters = compiler.get_converters([col for col, _sql, _alias in self.select])

    def rows(self, *values: Any) -> list[list[Any]]:
        """Return the rows for ``values`` (one per placeholder), converted as Django does."""
        params = list(self.params)
        for places, value in zip(self.places, values, strict=True):
            for at in places:
                params[at] = value
        connection = connections[self.alias]
        sql: str = self.sql
        if self.planned_for_values and connection.vendor == "postgresql":
            # Quoted by the driver, as Django's own compose_sql does.
            sql, params = connection.ops.compose_sql(sql, params), None
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = [list(row) for row in cursor.fetchall()]
        for row in found:
            for at, (converters, expression) in self.converters.items():
                for converter in converters:
                    row[at] = converter(row[at], expression, connection)
        return found


class Merged(Statement):
    """One statement run for several sets of values in one query: the rows of every run
    together, ordered by their first column, the first ``limit`` of them.

    For "the newest of these few chains": each run reads its own index (an ``ORDER BY``
    and ``LIMIT`` of its own), so the database neither sorts everything the runs could
    match nor sends back more rows than are kept. Each run is a subquery of a ``UNION
    ALL`` (SQLite takes no ``ORDER BY`` or ``LIMIT`` in a compound's own arms).
    """

    def __init__(self, part: Statement, runs: int, *, limit: int, descending: bool) -> None:
        if runs < 1:
            raise ValueError("a merged statement runs its part at least once")
        self.alias = part.alias
        self.planned_for_values = part.planned_for_values
        # Django's compiled SQL with its placeholders: no value is written into the text.
        arm = "SELECT * FROM ({}) AS run{}"
        arms = " UNION ALL ".join(arm.format(part.sql, i) for i in range(runs))
        order = "DESC" if descending else "ASC"
        self.sql = f"{arms} ORDER BY 1 {order} LIMIT {int(limit)}"
        self.params = part.params * runs
        width = len(part.params)
        # The placeholders of run i come i-th: ``rows(*run_0_values, *run_1_values, ...)``.
        self.places = [
            [at + i * width for at in places] for i in range(runs) for places in part.places
        ]
        self.select = part.select
        self.klass_info = None
        self.annotations = []
        self.converters = part.converters


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
        self.populators = _populators(self.klass_info, self.select, self.alias)

    def objects(self, *values: Any) -> list[Model]:
        """Return the models for ``values``, with their ``select_related`` rows and their
        annotations."""
        out = []
        for row in self.rows(*values):
            obj = make(self.model, self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, at in self.annotations:
                setattr(obj, name, row[at])
            out.append(obj)
        return out

    def first(self, *values: Any) -> Model | None:
        """Return the first model for ``values``, or None (the queryset says ``[:1]``)."""
        found = self.objects(*values)
        return found[0] if found else None


class Pages:
    """What ``core.pagination.paginate`` slices, each window a statement compiled once.

    ``statement(start, stop)`` returns the statement of the window (Django writes a
    slice's bounds into the SQL itself); ``values`` are its placeholders' values. A list
    that opens on its last page (a discussion) is counted by ``counting``, a statement
    whose one row holds the count, or which finds no row when there is nothing to count.
    """

    def __init__(
        self,
        statement: Callable[[int, int], ModelStatement],
        *values: Any,
        counting: Statement | None = None,
        counted: Callable[[int, int], ModelStatement] | None = None,
        newest: Callable[[int], ModelStatement] | None = None,
    ) -> None:
        self.statement = statement
        self.values = values
        self.counting = counting
        self.counted = counted
        self.newest = newest

    def count(self) -> int:
        if self.counting is None:
            raise TypeError("these pages are not counted")
        found = self.counting.rows(*self.values)
        return int(found[0][0]) if found else 0

    def counted_window(self, start: int, stop: int) -> tuple[list[Model], int | None] | None:
        """Return a window's rows and the list's length, read together (None: these pages
        cannot). The length is unknown (None) when the window holds no row.

        ``counted(start, stop)`` is the window's statement with ``total`` on each row: the
        whole list's length (``COUNT(*) OVER ()``, counted before the window is cut).
        """
        if self.counted is None:
            return None
        return _with_total(self.counted(start, stop).objects(*self.values))

    def latest_page(self, per_page: int) -> tuple[list[Model], int] | None:
        """Return the last page's rows (in the list's order) and the list's length, read
        together (None: these pages cannot).

        ``newest(n)`` is the statement of the list's last ``n`` rows, last first, with
        ``total`` on each row as for :meth:`counted_window`: the last page holds the
        rows beyond the last full page before it (``per_page`` when the length divides).
        """
        if self.newest is None:
            return None
        rows, total = _with_total(self.newest(per_page).objects(*self.values))
        if not total:
            return [], 0
        on_last = total - (-(-total // per_page) - 1) * per_page
        return rows[:on_last][::-1], total

    def __getitem__(self, window: slice) -> list[Model]:
        return self.statement(window.start, window.stop).objects(*self.values)


def _with_total(rows: list[Model]) -> tuple[list[Model], int | None]:
    """Return rows read with ``total`` (the list's length) beside each, and that length."""
    total = rows[0].total if rows else None  # type: ignore[attr-defined]
    for row in rows:
        del row.__dict__["total"]
    return rows, total
