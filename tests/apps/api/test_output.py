"""The API's answers are written without pydantic, exactly as django-ninja would write them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from veche.apps.api import output, schemas

AT = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)


def ninja_writes(model: Any, data: Any) -> bytes:
    return output._render(model.model_validate(data).model_dump())


def test_fields_come_in_the_schemas_order_with_its_defaults():
    # Given in another order, without the fields that have defaults.
    data = {"reached_by": "vote", "at": AT, "chain": "federation", "seq": 3,
            "title": "T", "outcome": "adopted", "digest": "ab", "federation": True,
            "intact": True}  # fmt: skip
    written = output.answer(schemas.DecisionRow, data).content
    assert written == ninja_writes(schemas.DecisionRow, data)
    assert list(json.loads(written)) == list(schemas.DecisionRow.model_fields)
    assert json.loads(written)["proposal"] is None
    assert json.loads(written)["at"] == "2026-03-01T12:30:15.123Z"


def test_nested_lists_and_optional_objects_are_written_as_ninja_writes_them():
    item = {"id": 1, "title": "Meet", "kind": "k", "phase": "p", "awaits_you": False,
            "federation": False, "urgent": True, "responded": 2, "eligible": 5,
            "next": {"label": "closes", "at": AT}, "extra": "ignored"}  # fmt: skip
    for data in (
        {"items": [item, {**item, "next": None}], "page": {"number": 1, "has_next": True}},
        {"items": [], "page": {"has_next": False, "number": 2}},
    ):
        response = output.answer(schemas.ProposalList, data)
        assert response.content == ninja_writes(schemas.ProposalList, data)
        assert response["Content-Type"] == "application/json; charset=utf-8"


def test_a_missing_required_field_is_an_error():
    with pytest.raises(KeyError):
        output.answer(schemas.PageOut, {"number": 1})


def test_with_check_on_an_answer_pydantic_would_write_otherwise_is_refused(monkeypatch: Any):
    monkeypatch.setattr(output, "CHECK", True)
    output.answer(schemas.PageOut, {"number": 1, "has_next": False})
    # pydantic turns 1 into true: written unvalidated it would be 1.
    with pytest.raises(AssertionError):
        output.answer(schemas.PageOut, {"number": 1, "has_next": 1})
