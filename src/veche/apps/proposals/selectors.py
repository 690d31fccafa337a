"""Reads: turn stored rows into domain values and compute proposals' states.

Nothing here writes. The state of a proposal is always the domain's
``veche.domain.proposals.state`` over the stored events at the instant asked for.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from veche.apps.core import keyring
from veche.apps.federation.models import CoordinatorTerm, Group
from veche.apps.federation.selectors import get_charter
from veche.apps.proposals.models import (
    BallotBox,
    Comment,
    DecisionRecord,
    EventType,
    Proposal,
    ProposalEvent,
    ProposalVersion,
)
from veche.domain import proposals as domain
from veche.domain.charter import Charter, DecisionKind, MandateFallback, Scope
from veche.domain.consensus import Position
from veche.domain.decisions_log import Record

if TYPE_CHECKING:
    from veche.apps.accounts.models import Member


def electorate(*, at: dt.datetime | None = None) -> domain.Electorate:
    """Return the federation's membership with its history: who belonged when.

    Members carry the time they joined and, if they were removed, left; groups the time
    they were created and, if dissolved, ended. The domain replays each moment of a
    proposal with the membership of that moment, so a newcomer, a removed member or a
    group admitted later can neither reopen nor rewrite what was decided. Coordinators
    are those in office at ``at``.
    """
    at = at or timezone.now()
    from veche.apps.accounts.models import Member

    groups: dict[str, set[str]] = {}
    began: dict[str, dt.datetime] = {}
    ended: dict[str, dt.datetime] = {}
    for group_id, created_at, dissolved_at in Group.objects.values_list(
        "pk", "created_at", "dissolved_at"
    ):
        groups[str(group_id)] = set()
        began[str(group_id)] = created_at
        if dissolved_at is not None:
            ended[str(group_id)] = dissolved_at
    joined: dict[str, dt.datetime] = {}
    left: dict[str, dt.datetime] = {}
    # Inactive members count only for the time they belonged, if that time is known.
    rows = Member.objects.filter(Q(is_active=True) | Q(left_at__isnull=False))
    for member_id, group_id, joined_at, left_at in rows.values_list(
        "pk", "group_id", "joined_at", "left_at"
    ):
        if group_id is None:
            continue
        groups[str(group_id)].add(str(member_id))
        joined[str(member_id)] = joined_at
        if left_at is not None:
            left[str(member_id)] = left_at
    coordinators: dict[str, set[str]] = {}
    terms = CoordinatorTerm.objects.filter(starts_at__lte=at).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )
    for group_id, member_id in terms.values_list("group_id", "member_id"):
        if str(member_id) in groups.get(str(group_id), set()):
            coordinators.setdefault(str(group_id), set()).add(str(member_id))
    return domain.Electorate(
        groups={g: frozenset(m) for g, m in groups.items()},
        coordinators={g: frozenset(m) for g, m in coordinators.items()},
        joined=joined,
        left=left,
        began=began,
        ended=ended,
    )


def to_domain_proposal(row: Proposal, charter: Charter) -> domain.Proposal:
    """Return the domain proposal for a stored row."""
    return domain.Proposal(
        id=str(row.pk),
        kind=charter.kind(row.kind_key),
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


def to_domain_events(row: Proposal) -> list[domain.Event]:
    """Return the proposal's events in order, as domain events.

    A secret vote's roll (who voted) and its ballot box (what was voted) are stored
    apart; they are zipped here in the box's (sorted) order, which is harmless: a tally
    does not depend on which voter cast which ballot, and the pairing is never stored
    or shown. Raises BallotsUnreadable without the key that opens the ballots.
    """
    boxes = _ballots(row)
    events: list[domain.Event] = []
    for e in ProposalEvent.objects.filter(proposal=row).order_by("seq"):
        events.append(_to_domain_event(e, boxes))
    return events


def _to_domain_event(e: ProposalEvent, boxes: dict[str, list[Any]]) -> domain.Event:
    actor = str(e.actor_id)
    d = e.data
    match e.type:
        case EventType.PUBLISHED:
            deadline = dt.datetime.fromisoformat(d["deadline"]) if d.get("deadline") else None
            return domain.Published(actor=actor, at=e.at, deadline=deadline)
        case EventType.RESPONDED:
            return domain.Responded(
                member=actor, position=Position(d["position"]), at=e.at, version=d["version"]
            )
        case EventType.AMENDED:
            return domain.Amended(actor=actor, at=e.at, version=d["version"])
        case EventType.WITHDRAWN:
            return domain.Withdrawn(actor=actor, at=e.at)
        case EventType.CARRIED:
            return domain.GroupPositionCarried(
                coordinator=actor, group=d["group"], position=Position(d["position"]), at=e.at
            )
        case EventType.BALLOT_CAST:
            if d.get("secret"):
                box = boxes.get(d["round"], [])
                ballot = box.pop() if box else None
            else:
                # An open ballot is the event's (encrypted) words.
                text = e.text
                if text == keyring.UNREADABLE:
                    raise BallotsUnreadable
                ballot = json.loads(text)
            return domain.BallotCast(voter=actor, ballot=ballot, at=e.at, for_group=d.get("group"))
        case EventType.VOLUNTEERED:
            return domain.Volunteered(member=actor, at=e.at)
        case EventType.MANDATE_DECISION:
            return domain.MandateDecisionRecorded(holder=actor, matter=d["matter"], at=e.at)
        case EventType.RECALL_SUPPORTED:
            return domain.RecallSupported(member=actor, at=e.at)
        case EventType.MEETING_RECORDED:
            return domain.MeetingRecorded(
                recorder=actor,
                outcome=domain.Outcome(d["outcome"]),
                attendance=d["attendance"],
                reached_by=domain.ReachedBy(d["reached_by"]),
                at=e.at,
            )
        case EventType.MEETING_CONFIRMED:
            return domain.MeetingConfirmed(member=actor, at=e.at)
    raise ValueError(f"unknown event type {e.type!r}")  # pragma: no cover - choices guard it


def _mandate_body(row: Proposal) -> Q:
    return Q(federation_wide=True) if row.federation_wide else Q(group_id=row.group_id)


def previous_holders(
    row: Proposal, charter: Charter, electorate_now: domain.Electorate, now: dt.datetime
) -> tuple[str, ...]:
    """Return the holders of the same body's earlier mandates, oldest first.

    Each earlier mandate proposal is evaluated in creation order with the holders found
    so far, exactly as rotation applied to it, so the answer never depends on which
    proposal someone happened to look at first.
    """
    mandate_kinds = [k.key for k in charter.kinds if isinstance(k.fallback, MandateFallback)]
    earlier = (
        Proposal.objects.filter(_mandate_body(row), kind_key__in=mandate_kinds, urgent=True)
        .filter(Q(created_at__lt=row.created_at) | Q(created_at=row.created_at, pk__lt=row.pk))
        .order_by("created_at", "pk")
    )
    holders: list[str] = []
    for other in earlier:
        st = domain.state(
            to_domain_proposal(other, charter),
            to_domain_events(other),
            domain.Context(electorate_now, tuple(holders)),
            now,
        )
        if st.mandate is not None and st.mandate.holder is not None:
            holders.append(st.mandate.holder)
    return tuple(holders)


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


def load(
    row: Proposal, *, now: dt.datetime | None = None, shared: dict[str, Any] | None = None
) -> Loaded:
    """Return the proposal's domain view and its state at ``now``.

    Pages that load many proposals pass one ``shared`` dict, so the charter and the
    current membership are read once per page rather than once per proposal.
    """
    now = now or timezone.now()
    shared = {} if shared is None else shared
    if "charter" not in shared:
        shared["charter"] = get_charter()
    charter = shared["charter"]
    if charter is None:  # pragma: no cover - a proposal cannot exist before the federation
        raise RuntimeError("the federation has no charter")
    proposal = to_domain_proposal(row, charter)
    events = to_domain_events(row)
    if shared.get("electorate_at") != now:
        shared["electorate"], shared["electorate_at"] = electorate(at=now), now
    el = shared["electorate"]
    holders: tuple[str, ...] = ()
    if isinstance(proposal.kind.fallback, MandateFallback) and row.urgent:
        holders = previous_holders(row, charter, el, now)
    context = domain.Context(el, holders)
    return Loaded(
        row=row,
        charter=charter,
        kind=proposal.kind,
        proposal=proposal,
        events=events,
        context=context,
        state=domain.state(proposal, events, context, now),
    )


def visible_proposals(*, member: Member) -> QuerySet[Proposal]:
    """Return the proposals the member may see: their group's and the federation's.

    A draft is its author's alone until published (``Proposal.draft`` records how it
    was created, so publishing shows as a ``published`` event).
    """
    published = ProposalEvent.objects.filter(proposal=OuterRef("pk"), type=EventType.PUBLISHED)
    return (
        Proposal.objects.filter(Q(federation_wide=True) | Q(group_id=member.group_id))
        .exclude(Q(draft=True) & ~Q(author=member) & ~Exists(published))
        .select_related("group", "author")
    )


def get_visible_proposal(*, member: Member, proposal_id: int) -> Proposal | None:
    """Return the proposal if the member may see it, else None (shown as 404)."""
    return visible_proposals(member=member).filter(pk=proposal_id).first()


def current_version(row: Proposal) -> ProposalVersion:
    """Return the latest version of the proposal's text."""
    version = row.versions.order_by("-number").first()
    assert version is not None  # noqa: S101 - created together with the proposal
    return version


