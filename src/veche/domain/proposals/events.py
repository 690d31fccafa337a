"""What can happen to a proposal, and the one codec that stores and reads it back.

Each event is a frozen dataclass with a stable ``TYPE`` (the name stored) and an
``ACTOR`` (the field naming who did it). :func:`encode` turns an event into
``(type, actor, at, data)`` — plain JSON in ``data``, structure only, never text — and
:func:`decode` turns that back, refusing anything malformed with an
:class:`~veche.domain.errors.InvalidEvent`. Storage, the decision log and (later) bundles
carried between nodes all use this one definition.

A ballot is the one event field that is content: it is stored apart (encrypted, or in a
secret vote's box), so ``data`` never holds it and :func:`decode` takes it as an argument.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from veche.domain.consensus import Position
from veche.domain.errors import InvalidEvent, _
from veche.domain.proposals.model import Outcome, ReachedBy, aware


@dataclass(frozen=True)
class Published:
    """The author opened a draft for responses."""

    TYPE: ClassVar[str] = "published"
    ACTOR: ClassVar[str] = "actor"

    actor: str
    at: datetime
    deadline: datetime | None = None


@dataclass(frozen=True)
class Responded:
    """A member responded to the given version (the latest response counts)."""

    TYPE: ClassVar[str] = "responded"
    ACTOR: ClassVar[str] = "member"

    member: str
    position: Position
    at: datetime
    version: int = 1


@dataclass(frozen=True)
class Amended:
    """The author put a new version; responses reset."""

    TYPE: ClassVar[str] = "amended"
    ACTOR: ClassVar[str] = "actor"

    actor: str
    at: datetime
    version: int


@dataclass(frozen=True)
class Withdrawn:
    """The author withdrew the proposal."""

    TYPE: ClassVar[str] = "withdrawn"
    ACTOR: ClassVar[str] = "actor"

    actor: str
    at: datetime


@dataclass(frozen=True)
class GroupPositionCarried:
    """Spokes mode: a coordinator carried their group's position."""

    TYPE: ClassVar[str] = "carried"
    ACTOR: ClassVar[str] = "coordinator"

    coordinator: str
    group: str
    position: Position
    at: datetime


@dataclass(frozen=True)
class BallotCast:
    """A ballot in the urgent vote or the vote choosing a temporary coordinator.

    In spokes mode the coordinator casts the group's ballot, ``for_group`` naming it.
    """

    TYPE: ClassVar[str] = "ballot_cast"
    ACTOR: ClassVar[str] = "voter"
    # Stored apart from the event (content), never in its data.
    CONTENT: ClassVar[frozenset[str]] = frozenset({"ballot"})

    voter: str
    ballot: Any
    at: datetime
    for_group: str | None = None


@dataclass(frozen=True)
class VoteCounted:
    """A secret vote was counted: its tellers' shares decrypted the sums of its ballots.

    ``teller`` is the teller whose share completed the threshold; ``totals`` the
    decrypted sums (docs/ballots.md §7), ``cast`` how many ballots the board holds.
    """

    TYPE: ClassVar[str] = "vote_counted"
    ACTOR: ClassVar[str] = "teller"

    teller: str
    totals: tuple[int, ...]
    cast: int
    at: datetime


@dataclass(frozen=True)
class Volunteered:
    """A member came forward as temporary coordinator."""

    TYPE: ClassVar[str] = "volunteered"
    ACTOR: ClassVar[str] = "member"

    member: str
    at: datetime


@dataclass(frozen=True)
class MandateDecisionRecorded:
    """The temporary coordinator recorded a decision on a matter within the mandate."""

    TYPE: ClassVar[str] = "mandate_decision"
    ACTOR: ClassVar[str] = "holder"

    holder: str
    matter: str
    at: datetime


@dataclass(frozen=True)
class RecallSupported:
    """A member supports recalling the temporary coordinator now."""

    TYPE: ClassVar[str] = "recall_supported"
    ACTOR: ClassVar[str] = "member"

    member: str
    at: datetime


@dataclass(frozen=True)
class MeetingRecorded:
    """A member recorded a decision reached at an in-person meeting."""

    TYPE: ClassVar[str] = "meeting_recorded"
    ACTOR: ClassVar[str] = "recorder"

    recorder: str
    outcome: Outcome
    attendance: int
    reached_by: ReachedBy
    at: datetime
    # The day the meeting was held (UTC); older records have none.
    held_on: date | None = None


