"""Reads: stored rows into domain values; summaries and inboxes for lists.

Nothing here writes. Lists read the stored summaries (``Proposal.phase`` and friends,
``Awaiting``); one proposal's page replays that one proposal with
``veche.domain.proposals.state`` over its stored events at the instant asked for.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import (
    BinaryField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    Window,
)
from django.db.models.functions import Cast
from django.utils import timezone

from veche.apps.accounts.models import Member
from veche.apps.core import keyring
from veche.apps.core.statements import Merged, ModelStatement, Pages, Statement, make
from veche.apps.federation.models import CoordinatorTerm, Group
from veche.apps.federation.selectors import charter_of, rules_of
from veche.apps.proposals.models import (
    Awaiting,
    BallotBox,
    ChainCheckpoint,
    Comment,
    DecisionRecord,
    Meeting,
    Proposal,
    ProposalEvent,
    ProposalVersion,
    chain_name,
)
from veche.domain import proposals as domain
from veche.domain.charter import (
    Charter,
    DecisionKind,
    MandateFallback,
    Mode,
    Power,
    Scope,
    VoteFallback,
    apply_group_rules,
)
from veche.domain.decisions_log import Head, Record
from veche.domain.voting.vectors import SUMMABLE_METHODS

# The reads every page makes are compiled once per process (core.statements), with
# placeholders for a member's id, their group's and a proposal's: no row holds them.
_ME, _MY_GROUP, _PROPOSAL = -1_000_000_007, -1_000_000_009, -1_000_000_011


def _placeholder_member() -> Member:
    return Member(pk=_ME, group_id=_MY_GROUP)


# What each row of the membership read holds, in its first column.
_GROUP, _MEMBER, _TERM, _EVENT, _WAIT = 0, 1, 2, 3, 4


@functools.cache
def _membership_read(everyone: bool, with_events: bool = False) -> Statement:
    """What :func:`electorate` reads, of every group or of one, in one statement compiled
    once: each detail page and each action reads it. Three kinds of rows, told apart by
    their first column: groups (id, created, dissolved), members (id, group, joined,
    left) and coordinators' terms (group, member, start, end). The terms are read whole
    (a few a year per group) and those in office chosen in Python, so that the SQL holds
    no instant.

    Of one group, each member's row also holds what naming them reads (their encrypted
    pseudonym and its key, :data:`NAME_FIELDS`): a group's proposal page names its
    author and those who responded, all of them members of that group, and so needs no
    other read of them. Of every group (a federation's matter), no names: the
    federation may be large, and its page names few of them.

    ``with_events``: first, a fourth kind of rows, one proposal's stored events (id,
    actor, time, text, type, seq and data), so that replaying a proposal reads it with
    its electorate in one query (:func:`load`). Of one group, also a fifth: what the
    proposal waits for from the group's members (:func:`not_yet_responded`: member,
    reminded, wait), which its page shows, named from the members' rows."""
    groups = Group.objects.all()
    # Inactive members count only for the time they belonged, if that time is known.
    members = Member.objects.filter(Q(is_active=True) | Q(left_at__isnull=False))
    terms = CoordinatorTerm.objects.all()
    placeholders: tuple[int, ...] = ()
    if not everyone:
        groups, members, terms = (
            groups.filter(pk=_MY_GROUP),
            members.filter(group_id=_MY_GROUP),
            terms.filter(group_id=_MY_GROUP),
        )
        placeholders = (_MY_GROUP,)

    def shaped(
        queryset: QuerySet[Any], tag: int, a: str, b: str | None, c: str, d: str | None,
        *, named: bool = False, event: bool = False,
    ) -> Any:  # fmt: skip
        # Every column an annotation, in this order: the parts of a UNION line up.
        columns = {
            "row": Value(tag, output_field=IntegerField()),
            "a": F(a),
            "b": F(b) if b else Value(None, output_field=IntegerField()),
            "c": F(c),
            "d": F(d) if d else Value(None, output_field=DateTimeField()),
            "e": F("pseudonym_ct") if named else Value(None, output_field=BinaryField()),
            "f": F("pseudonym_key") if named else Value(None, output_field=CharField()),
        }
        if tag == _WAIT:
            columns["f"] = F("wait")
        if event:
            columns.update(e=F("text_ct"), f=F("type"), g=F("seq"), h=F("data"))
        elif with_events:
            columns.update(
                g=Value(None, output_field=IntegerField()), h=Value(None, output_field=JSONField())
            )
        return queryset.order_by().annotate(**columns).values_list(*columns)

    parts = [
        shaped(groups, _GROUP, "pk", None, "created_at", "dissolved_at"),
        shaped(members, _MEMBER, "pk", "group_id", "joined_at", "left_at", named=not everyone),
        shaped(terms, _TERM, "group_id", "member_id", "starts_at", "ends_at"),
    ]
    if with_events:
        # First: a UNION's values are converted as its first part's columns say (the
        # events' data is JSON).
        events = ProposalEvent.objects.filter(proposal_id=_PROPOSAL)
        parts.insert(0, shaped(events, _EVENT, "pk", "actor_id", "at", None, event=True))
        placeholders = (_PROPOSAL, *placeholders)
        if not everyone:
            waits = not_yet_responded(Proposal(pk=_PROPOSAL), group_id=_MY_GROUP)
            parts.append(shaped(waits, _WAIT, "member_id", None, "reminded_at", None))
    return Statement(parts[0].union(*parts[1:], all=True), placeholders)


