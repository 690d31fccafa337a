"""Steps shared by the charter tests: what the amendment forms post, and adopting quickly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from veche.apps.federation.charter_forms import CharterForm, DurationField
from veche.domain.charter import Charter


def field_name(base: Charter, key: str, parameter: str) -> str:
    """Return the charter form's field for ``parameter`` of the kind ``key``."""
    index = [k.key for k in base.kinds].index(key)
    return f"k{index}-{parameter}"


def charter_post(base: Charter, **changes: Any) -> dict[str, str]:
    """Return what the charter form posts when a member changes ``changes`` and nothing else.

    Keys of ``changes`` are field names (``field_name``); a period is a (number, unit)
    pair, a box a bool.
    """
    form = CharterForm(base=base)
    data: dict[str, str] = {}
    for name, field in form.fields.items():
        value = changes.get(name, form[name].value())
        if isinstance(field, DurationField):
            if isinstance(value, tuple):
                number, unit = value
            else:
                number, unit = field.widget.decompress(form[name].initial)
            data[f"{name}_0"] = "" if number is None else str(number)
            data[f"{name}_1"] = unit
        elif isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    return data


def amendment(title: str = "Faster common policy", **changes: Any) -> dict[str, str]:
    """Return a whole amendment form's post: its words and the charter's fields."""
    from veche.apps.federation.selectors import get_charter

    base = get_charter()
    assert base is not None
    return {"title": title, "body": "Why we change it.", **charter_post(base, **changes)}


def everyone_agrees(row: Any, members: list[Any], at: dt.datetime) -> None:
    """Have each of ``members`` agree to the proposal's current version, a second apart."""
    from veche.apps.proposals import services as s
    from veche.domain.consensus import Position

    for i, member in enumerate(members):
        row.refresh_from_db()
        s.respond(row=row, member=member, position=Position.AGREE, version=row.version,
                  now=at + dt.timedelta(seconds=i))  # fmt: skip