@dataclass(frozen=True)
class MeetingConfirmed:
    """Another member present at the meeting confirmed its record."""

    TYPE: ClassVar[str] = "meeting_confirmed"
    ACTOR: ClassVar[str] = "member"

    member: str
    at: datetime


Event = (
    Published
    | Responded
    | Amended
    | Withdrawn
    | GroupPositionCarried
    | BallotCast
    | VoteCounted
    | Volunteered
    | MandateDecisionRecorded
    | RecallSupported
    | MeetingRecorded
    | MeetingConfirmed
)

EVENT_TYPES: Mapping[str, type[Event]] = {cls.TYPE: cls for cls in typing.get_args(Event)}

# Where a field's stored name differs from its name in code (kept from older records).
_DATA_KEYS: Mapping[tuple[str, str], str] = {("ballot_cast", "for_group"): "group"}


@dataclass(frozen=True)
class Encoded:
    """An event as stored: its type, who did it, when, and plain-JSON ``data``."""

    type: str
    actor: str
    at: datetime
    data: Mapping[str, Any]


def actor_of(event: Event) -> str:
    """Return the id of the member who did ``event``."""
    return str(getattr(event, event.ACTOR))


def encode(event: Event) -> Encoded:
    """Return ``event`` as stored data; the ballot (content) is left out."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        if f.name in ("at", event.ACTOR) or f.name in getattr(event, "CONTENT", ()):
            continue
        value = getattr(event, f.name)
        if value is None and f.default is None:
            continue
        data[_DATA_KEYS.get((event.TYPE, f.name), f.name)] = _to_json(value)
    return Encoded(type=event.TYPE, actor=actor_of(event), at=event.at, data=data)


def decode(encoded: Encoded, *, ballot: Any = None) -> Event:
    """Return the event ``encoded`` stores; raise InvalidEvent if it is malformed."""
    cls = EVENT_TYPES.get(encoded.type)
    if cls is None:
        raise InvalidEvent(
            _("unknown event type %(type)r"), params={"type": encoded.type}, field="type"
        )
    if not isinstance(encoded.data, Mapping):
        raise InvalidEvent(_("an event's data is a mapping"), field="data")
    aware(encoded.at, "at")
    hints = _hints(cls)
    values: dict[str, Any] = {"at": encoded.at, cls.ACTOR: str(encoded.actor)}
    known = {cls.ACTOR, "at", *getattr(cls, "CONTENT", ())}
    expected = {
        _DATA_KEYS.get((cls.TYPE, f.name), f.name): f
        for f in dataclasses.fields(cls)
        if f.name not in known
    }
    extra = set(encoded.data) - set(expected)
    if extra:
        raise InvalidEvent(
            _("unexpected fields in a %(type)s event: %(fields)s"),
            params={"type": cls.TYPE, "fields": ", ".join(sorted(extra))},
            field="data",
        )
    for key, f in expected.items():
        if key not in encoded.data:
            if f.default is dataclasses.MISSING:
                raise InvalidEvent(
                    _("a %(type)s event needs %(field)s"),
                    params={"type": cls.TYPE, "field": key},
                    field=key,
                )
            continue
        values[f.name] = _from_json(hints[f.name], encoded.data[key], key)
    if "ballot" in getattr(cls, "CONTENT", ()):
        values["ballot"] = ballot
    return cls(**values)


# --- plain JSON values ----------------------------------------------------------------------


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):  # a datetime is a date too: both as ISO 8601
        return value.isoformat()
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _from_json(hint: Any, value: Any, key: str) -> Any:
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else ()
    if options:
        if value is None and type(None) in options:
            return None
        hint = next(o for o in options if o is not type(None))
    parse = _PARSERS.get(hint)
    if parse is None:  # pragma: no cover - every field type is listed below
        raise TypeError(f"no parser for {hint!r}")
    try:
        return parse(value)
    except (TypeError, ValueError):
        raise InvalidEvent(
            _("%(value)r is not a valid %(name)s"), params={"value": value, "name": key}, field=key
        ) from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(_str(value))
    if parsed.tzinfo is None:
        raise ValueError
    return parsed


def _ints(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise TypeError
    return tuple(_int(v) for v in value)


def _day(value: Any) -> date:
    return date.fromisoformat(_str(value))


_UnionType = type(int | None)
_PARSERS: dict[Any, Callable[[Any], Any]] = {
    int: _int,
    tuple[int, ...]: _ints,
    str: _str,
    datetime: _time,
    date: _day,
    Position: lambda v: Position(_str(v)),
    Outcome: lambda v: Outcome(_str(v)),
    ReachedBy: lambda v: ReachedBy(_str(v)),
}