@dataclass
class Names:
    """What naming some members reads (:data:`NAME_FIELDS`), by id, read with something
    else; each made a member, as :func:`people_named` gives them, only when asked for."""

    alias: str = "default"
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def people(self, ids: Iterable[str]) -> dict[str, Member]:
        """Return those of ``ids`` known here, as members."""
        return {
            i: make(Member, self.alias, _NAMED_ATTNAMES, self.rows[i])  # type: ignore[misc]
            for i in ids
            if i in self.rows
        }


def electorate(*, at: dt.datetime | None = None, group_id: int | None = None) -> domain.Electorate:
    """Return the membership with its history (who belonged when), of one group or all.

    Members carry the time they joined and, if they were removed, left; groups the time
    they were created and, if dissolved, ended. The domain fixes a proposal's deciding
    body at the instant it opened and drops whoever left since, so a newcomer, a removed
    member or a group admitted later can neither reopen nor rewrite what is decided.
    Coordinators are those in office at ``at``. With ``group_id``, only that group.
    """
    return electorate_named(at=at, group_id=group_id)[0]


def electorate_named(
    *, at: dt.datetime | None = None, group_id: int | None = None
) -> tuple[domain.Electorate, Names]:
    """Return :func:`electorate` and, of one group, what naming its members reads (of
    all groups, nothing)."""
    values = () if group_id is None else (group_id,)
    statement = _membership_read(group_id is None)
    return _electorate_from(statement.rows(*values), statement.alias, at=at, group_id=group_id)


# What the events' rows of _membership_read(with_events=True) hold, as ProposalEvent's
# fields: a row is (kind, id, actor, at, [none], text, type, seq, data).
_EVENT_ATTNAMES = ["id", "actor_id", "at", "text_ct", "type", "seq", "data", "proposal_id"]


class Waiting(NamedTuple):
    """Something a proposal waits for from a member (a row of :func:`not_yet_responded`)."""

    member_id: int
    wait: str
    reminded_at: dt.datetime | None


def events_and_electorate(
    row: Proposal, *, at: dt.datetime, group_id: int | None
) -> tuple[list[ProposalEvent], domain.Electorate, Names, list[Waiting] | None]:
    """Return ``row``'s stored events in order, with :func:`electorate_named`, and of one
    group's proposal what it waits for from the group's members (None: a federation's
    matter, whose waits are not read here): one read."""
    statement = _membership_read(group_id is None, with_events=True)
    values = (row.pk,) if group_id is None else (row.pk, group_id)
    rows = statement.rows(*values)
    waits = None
    if group_id is not None:
        waits = [
            Waiting(member_id, wait, reminded_at)
            for kind, member_id, _none, reminded_at, _n, _e, wait, *_rest in rows
            if kind == _WAIT
        ]
    events = [
        make(
            ProposalEvent,
            statement.alias,
            _EVENT_ATTNAMES,
            (pk, actor, when, text, event_type, seq, data, row.pk),
        )
        for kind, pk, actor, when, _none, text, event_type, seq, data in rows
        if kind == _EVENT
    ]
    events.sort(key=lambda event: event.seq)  # type: ignore[attr-defined]
    electorate, named = _electorate_from(rows, statement.alias, at=at, group_id=group_id)
    return events, electorate, named, waits  # type: ignore[return-value]


def _electorate_from(
    rows: list[list[Any]], alias: str, *, at: dt.datetime | None, group_id: int | None
) -> tuple[domain.Electorate, Names]:
    at = at or timezone.now()
    named = Names(alias)
    if group_id is not None:
        for kind, member_id, member_group, _joined, _left, name_ct, name_key, *_e in rows:
            if kind == _MEMBER:
                named.rows[str(member_id)] = (member_id, member_group, name_ct, name_key)
    groups: dict[str, set[str]] = {}
    began: dict[str, dt.datetime] = {}
    ended: dict[str, dt.datetime] = {}
    for kind, pk, _none, created_at, dissolved_at, *_name in rows:
        if kind == _GROUP:
            groups[str(pk)] = set()
            began[str(pk)] = created_at
            if dissolved_at is not None:
                ended[str(pk)] = dissolved_at
    joined: dict[str, dt.datetime] = {}
    left: dict[str, dt.datetime] = {}
    for kind, member_id, member_group, joined_at, left_at, *_name in rows:
        if kind != _MEMBER or member_group is None or str(member_group) not in groups:
            continue
        groups[str(member_group)].add(str(member_id))
        joined[str(member_id)] = joined_at
        if left_at is not None:
            left[str(member_id)] = left_at
    coordinators: dict[str, set[str]] = {}
    for kind, term_group, member_id, starts_at, ends_at, *_name in rows:
        if kind != _TERM:
            continue
        in_office = starts_at <= at and (ends_at is None or ends_at > at)
        if in_office and str(member_id) in groups.get(str(term_group), set()):
            coordinators.setdefault(str(term_group), set()).add(str(member_id))
    return domain.Electorate(
        groups={g: frozenset(m) for g, m in groups.items()},
        coordinators={g: frozenset(m) for g, m in coordinators.items()},
        joined=joined,
        left=left,
        began=began,
        ended=ended,
    ), named