def reasons(row: Proposal, version: int) -> dict[str, str]:
    """Return each member's latest reason for their response to ``version``, by member id."""
    found: dict[str, str] = {}
    for e in ProposalEvent.objects.filter(proposal=row, type=EventType.RESPONDED).order_by("seq"):
        if e.data.get("version") == version:
            found[str(e.actor_id)] = e.text
    return found


def mandate_decision_texts(row: Proposal) -> list[ProposalEvent]:
    """Return the decisions recorded under the proposal's mandate, oldest first."""
    return list(
        ProposalEvent.objects.filter(proposal=row, type=EventType.MANDATE_DECISION)
        .select_related("actor")
        .order_by("seq")
    )


def meeting_record(row: Proposal) -> ProposalEvent | None:
    """Return the latest meeting record of the proposal, if any."""
    return (
        ProposalEvent.objects.filter(proposal=row, type=EventType.MEETING_RECORDED)
        .order_by("-seq")
        .first()
    )


def comments(row: Proposal) -> QuerySet[Comment]:
    """Return the proposal's thread, oldest first."""
    return Comment.objects.filter(proposal=row).select_related("author")


def group_comments(group: Group) -> QuerySet[Comment]:
    """Return a group's own thread, oldest first."""
    return Comment.objects.filter(group=group, proposal__isnull=True).select_related("author")


def log_records(chain: str) -> list[Record]:
    """Return one decision chain as domain records, in order."""
    return [
        Record(
            seq=r.seq, kind=r.kind, payload=r.payload, prev_digest=r.prev_digest, digest=r.digest
        )
        for r in DecisionRecord.objects.filter(chain=chain).order_by("seq")
    ]


def chains() -> list[str]:
    """Return the names of every decision chain."""
    return sorted(set(DecisionRecord.objects.values_list("chain", flat=True)))


def visible_decisions(*, member: Member) -> QuerySet[DecisionRecord]:
    """Return the decision records the member may read: their group's and federation's."""
    return DecisionRecord.objects.filter(
        Q(group__isnull=True) | Q(group_id=member.group_id)
    ).select_related("proposal")


def is_federation_kind(kind: DecisionKind) -> bool:
    """Return whether the kind is decided by the federation together."""
    return kind.scope is Scope.FEDERATION
