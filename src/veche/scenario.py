"""A federation's history, written down as data, and the one builder that plays it.

A :class:`Scenario` says who belongs where and what happened, each thing at a time
relative to ``now``: proposals and every step members took on them, meetings whose
decisions were recorded on their own, messages, and the fund. :func:`build` plays it
through the same services members use, in time order, with the clock passed in, so a
scenario can never show a state the rules would not produce. The demo (:data:`DEMO`)
and the test worlds (the compartment matrix, the seizure test, benchmarks) are
scenarios built by this one builder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from veche.apps.accounts.models import Member
from veche.apps.accounts.services import enrol_member
from veche.apps.core import keyring
from veche.apps.federation import services as org
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import get_charter
from veche.apps.fund import services as fund
from veche.apps.fund.models import SupportRequest
from veche.apps.proposals import selectors
from veche.apps.proposals import services as s
from veche.apps.proposals.models import Meeting, Proposal, Teller
from veche.crypto import Keyring
from veche.domain.charter import Charter, GroupRules
from veche.domain.consensus import Position
from veche.domain.proposals import Outcome, ReachedBy

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Step:
    """One thing a member did, ``at`` hours after the proposal was made.

    ``do`` is one of: respond, carry, amend, withdraw, publish, vote, volunteer, decide,
    recall, meeting, confirm, comment, count. ``who`` names a person by their key; for
    ``decide`` it may be ``"holder"``: whoever holds the mandate then; for ``count``
    (a closed secret vote's tellers sign in until it is counted) it is ``"tellers"``.
    """

    do: str
    who: str
    at: float
    position: str = ""
    text: str = ""
    ballot: Any = None
    title: str = ""
    outcome: str = "adopted"
    attendance: int = 0
    how: str = "consensus"


@dataclass(frozen=True)
class Story:
    """A proposal and what members did on it."""

    key: str
    kind: str
    author: str
    title: str
    body: str
    # Made this many hours before ``now``.
    age: float
    urgent: bool = False
    # The consensus deadline, in hours after it was made.
    deadline: float | None = None
    options: tuple[str, ...] = ()
    matters: tuple[str, ...] = ()
    draft: bool = False
    new_group: str = ""
    coordinator: str = ""
    steps: tuple[Step, ...] = ()
    # A charter amendment: the charter it proposes, made from the charter in force then.
    amend: Callable[[Charter], Charter] | None = None
    # A group's own rules it proposes (the kind with the power group_rules).
    group_rules: GroupRules | None = None


@dataclass(frozen=True)
class Decided:
    """One decision a meeting took (see :class:`MeetingRecord`).

    ``member`` names the person a coordinator's choice or a removal is about, by key.
    """

    kind: str
    title: str
    text: str
    outcome: str = "adopted"
    how: str = "consensus"
    member: str = ""


@dataclass(frozen=True)
class MeetingRecord:
    """A group's in-person meeting whose decisions were recorded on their own.

    Recorded by ``recorder`` ``age`` hours before ``now``, about a meeting held ``held``
    days before that; ``steps`` are the confirmations (``do="confirm"``), ``at`` hours
    after the recording.
    """

    key: str
    recorder: str
    age: float
    attendance: int
    decisions: tuple[Decided, ...]
    held: float = 0
    notes: str = ""
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Message:
    """A message in a group's own thread, ``age`` hours before ``now``."""

    group: str
    who: str
    text: str
    age: float


@dataclass(frozen=True)
class FundStep:
    """A coordinator's act on the common fund, ``age`` hours before ``now``.

    ``do``: contribute, request_money, request_help, answer (``about``: the key of a
    request for help), disburse (``about``: the key of an adopted request for money).
    """

    do: str
    who: str
    age: float
    key: str = ""
    amount: int = 0
    currency: str = "EUR"
    text: str = ""
    about: str = ""
    # For request_money: who agrees in each group, so the federation decides at once.
    carried_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupOf:
    """A group: its name and its people (keys), the first of whom coordinates it."""

    key: str
    name: str
    people: tuple[str, ...]
    pseudonyms: tuple[str, ...] = ()

    def pseudonym(self, person: str) -> str:
        """Return the pseudonym of ``person`` in this group."""
        if self.pseudonyms:
            return self.pseudonyms[self.people.index(person)]
        return person


@dataclass(frozen=True)
class Scenario:
    """Who belongs where, and what happened."""

    federation: str
    groups: tuple[GroupOf, ...]
    passphrase: str
    stories: tuple[Story, ...] = ()
    meetings: tuple[MeetingRecord, ...] = ()
    messages: tuple[Message, ...] = ()
    fund: tuple[FundStep, ...] = ()
    # How long ago the federation was founded and everyone joined, in days.
    founded: float = 40
    # Groups dissolved a few minutes before ``now`` (the compartment matrix has one).
    dissolved: tuple[str, ...] = ()


@dataclass
class Built:
    """What :func:`build` made: rows by key, and every key it held."""

    now: dt.datetime
    keys: Keyring
    groups: dict[str, Group] = field(default_factory=dict)
    people: dict[str, Member] = field(default_factory=dict)
    private_keys: dict[int, Any] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    requests: dict[str, SupportRequest] = field(default_factory=dict)
    meetings: dict[str, Meeting] = field(default_factory=dict)


def person_key(group: str, person: str) -> str:
    """Return how a scenario names a person across groups: ``group.person``."""
    return f"{group}.{person}"


def build(scenario: Scenario, *, now: dt.datetime, keys: Keyring | None = None) -> Built:
    """Play ``scenario`` up to ``now`` through the services; return what it made.

    The builder plays every member in turn, so it holds every key while it builds
    (``keys``, or a keyring of its own that leaves with it).
    """
    keys = Keyring() if keys is None else keys
    built = Built(now=now, keys=keys)
    with keyring.using(keys), transaction.atomic():
        _found(scenario, built)
        for at, act in sorted(_acts(scenario, built), key=lambda a: a[0]):
            s.settle_due(now=at)
            act(at)
        s.settle_due(now=now)
        for key in scenario.dissolved:
            Group.objects.filter(pk=built.groups[key].pk).update(
                dissolved_at=now - dt.timedelta(minutes=5)
            )
    return built


def _found(scenario: Scenario, built: Built) -> None:
    start = built.now - dt.timedelta(days=scenario.founded)
    first, *others = scenario.groups
    _, group = org.create_federation(
        name=scenario.federation, first_group_name=first.name, now=start
    )
    built.groups[first.key] = group
    for spec in others:
        built.groups[spec.key] = org.create_group(name=spec.name, now=start)
    for group in built.groups.values():
        for key_id, key in org.create_founding_keys(group=group, now=start).items():
            built.keys.add(key_id, key)
    for spec in scenario.groups:
        group = built.groups[spec.key]
        for i, person in enumerate(spec.people):
            member, private_key = enrol_member(
                group=group, pseudonym=spec.pseudonym(person), keys=built.keys,
                passphrase=scenario.passphrase, joined_at=start,
            )  # fmt: skip
            built.people[person_key(spec.key, person)] = member
            built.private_keys[member.pk] = private_key
            if i == 0:
                org.start_coordinator_term(group=group, member=member, now=start)


Act = tuple[dt.datetime, Callable[[dt.datetime], None]]


def _acts(scenario: Scenario, built: Built) -> Iterable[Act]:
    for story in scenario.stories:
        made = built.now - story.age * HOUR
        yield made, _making(story, built)
        for step in story.steps:
            yield made + step.at * HOUR, _doing(story, step, built)
    for meeting in scenario.meetings:
        recorded = built.now - meeting.age * HOUR
        yield recorded, _recording(meeting, built)
        for step in meeting.steps:
            yield recorded + step.at * HOUR, _confirming(meeting, step, built)
    for message in scenario.messages:
        yield built.now - message.age * HOUR, _messaging(message, built)
    for act in scenario.fund:
        yield built.now - act.age * HOUR, _funding(act, built)


def _making(story: Story, built: Built) -> Callable[[dt.datetime], None]:
    def make(at: dt.datetime) -> None:
        coordinator = built.people[story.coordinator] if story.coordinator else None
        in_force = get_charter()
        charter = story.amend(in_force) if story.amend and in_force else None
        built.proposals[story.key] = s.create_proposal(
            author=built.people[story.author], kind_key=story.kind, title=story.title,
            body=story.body, urgent=story.urgent, options=list(story.options),
            deadline=at + story.deadline * HOUR if story.deadline is not None else None,
            mandate_scope=list(story.matters), draft=story.draft,
            new_group_name=story.new_group, coordinator=coordinator, now=at,
            charter=charter, group_rules=story.group_rules,
        )  # fmt: skip

    return make


def _doing(story: Story, step: Step, built: Built) -> Callable[[dt.datetime], None]:
    def do(at: dt.datetime) -> None:
        row = built.proposals[story.key]
        row.refresh_from_db()
        if step.do == "count":
            _count(row, built, at)
            return
        if step.who == "holder":
            holder = selectors.load(row, now=at).state.mandate
            assert holder is not None and holder.holder is not None, story.key  # noqa: S101
            who = Member.objects.get(pk=int(holder.holder))
        else:
            who = built.people[step.who]
        match step.do:
            case "respond":
                s.respond(row=row, member=who, position=Position(step.position),
                          reason=step.text, version=row.version, now=at)  # fmt: skip
            case "carry":
                s.carry_group_position(row=row, coordinator=who,
                                       position=Position(step.position), reason=step.text,
                                       now=at)  # fmt: skip
            case "amend":
                s.amend(row=row, actor=who, title=step.title, body=step.text, now=at)
            case "withdraw":
                s.withdraw(row=row, actor=who, now=at)
            case "publish":
                s.publish(row=row, actor=who, now=at)
            case "vote":
                s.cast_ballot(row=row, voter=who, ballot=step.ballot, now=at)
            case "volunteer":
                s.volunteer(row=row, member=who, now=at)
            case "decide":
                s.record_mandate_decision(row=row, holder=who, matter=step.title,
                                          text=step.text, now=at)  # fmt: skip
            case "recall":
                s.support_recall(row=row, member=who, now=at)
            case "meeting":
                s.record_meeting(row=row, recorder=who, outcome=Outcome(step.outcome),
                                 attendance=step.attendance, reached_by=ReachedBy(step.how),
                                 notes=step.text, now=at)  # fmt: skip
            case "confirm":
                s.confirm_meeting(row=row, member=who, now=at)
            case "comment":
                s.post_comment(author=who, body=step.text, row=row, now=at)
            case _:  # pragma: no cover - a typo in a scenario
                raise ValueError(f"unknown step {step.do!r}")

    return do


def _count(row: Proposal, built: Built, at: dt.datetime) -> None:
    """Have the closed secret vote's tellers give their shares until it is counted."""
    for seat in Teller.objects.filter(vote__proposal=row).order_by("index"):
        done = s.give_share(
            row=row, teller=seat.member, private_key=built.private_keys[seat.member_id], now=at
        )
        if done is s.ShareResult.COUNTED:
            return


def _recording(meeting: MeetingRecord, built: Built) -> Callable[[dt.datetime], None]:
    def record(at: dt.datetime) -> None:
        decisions = [
            s.TakenAtMeeting(
                kind_key=d.kind, title=d.title, text=d.text, outcome=Outcome(d.outcome),
                reached_by=ReachedBy(d.how),
                member=built.people[d.member] if d.member else None,
            )
            for d in meeting.decisions
        ]  # fmt: skip
        built.meetings[meeting.key] = s.record_meeting_decisions(
            recorder=built.people[meeting.recorder], held_on=(at - meeting.held * DAY).date(),
            attendance=meeting.attendance, decisions=decisions, notes=meeting.notes, now=at,
        )  # fmt: skip

    return record


def _confirming(meeting: MeetingRecord, step: Step, built: Built) -> Callable[[dt.datetime], None]:
    def confirm(at: dt.datetime) -> None:
        if step.do != "confirm":  # pragma: no cover - a typo in a scenario
            raise ValueError(f"a meeting's step is a confirmation, not {step.do!r}")
        s.confirm_meeting_record(
            meeting=built.meetings[meeting.key], member=built.people[step.who], now=at
        )

    return confirm


def _messaging(message: Message, built: Built) -> Callable[[dt.datetime], None]:
    def post(at: dt.datetime) -> None:
        s.post_comment(author=built.people[message.who], body=message.text,
                       group=built.groups[message.group], now=at)  # fmt: skip

    return post


def _funding(act: FundStep, built: Built) -> Callable[[dt.datetime], None]:
    def do(at: dt.datetime) -> None:
        who = built.people[act.who]
        token = fund.new_token()
        match act.do:
            case "contribute":
                fund.contribute(actor=who, amount=act.amount, currency=act.currency,
                                memo=act.text, idempotency_key=token, now=at)  # fmt: skip
            case "request_money":
                request = fund.request_money(actor=who, amount=act.amount,
                                             currency=act.currency, purpose=act.text,
                                             idempotency_key=token, now=at)  # fmt: skip
                built.requests[act.key] = request
                assert request.proposal is not None  # noqa: S101 - made together
                for i, carrier in enumerate(act.carried_by):
                    s.carry_group_position(row=request.proposal,
                                           coordinator=built.people[carrier],
                                           position=Position.AGREE,
                                           now=at + (i + 1) * dt.timedelta(minutes=5))  # fmt: skip
            case "request_help":
                built.requests[act.key] = fund.request_help(
                    actor=who, purpose=act.text, idempotency_key=token, now=at
                )
            case "answer":
                fund.answer_help(actor=who, request=built.requests[act.about], text=act.text,
                                 idempotency_key=token, now=at)  # fmt: skip
            case "disburse":
                request = built.requests[act.about]
                fund.disburse(actor=who, proposal_id=request.proposal_id,
                              idempotency_key=token, now=at)  # fmt: skip
            case _:  # pragma: no cover - a typo in a scenario
                raise ValueError(f"unknown fund step {act.do!r}")

    return do