def to_domain_proposal(row: Proposal, charter: Charter) -> domain.Proposal:
    """Return the domain proposal for a stored row."""
    kind = charter.kind(row.kind_key)
    named = row.effect.get("member") if kind.power is Power.REMOVE_MEMBER else None
    return domain.Proposal(
        id=str(row.pk),
        kind=kind,
        author=str(row.author_id),
        group=str(row.group_id),
        created_at=row.created_at,
        urgent=row.urgent,
        deadline=row.deadline,
        # Labels are content, and the lifecycle needs none: alternatives are numbered
        # and mandate matters are referred to by their index.
        options=tuple(f"option {i + 1}" for i in range(row.option_count)),
        mandate_scope=tuple(str(i) for i in range(row.mandate_scope_count)),
        seed=bytes(row.seed),
        draft=row.draft,
        from_meeting=row.meeting_id is not None,
        concerns=str(named) if named is not None else None,
        sealed_ballots=row.sealed_ballots,
    )


class BallotsUnreadable(Exception):
    """The request holds no key that opens this vote's ballots: it cannot be counted."""


def _ballots(row: Proposal) -> dict[str, list[Any]]:
    boxes: dict[str, list[Any]] = {}
    for box in BallotBox.objects.filter(proposal=row):
        text = keyring.current().try_decrypt(bytes(box.box_ct), context=box.context(), fallback="")
        if not text:
            raise BallotsUnreadable
        boxes[box.round] = list(json.loads(text))
    return boxes


def ballot_round(kind: DecisionKind) -> str:
    """Return the name of the box a proposal's ballots go into (a kind has one vote)."""
    return "selection" if isinstance(kind.fallback, MandateFallback) else "vote"


def is_secret_ballot(kind: DecisionKind) -> bool:
    """Return whether ballots on proposals of ``kind`` go into a secret box.

    The vote choosing a temporary coordinator is always secret; an urgent vote is as the
    charter says, except in spokes mode, where a coordinator casts the group's ballot
    openly, as they carry its position (decision 0031).
    """
    if isinstance(kind.fallback, MandateFallback):
        return True
    if isinstance(kind.fallback, VoteFallback):
        return kind.fallback.secret and kind.mode is not Mode.SPOKES
    return False


def counted_by_tellers(row: Proposal, kind: DecisionKind) -> bool:
    """Return whether ``row``'s secret vote is counted by tellers (as the domain decides)."""
    if not (row.sealed_ballots and is_secret_ballot(kind)):
        return False
    fallback = kind.fallback
    return not isinstance(fallback, VoteFallback) or fallback.method in SUMMABLE_METHODS


def to_domain_events(
    row: Proposal, kind: DecisionKind, stored: list[ProposalEvent] | None = None
) -> list[domain.Event]:
    """Return the proposal's events in order, as domain events (the domain's codec).

    A secret vote's roll (who voted) and its ballot box (what was voted) are stored
    apart; they are zipped here in the box's (sorted) order, which is harmless: a tally
    does not depend on which voter cast which ballot, and the pairing is never stored
    or shown. Raises BallotsUnreadable without the key that opens the ballots.
    """
    if stored is None:
        stored: list[ProposalEvent] = _events_of().objects(row.pk)  # type: ignore[assignment]
    casts = [e for e in stored if e.type == domain.BallotCast.TYPE]
    # Counted by tellers: the replay sees no ballot at all (docs/ballots.md).
    boxed = is_secret_ballot(kind) and not counted_by_tellers(row, kind)
    boxes = _ballots(row) if casts and boxed else {}
    box = boxes.get(ballot_round(kind), [])
    events: list[domain.Event] = []
    for e in stored:
        ballot = None
        if e.type == domain.BallotCast.TYPE:
            if is_secret_ballot(kind):
                ballot = box.pop() if box else None  # None: counted by tellers
            else:
                # An open ballot is the event's (encrypted) words.
                text = e.text
                if text == keyring.UNREADABLE:
                    raise BallotsUnreadable
                ballot = json.loads(text)
        encoded = domain.Encoded(type=e.type, actor=str(e.actor_id), at=e.at, data=e.data)
        events.append(domain.decode(encoded, ballot=ballot))
    return events


def _same_body(row: Proposal) -> Q:
    return Q(federation_wide=True) if row.federation_wide else Q(group_id=row.group_id)


