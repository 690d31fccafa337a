"""The API's JSON answers, written straight from the endpoints' dicts (no pydantic pass).

django-ninja validates every answer against its response schema before writing it: the
endpoints build plain dicts of plain values (str, int, bool, datetime, None), so that
pass checks only our own code, at about a fifth of a read's time. ``answer`` writes the
same JSON ninja would (the schema's field order and defaults, ninja's encoder) without
it; the schema in ``/api/openapi.json`` still comes from the ``response=`` declarations.

The tests switch ``CHECK`` on (tests/apps/api/conftest.py): every answer is then also
validated by pydantic as ninja would, and must be byte for byte the same.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpResponse
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

# Validate every answer with pydantic too, and refuse any difference (tests only).
CHECK = False

CONTENT_TYPE = "application/json; charset=utf-8"

_MISSING = object()

Convert = Callable[[Any], Any]


def _leaf(value: Any) -> Any:
    return value


def _converter(annotation: Any) -> Convert:
    """Return what turns a value of ``annotation`` into what ninja's model_dump gives."""
    if isinstance(annotation, type) and issubclass(annotation, Schema):
        return _schema_converter(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        inner = _converter(args[0])
        if inner is _leaf:
            return _leaf
        return lambda value: [inner(item) for item in value]
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            inner = _converter(options[0])
            if inner is _leaf:
                return _leaf
            return lambda value: None if value is None else inner(value)
        if any(_converter(a) is not _leaf for a in options):
            raise TypeError(f"unsupported union in a response schema: {annotation}")
    return _leaf


@cache
def _schema_converter(model: type[Schema]) -> Convert:
    fields = []
    for name, info in model.model_fields.items():
        default = _MISSING if info.is_required() else info.get_default(call_default_factory=False)
        factory = info.default_factory
        fields.append((name, default, factory, _converter(info.annotation)))

    def convert(data: Any) -> dict[str, Any]:
        if isinstance(data, Schema):
            return data.model_dump()  # type: ignore[no-any-return]
        out = {}
        for name, default, factory, inner in fields:
            value = data.get(name, _MISSING)
            if value is _MISSING:
                if factory is not None:
                    value = factory()  # type: ignore[call-arg]
                elif default is _MISSING:
                    raise KeyError(f"{model.__name__}.{name} is required")
                else:
                    value = default
                out[name] = value
            else:
                out[name] = inner(value)
        return out

    return convert


def dump(model: type[Schema], data: Any) -> dict[str, Any]:
    """Return ``data`` (a dict shaped as ``model``) as ninja's validation would leave it."""
    return _schema_converter(model)(data)  # type: ignore[no-any-return]


def _render(data: Any) -> bytes:
    # What ninja's JSONRenderer writes (json.dumps with its encoder), as bytes.
    return json.dumps(data, cls=NinjaJSONEncoder).encode()


def answer(model: type[Schema], data: Any, *, status: int = 200) -> HttpResponse:
    """Return ``data`` (a dict shaped as ``model``) as the JSON answer ninja would give."""
    content = _render(dump(model, data))
    if CHECK:
        checked = _render(model.model_validate(data).model_dump())
        if checked != content:
            raise AssertionError(
                f"{model.__name__}: the answer differs from pydantic's\n{content!r}\n{checked!r}"
            )
    return HttpResponse(content, status=status, content_type=CONTENT_TYPE)