def past_mandates(row: Proposal) -> tuple[domain.PastMandate, ...]:
    """Return the same body's mandates on other proposals, from their summaries (one query)."""
    found = (
        Proposal.objects.filter(
            _same_body(row), holder__isnull=False, mandate_started_at__isnull=False
        )
        .exclude(pk=row.pk)
        .values_list("holder_id", "mandate_started_at")
    )
    return tuple(domain.PastMandate(str(holder), started) for holder, started in found)


def bound_charter(row: Proposal) -> Charter:
    """Return the charter ``row`` is judged under, for ever (decision 0090).

    That is the charter version it is bound to (the one in force when it was published;
    a draft's follows the version in force until then) and, for a group's matter, the
    group's own rules in force then, within that version's bounds (decision 0092).
    Later amendments never reach it.
    """
    charter = charter_of(row.charter_version)
    if row.group_rules_version_id is not None and not row.federation_wide:
        charter = apply_group_rules(charter, rules_of(row.group_rules_version))
    return charter


@dataclass
class Loaded:
    """A proposal with everything needed to act on it or show it."""

    row: Proposal
    charter: Charter
    kind: DecisionKind
    proposal: domain.Proposal
    events: list[domain.Event]
    context: domain.Context
    state: domain.ProposalState
    # The stored events, in order: pages read reasons and decisions' texts from them.
    rows: list[ProposalEvent] = field(default_factory=list)
    # A secret ballot just cast: its receipt, shown once and never stored.
    receipt: str = ""
    # Of a group's proposal, what naming the group's members reads (electorate_named):
    # whom its page names, read with its electorate.
    named: Names = field(default_factory=Names)
    # Of a group's proposal, what it waits for from the group's members (read with its
    # events); None when not read so (a federation's matter).
    waits: list[Waiting] | None = None


@functools.cache
def _events_of() -> ModelStatement:
    """A proposal's stored events in order, compiled once: every detail page and every
    action replays one proposal."""
    events = ProposalEvent.objects.filter(proposal_id=_PROPOSAL).order_by("seq")
    return ModelStatement(events, (_PROPOSAL,))


def load(row: Proposal, *, now: dt.datetime | None = None) -> Loaded:
    """Return the proposal's domain view and its state at ``now`` (one proposal replayed).

    It is replayed under the charter it is bound to (:func:`bound_charter`), never the
    one in force now.
    """
    now = now or timezone.now()
    charter = bound_charter(row)
    proposal = to_domain_proposal(row, charter)
    stored, el, named, waits = events_and_electorate(
        row, at=now, group_id=None if row.federation_wide else row.group_id
    )
    events = to_domain_events(row, proposal.kind, stored)
    mandates = past_mandates(row) if isinstance(proposal.kind.fallback, MandateFallback) else ()
    context = domain.Context(el, mandates)
    return Loaded(
        row=row,
        charter=charter,
        kind=proposal.kind,
        proposal=proposal,
        events=events,
        context=context,
        state=domain.state(proposal, events, context, now),
        rows=stored,
        named=named,
        waits=waits,
    )


def visible_proposals(*, member: Member) -> QuerySet[Proposal]:
    """Return the proposals the member may see: their group's and the federation's.

    A draft is its author's alone until published.
    """
    return (
        Proposal.objects.filter(Q(federation_wide=True) | Q(group_id=member.group_id))
        .exclude(Q(phase=domain.Phase.DRAFT) & ~Q(author=member))
        .select_related("group", "current_version")
    )


def open_proposals(*, member: Member) -> QuerySet[Proposal]:
    """Return the open proposals the member may see, the soonest deadline first."""
    return (
        visible_proposals(member=member)
        .filter(closed_at__isnull=True)
        .order_by(F("due_at").asc(nulls_last=True), "-created_at", "-pk")
    )


def closed_proposals(*, member: Member) -> QuerySet[Proposal]:
    """Return the closed proposals the member may see, the latest decided first."""
    return (
        visible_proposals(member=member)
        .filter(closed_at__isnull=False)
        .order_by("-closed_at", "-pk")
    )


def inbox(*, member: Member) -> QuerySet[Awaiting]:
    """Return what waits for the member: reminders first, then the most recently active."""
    return (
        Awaiting.objects.filter(member=member)
        .select_related("proposal", "proposal__current_version")
        # What a fellow member reminded them of comes first, the latest reminder first.
        .order_by(
            F("reminded_at").desc(nulls_last=True),
            "-proposal__last_activity_at",
            "-proposal_id",
            "wait",
        )
    )


# What a line of the proposals list or the inbox reads of a proposal and its current
# version (``presenters.list_items``, ``presenters.inbox_items``, their templates): the
# rest of a row (its effect, ballots' seed, summaries of positions) is not read for a
# page of fifty, and any other field is still there, read when first asked for.
LINE_FIELDS = (
    "id", "kind_key", "federation_wide", "urgent", "phase", "due_at", "closed_at",
    "outcome", "responded_count", "eligible_count", "current_version",
)  # fmt: skip
VERSION_TITLE_FIELDS = ("id", "proposal_id", "number", "title_ct")


def as_lines(rows: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Return ``rows`` reading only what a list's line shows (each with its title)."""
    return (
        rows.select_related(None)
        .select_related("current_version")
        .only(*LINE_FIELDS, *(f"current_version__{f}" for f in VERSION_TITLE_FIELDS))
    )


def inbox_lines(*, member: Member) -> QuerySet[Awaiting]:
    """Return :func:`inbox`, reading of each proposal only what the inbox's line shows."""
    return inbox(member=member).only(
        "id", "proposal_id", "member_id", "wait", "reminded_at",
        *(f"proposal__{f}" for f in LINE_FIELDS),
        *(f"proposal__current_version__{f}" for f in VERSION_TITLE_FIELDS),
    )  # fmt: skip


# --- the reads of every page, compiled once per process (core.statements) ---------------


def visible_proposal_query(*, member: Member, proposal_id: int) -> QuerySet[Proposal]:
    """Return the query :func:`get_visible_proposal` runs, as the ORM builds it."""
    # With the charter version it is bound to: its page replays it under that charter.
    return (
        visible_proposals(member=member)
        .select_related("charter_version")
        .filter(pk=proposal_id)
        .order_by()
    )


@functools.cache
def _visible_statement() -> ModelStatement:
    query = visible_proposal_query(member=_placeholder_member(), proposal_id=_PROPOSAL)
    return ModelStatement(query[:1], (_ME, _MY_GROUP, _PROPOSAL))


def get_visible_proposal(*, member: Member, proposal_id: int) -> Proposal | None:
    """Return the proposal if the member may see it, else None (shown as 404)."""
    if member.pk is None or member.group_id is None:  # the query differs (IS NULL)
        return visible_proposal_query(member=member, proposal_id=proposal_id).first()
    statement = _visible_statement()
    ops = connections[statement.alias].ops
    low, high = ops.integer_field_range(Proposal._meta.pk.get_internal_type())
    if (low is not None and proposal_id < low) or (high is not None and proposal_id > high):
        return None  # as the ORM's lookup finds nothing: no such id
    return statement.first(member.pk, member.group_id, proposal_id)  # type: ignore[return-value]


Lines = Callable[[QuerySet[Proposal]], QuerySet[Proposal]]


def _lines_of(member: Member, closed: bool, lines: Lines) -> QuerySet[Proposal]:
    rows = lines((closed_proposals if closed else open_proposals)(member=member))
    # Whether something waits for the member there (a line's badge), in the same query.
    waits = Awaiting.objects.filter(member_id=member.pk, proposal_id=OuterRef("pk"))
    return rows.annotate(awaits=Exists(waits))


@functools.lru_cache(maxsize=256)
def _proposals_window(lines: Lines, closed: bool, start: int, stop: int) -> ModelStatement:
    rows = _lines_of(_placeholder_member(), closed, lines)
    return ModelStatement(rows[start:stop], (_ME, _MY_GROUP))


def proposal_lines(member: Member, *, closed: bool, lines: Lines = as_lines) -> Any:
    """Return the open (or decided) proposals the member may see, as ``lines`` reads
    them, each with ``awaits`` (whether something waits for the member there), for
    ``core.pagination.paginate``: each page's query compiled once."""
    if member.pk is None or member.group_id is None:
        return _lines_of(member, closed, lines)
    window = functools.partial(_proposals_window, lines, closed)
    return Pages(window, member.pk, member.group_id)


@functools.lru_cache(maxsize=64)
def _inbox_window(lines: Callable[[Member], QuerySet[Awaiting]], start: int, stop: int) -> Any:
    return ModelStatement(lines(_placeholder_member())[start:stop], (_ME,))


def _inbox_lines(member: Member) -> QuerySet[Awaiting]:
    return inbox_lines(member=member)


def inbox_rows(member: Member, lines: Callable[[Member], QuerySet[Awaiting]] = _inbox_lines) -> Any:
    """Return what waits for the member, as ``lines`` reads it, for ``paginate``: each
    page's query compiled once."""
    if member.pk is None:
        return lines(member)
    return Pages(functools.partial(_inbox_window, lines), member.pk)


def current_version(row: Proposal) -> ProposalVersion:
    """Return the latest version of the proposal's text."""
    if row.current_version is not None:
        return row.current_version
    version = ProposalVersion.objects.filter(proposal=row).order_by("-number").first()
    assert version is not None  # noqa: S101 - created together with the proposal
    return version


def reasons(loaded: Loaded, version: int) -> dict[str, str]:
    """Return each member's latest reason for their response to ``version``, by member id."""
    found: dict[str, str] = {}
    for e in loaded.rows:
        if e.type == domain.Responded.TYPE and e.data.get("version") == version:
            found[str(e.actor_id)] = e.text
    return found


def mandate_decision_texts(loaded: Loaded) -> list[ProposalEvent]:
    """Return the decisions recorded under the proposal's mandate, oldest first."""
    return [e for e in loaded.rows if e.type == domain.MandateDecisionRecorded.TYPE]


def meeting_record(loaded: Loaded) -> ProposalEvent | None:
    """Return the latest meeting record of the proposal, if any."""
    records = [e for e in loaded.rows if e.type == domain.MeetingRecorded.TYPE]
    return records[-1] if records else None


def get_visible_meeting(*, member: Member, meeting_id: int) -> Meeting | None:
    """Return the meeting if it is the member's group's, else None (shown as 404)."""
    return (
        Meeting.objects.filter(pk=meeting_id, group_id=member.group_id)
        .exclude(group__dissolved_at__isnull=False)
        .select_related("group", "recorder")
        .first()
    )


def meeting_decisions(meeting: Meeting) -> QuerySet[Proposal]:
    """Return the decisions a meeting took, in the order they were recorded."""
    return (
        Proposal.objects.filter(meeting=meeting)
        .select_related("current_version")
        .order_by("created_at", "pk")
    )


# A member is reminded of one proposal at most once in this long, by anyone.
REMIND_EVERY = dt.timedelta(hours=24)
# What a fellow member may be reminded of: something the group waits for them to say.
REMINDABLE = (domain.Wait.RESPOND, domain.Wait.RESPOND_AGAIN, domain.Wait.VOTE, domain.Wait.CARRY)


def not_yet_responded(row: Proposal, *, group_id: int | None) -> QuerySet[Awaiting]:
    """Return who in group ``group_id`` the proposal still waits for (a response, a ballot).

    Never another group's members: a page shows only the viewer's own group.
    """
    return (
        Awaiting.objects.filter(
            proposal=row,
            wait__in=[w.value for w in REMINDABLE],
            member__group_id=group_id,
            member__is_active=True,
        )
        .select_related("member")
        .order_by("member__pseudonym_key", "wait")
    )


# Of each member waited for, what naming them reads: no keys, no passphrase's salt.
WAITING_FIELDS = (
    "id", "proposal_id", "member_id", "wait", "reminded_at",
    "member__id", "member__pseudonym_ct", "member__pseudonym_key", "member__group_id",
)  # fmt: skip


@functools.cache
def _waiting_in_group() -> ModelStatement:
    waits = not_yet_responded(Proposal(pk=_PROPOSAL), group_id=_MY_GROUP)
    return ModelStatement(waits.only(*WAITING_FIELDS), (_PROPOSAL, _MY_GROUP))


def waiting_in_group(row: Proposal, *, group_id: int) -> list[Awaiting]:
    """Return :func:`not_yet_responded`, each wait with its member's name (compiled once:
    every detail page of an open proposal shows it)."""
    return _waiting_in_group().objects(row.pk, group_id)  # type: ignore[return-value]


# Members named on a page are read in batches of this many ids, by one statement
# compiled once; the ids of no member fill a batch's empty places.
_NAMED_AT_ONCE = 32
_NO_ONE = tuple(-1_000_000_100 - i for i in range(_NAMED_AT_ONCE))


@functools.cache
def _people_by_id() -> ModelStatement:
    people = Member.objects.filter(pk__in=_NO_ONE)
    return ModelStatement(people.only(*NAME_FIELDS), _NO_ONE)


# Of a person, what naming them reads (their group, their name): no keys, no salts.
NAME_FIELDS = ("id", "group_id", "pseudonym_ct", "pseudonym_key")
_NAMED_ATTNAMES = list(NAME_FIELDS)


def people_named(ids: Iterable[int]) -> list[Member]:
    """Return the members with these ids, each with what naming them reads."""
    wanted = sorted(set(ids))
    found: list[Member] = []
    for at in range(0, len(wanted), _NAMED_AT_ONCE):
        batch = wanted[at : at + _NAMED_AT_ONCE]
        batch += [_NO_ONE[0]] * (_NAMED_AT_ONCE - len(batch))
        found += _people_by_id().objects(*batch)  # type: ignore[arg-type]
    return found


# What a thread's message reads of its author: their group and name, no keys or salts.
AUTHOR_FIELDS = ("author__id", "author__group_id", "author__pseudonym_ct", "author__pseudonym_key")


def comments(row: Proposal) -> QuerySet[Comment]:
    """Return the proposal's thread, oldest first (a message's text needs no more of its
    proposal than its id)."""
    fields = [f.name for f in Comment._meta.concrete_fields]
    return (
        Comment.objects.filter(proposal=row).select_related("author").only(*fields, *AUTHOR_FIELDS)
    )


@functools.lru_cache(maxsize=64)
def _thread_window(start: int, stop: int) -> ModelStatement:
    return ModelStatement(comments(Proposal(pk=_PROPOSAL))[start:stop], (_PROPOSAL,))


@functools.lru_cache(maxsize=64)
def _thread_window_counted(start: int, stop: int) -> ModelStatement:
    # The thread's length beside each message of the window: a page asked for by number
    # is read in one query.
    counted = comments(Proposal(pk=_PROPOSAL)).annotate(total=Window(Count("pk")))
    return ModelStatement(counted[start:stop], (_PROPOSAL,))


@functools.lru_cache(maxsize=8)
def _thread_newest(n: int) -> ModelStatement:
    # The thread's newest messages, newest first, with its length: its latest page, on
    # which a thread opens, in one query however long the thread.
    newest = comments(Proposal(pk=_PROPOSAL)).reverse().annotate(total=Window(Count("pk")))
    return ModelStatement(newest[:n], (_PROPOSAL,))


@functools.cache
def _thread_length() -> Statement:
    # Grouped by the proposal, so that it is a SELECT of one column: no row when empty.
    messages = Comment.objects.filter(proposal_id=_PROPOSAL).order_by().values("proposal_id")
    return Statement(messages.annotate(n=Count("pk")).values_list("n"), (_PROPOSAL,))


def thread_rows(row: Proposal) -> Any:
    """Return :func:`comments` for ``paginate`` (counted, it opens on its latest page),
    each page's query, the latest page's and the count compiled once."""
    return Pages(
        _thread_window,
        row.pk,
        counting=_thread_length(),
        counted=_thread_window_counted,
        newest=_thread_newest,
    )


def group_comments(group: Group) -> QuerySet[Comment]:
    """Return a group's own thread, oldest first."""
    return Comment.objects.filter(group=group, proposal__isnull=True).select_related("author")


def to_record(r: DecisionRecord) -> Record:
    """Return a stored record as the domain's (made once per row read: the log page
    checks each record it shows, and the chain's newest ones, which are the same)."""
    record = r.__dict__.get("_record")
    if record is None:
        record = r.__dict__["_record"] = Record(
            seq=r.seq, kind=r.kind, payload=r.payload, prev_digest=r.prev_digest, digest=r.digest
        )
    return record  # type: ignore[no-any-return]


def log_records(chain: str, *, after: int = -1) -> list[Record]:
    """Return one decision chain as domain records, in order (those after seq ``after``)."""
    rows = (
        DecisionRecord.objects.filter(chain=chain, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "kind", "payload", "prev_digest", "digest")
    )
    return [
        Record(seq=seq, kind=kind, payload=payload, prev_digest=prev, digest=digest)
        for seq, kind, payload, prev, digest in rows
    ]


def log_lines(chain: str, *, after: int) -> list[LogLine]:
    """Return the records of one chain after seq ``after``, in order, as :class:`LogLine`
    (what a page checks when its chain's check lags behind)."""
    lines = _log_lines(titles=False).filter(chain=chain, seq__gt=after).order_by("seq")
    return [LogLine(*row) for row in lines]


def last_record(chain: str) -> DecisionRecord | None:
    """Return the last record of a chain, or None if it has none."""
    return DecisionRecord.objects.filter(chain=chain).order_by("-seq").first()


def last_seq(chain: str) -> int | None:
    """Return the seq of a chain's last record, or None if it has none."""
    return (
        DecisionRecord.objects.filter(chain=chain)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )


@functools.cache
def _checkpoint() -> ModelStatement:
    # Every view of a decision log and every append reads it: compiled once.
    return ModelStatement(ChainCheckpoint.objects.filter(chain=_CHAIN).order_by()[:1], (_CHAIN,))


def checkpoint(chain: str) -> ChainCheckpoint | None:
    """Return how far the chain was verified from its start, if it ever was."""
    return _checkpoint().first(chain)  # type: ignore[return-value]


def head_of(checked: ChainCheckpoint | None) -> Head | None:
    """Return the head of what a checkpoint says was verified (None: nothing was)."""
    return None if checked is None else Head(count=checked.seq + 1, digest=checked.digest)


def checked_head(chain: str) -> Head | None:
    """Return the head of what was verified of the chain (None: never verified)."""
    return head_of(checkpoint(chain))


def chains() -> list[str]:
    """Return the names of every decision chain."""
    return sorted(set(DecisionRecord.objects.values_list("chain", flat=True)))


@dataclass(slots=True, eq=False)
class LogLine:
    """A decision record as the log's pages, API and feeds show it: its columns and its
    proposal's current title, read as values, not models.

    A page reads each chain's newest records to merge them, and shows fewer than it read:
    made into three models each (the record, its proposal and the version), and with
    every payload decoded, reading them cost a page of fifty rows more than showing them.
    The payload stays the text the database gave until a row is shown or checked.
    """

    pk: int
    chain: str
    seq: int
    kind: str
    payload_text: str
    prev_digest: str
    digest: str
    proposal_id: int | None
    group_id: int | None
    # The proposal's current version (None: no proposal, or none recorded as current).
    version_number: int | None
    title_ct: bytes | None
    _payload: Any = None
    _record: Record | None = None

    @property
    def payload(self) -> Any:
        """The payload as stored: a mapping, or the text itself if it is not JSON."""
        if self._payload is None:
            self._payload = _decoded(self.payload_text)
        return self._payload

    @property
    def record(self) -> Record:
        """The domain's record (made once). Raises ChainError for a payload that is not a
        JSON object, as making it from the model did."""
        if self._record is None:
            self._record = Record(
                seq=self.seq,
                kind=self.kind,
                payload=self.payload,
                prev_digest=self.prev_digest,
                digest=self.digest,
            )
        return self._record

    @property
    def title(self) -> str:
        """The title of the decision's proposal ("" when the record has no proposal)."""
        if self.proposal_id is None:
            return ""
        if self.title_ct is None or self.version_number is None:
            version = current_version(Proposal(pk=self.proposal_id, current_version=None))
            return version.title
        return ProposalVersion.title_of(self.proposal_id, self.version_number, self.title_ct)


def _decoded(text: Any) -> Any:
    # The payload field's own decoding, as if Django had read the column: text that is
    # not JSON is given back as it is.
    return DecisionRecord._meta.get_field("payload").from_db_value(text, None, None)


class NewestDecisions:
    """The decision records of a few chains, newest first, read chain by chain.

    One ordered query over "the federation's or my group's" makes the database sort every
    record the member may read (SQLite: a temporary B-tree over ~6,000 rows at 10,000
    decisions, 30 ms). Each chain's newest records come instead from its (chain, seq)
    index, merged by id (the order of appending) in the same query
    (:class:`~veche.apps.core.statements.Merged`): a slice ``[a:b]`` reads at most ``b``
    records of each chain and receives ``b``, whatever the chains' length. What it read
    of each chain, the chain's newest records, is kept (:meth:`newest`): the page checks
    the chains' newest links with them, instead of reading them again. Records come as
    :class:`LogLine`.
    """

    def __init__(self, chains: Sequence[str]) -> None:
        self.chains = list(chains)
        self._read: dict[str, list[LogLine]] = {}

    def __getitem__(self, index: slice) -> list[LogLine]:
        if not isinstance(index, slice) or index.stop is None or index.step not in (None, 1):
            raise TypeError("read the newest decisions by a [start:stop] slice")
        start, stop = index.start or 0, index.stop
        if stop > _READ_WHOLE_UP_TO:
            return self._deep(start, stop)
        lines = [LogLine(*row) for row in _newest_lines(stop, len(self.chains)).rows(*self.chains)]
        # The newest ``stop`` of all are each chain's newest few: the end of each chain.
        self._read = {}
        for line in reversed(lines):
            self._read.setdefault(line.chain, []).append(line)
        if len(lines) < stop:  # every chain was read to its start: those not met are empty
            for chain in self.chains:
                self._read.setdefault(chain, [])
        return lines[start:stop]

    def _deep(self, start: int, stop: int) -> list[LogLine]:
        """A slice far from the newest: each chain's newest ``stop`` ids, merged, then the
        records of the window alone. Reading whole records (and their proposals' titles)
        down to page 100 cost a page 270 ms at 10,000 decisions; ids cost little."""
        ids: list[int] = []
        for chain in self.chains:
            ids += [pk for (pk,) in _newest_ids(stop).rows(chain)]
        ids.sort(reverse=True)
        window = ids[start:stop]
        lines = [LogLine(*row) for row in _log_lines().filter(pk__in=window)]
        lines.sort(key=lambda line: line.pk, reverse=True)
        return lines

    def newest(self, chain: str) -> list[LogLine] | None:
        """Return the chain's newest records, oldest first, as read for the last slice
        (None: none of the chain's records was read)."""
        return self._read.get(chain)


# A chain's name goes here when the statement is compiled; no chain is named so.
_CHAIN = "?no such chain?"


def _log_lines(*, titles: bool = True) -> QuerySet[DecisionRecord]:
    """Decision records as :class:`LogLine` values: the payload as text (decoded when
    shown), and the proposal's current title (without ``titles``: read if asked for)."""
    title = ("proposal__current_version__number", "proposal__current_version__title_ct")
    return DecisionRecord.objects.annotate(
        payload_text=Cast("payload", TextField()),
        no_title=Value(None, output_field=IntegerField()),
    ).values_list(
        "pk",
        "chain",
        "seq",
        "kind",
        "payload_text",
        "prev_digest",
        "digest",
        "proposal_id",
        "group_id",
        *(title if titles else ("no_title", "no_title")),
    )


# Slices ending within the first two pages read whole records of each chain (and the
# page checks the chains' newest links with them); deeper ones read ids first.
_READ_WHOLE_UP_TO = 101


@functools.lru_cache(maxsize=64)
def _newest_ids(stop: int) -> Statement:
    newest = DecisionRecord.objects.filter(chain=_CHAIN).order_by("-seq")[:stop]
    return Statement(newest.values_list("pk"), (_CHAIN,))


@functools.lru_cache(maxsize=64)
def _newest_lines(stop: int, chains: int) -> Statement:
    """The newest ``stop`` records of ``chains`` chains, newest first (by id: the order of
    appending), each chain read from its (chain, seq) index."""
    each = Statement(_log_lines().filter(chain=_CHAIN).order_by("-seq")[:stop], (_CHAIN,))
    return Merged(each, chains, limit=stop, descending=True)


def visible_decisions(*, member: Member) -> NewestDecisions:
    """Return the decision records the member may read, the newest first."""
    chains = [chain_name(None)]
    if member.group_id is not None:
        chains.append(chain_name(member.group_id))
    return NewestDecisions(chains)


def is_federation_kind(kind: DecisionKind) -> bool:
    """Return whether the kind is decided by the federation together."""
    return kind.scope is Scope.FEDERATION
