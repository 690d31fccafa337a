"""Writes: every change to a proposal goes through here, one transaction each.

Each use case loads the proposal, asks the domain whether the new event is valid
(``veche.domain.proposals.check``), and only then stores it. The domain's rules are
never re-implemented here. When a proposal has closed, :func:`settle` appends its
decision to the hash-chained log and applies what the decision does (a new group, a
coordinator's term), exactly once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from veche.apps.core import keyring
from veche.apps.core.writes import clean_text, retrying
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import get_charter
from veche.apps.federation.services import create_group, create_invitation, start_coordinator_term
from veche.apps.proposals import selectors
from veche.apps.proposals.models import (
    BallotBox,
    Comment,
    DecisionRecord,
    EventType,
    Proposal,
    ProposalEvent,
    ProposalVersion,
    chain_name,
)
from veche.domain import proposals as domain
from veche.domain.charter import Scope
from veche.domain.consensus import Position
from veche.domain.decisions_log import GENESIS_DIGEST, compute_digest
from veche.domain.errors import DomainError, InvalidEvent, NotEligible, _

if TYPE_CHECKING:
    from veche.apps.accounts.models import Member


ADMIT_GROUP = "admit-group"
CHOOSE_COORDINATOR = "group-coordinator"
MAX_TITLE = 200
MAX_TEXT = 20_000


# --- creating ------------------------------------------------------------------------------


@transaction.atomic
def create_proposal(
    *,
    author: Member,
    kind_key: str,
    title: str,
    body: str,
    urgent: bool = False,
    deadline: dt.datetime | None = None,
    options: Sequence[str] = (),
    mandate_scope: Sequence[str] = (),
    draft: bool = False,
    new_group_name: str = "",
    coordinator: Member | None = None,
    now: dt.datetime | None = None,
) -> Proposal:
    """Create and return a proposal; raise DomainError if the rules do not allow it."""
    now = now or timezone.now()
    charter = get_charter()
    if charter is None:
        raise InvalidEvent(_("the federation is not set up yet"), field="kind")
    kind = charter.kind(kind_key)
    title = clean_text(title, field="title", limit=MAX_TITLE)
    body = clean_text(body, field="body", limit=MAX_TEXT)
    seed = secrets.token_bytes(32)
    proposed = domain.create(
        proposal_id="new",
        kind=kind,
        author=str(author.pk),
        electorate=selectors.electorate(at=now),
        at=now,
        seed=seed,
        urgent=urgent,
        deadline=deadline,
        options=options,
        mandate_scope=mandate_scope,
        draft=draft,
    )
    effect = _effect(kind_key, author, new_group_name, coordinator)
    row = Proposal.objects.create(
        kind_key=kind.key,
        group_id=int(proposed.group),
        federation_wide=kind.scope is Scope.FEDERATION,
        author=author,
        created_at=now,
        urgent=urgent,
        deadline=deadline,
        seed=seed,
        draft=draft,
        effect=effect,
    )
    # The encryption context names the row, so the lists are encrypted once it has an id.
    row.set_lists(list(proposed.options), list(proposed.mandate_scope))
    row.save(
        update_fields=["options_ct", "option_count", "mandate_scope_ct", "mandate_scope_count"]
    )
    version = ProposalVersion(proposal=row, number=1, created_at=now)
    version.set_text(title, body)
    version.save()
    return row


def _effect(
    kind_key: str, author: Member, new_group_name: str, coordinator: Member | None
) -> dict[str, Any]:
    if kind_key == ADMIT_GROUP:
        name = clean_text(new_group_name, field="new_group_name", limit=120)
        if Group.objects.filter(name=name).exists():
            raise InvalidEvent(_("a group with this name already exists"), field="new_group_name")
        return {"admit_group": name}
    if kind_key == CHOOSE_COORDINATOR:
        if coordinator is None:
            raise InvalidEvent(_("say who should coordinate the group"), field="coordinator")
        if coordinator.group_id != author.group_id or not coordinator.is_active:
            raise NotEligible(_("a coordinator comes from the group itself"), field="coordinator")
        return {"coordinator": coordinator.pk}
    return {}


# --- acting on a proposal ------------------------------------------------------------------


def _event_time(row: Proposal, now: dt.datetime) -> dt.datetime:
    """Return when a new event happens: ``now``, or the last event's time if later.

    A concurrent writer may have committed an event stamped a moment after ours was
    taken: ours then happens at that same moment, keeping the history in order. Call
    inside the writing transaction: it locks the proposal's row, so writers to one
    proposal take turns (SQLite's IMMEDIATE transactions already do) instead of racing
    for the next event number.
    """
    Proposal.objects.select_for_update().filter(pk=row.pk).exists()
    last = (
        ProposalEvent.objects.filter(proposal=row).order_by("-seq").values_list("at", flat=True)
    ).first()
    return max(now, last) if last is not None else now


def _act(
    *,
    row: Proposal,
    event: domain.Event,
    type: EventType,
    actor: Member,
    data: dict[str, Any] | None = None,
    text: str = "",
    secret_ballot: tuple[str, Any] | None = None,
    now: dt.datetime,
) -> selectors.Loaded:
    """Validate ``event`` with the domain, store it, settle the proposal; return its state."""

    def attempt() -> selectors.Loaded:
        at = _event_time(row, now)
        happened = dataclasses.replace(event, at=at)
        loaded = selectors.load(row, now=at)
        domain.check(loaded.proposal, loaded.events, happened, loaded.context, at)
        seq = ProposalEvent.objects.filter(proposal=row).count()
        stored = ProposalEvent(
            proposal=row, seq=seq, type=type, actor=actor, at=at, data=data or {}
        )
        stored.set_text(text)
        stored.save()
        if secret_ballot is not None:
            _put_in_box(row, *secret_ballot)
        after = selectors.load(row, now=at)
        _settle(after)
        return after

    return retrying(attempt)


def _put_in_box(row: Proposal, ballot_round: str, ballot: Any) -> None:
    """Add a ballot to the vote's box: decrypt, add, sort, encrypt afresh, overwrite.

    Sorting erases the order ballots came in; a fresh nonce makes the new ciphertext
    unrelated to the old one. The box row is locked for the rewrite.
    """
    box = BallotBox.objects.select_for_update().filter(proposal=row, round=ballot_round).first()
    if box is None:
        box = BallotBox(proposal=row, round=ballot_round, count=0)
        ballots: list[Any] = []
    else:
        ballots = json.loads(keyring.current().decrypt(bytes(box.box_ct), context=box.context()))
    ballots.append(ballot)
    ballots.sort(key=lambda b: json.dumps(b, sort_keys=True))
    box.box_ct = keyring.encrypt(row.key_scope(), json.dumps(ballots), context=box.context())
    box.count = len(ballots)
    box.save()


def publish(*, row: Proposal, actor: Member, now: dt.datetime | None = None) -> selectors.Loaded:
    """Open a draft for responses."""
    now = now or timezone.now()
    deadline = row.deadline if row.deadline and row.deadline > now else None
    event = domain.Published(actor=str(actor.pk), at=now, deadline=deadline)
    data = {"deadline": deadline.isoformat() if deadline else None}
    return _act(row=row, event=event, type=EventType.PUBLISHED, actor=actor, data=data, now=now)


def respond(
    *,
    row: Proposal,
    member: Member,
    position: Position,
    reason: str = "",
    version: int,
    now: dt.datetime | None = None,
) -> selectors.Loaded:
    """Record (or change) the member's response to ``version``."""
    now = now or timezone.now()
    reason = clean_text(reason, field="reason", required=False, limit=4000)
    domain.require_reason(position, reason)
    event = domain.Responded(member=str(member.pk), position=position, at=now, version=version)
    data = {"position": position.value, "version": version}
    return _act(
        row=row,
        event=event,
        type=EventType.RESPONDED,
        actor=member,
        data=data,
        text=reason,
        now=now,
    )


def amend(
    *, row: Proposal, actor: Member, title: str, body: str, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Put a new version of the text; everyone's responses reset."""
    now = now or timezone.now()
    title = clean_text(title, field="title", limit=MAX_TITLE)
    body = clean_text(body, field="body", limit=MAX_TEXT)

    def attempt() -> selectors.Loaded:
        at = _event_time(row, now)
        loaded = selectors.load(row, now=at)
        version = loaded.state.version + 1
        event = domain.Amended(actor=str(actor.pk), at=at, version=version)
        domain.check(loaded.proposal, loaded.events, event, loaded.context, at)
        seq = ProposalEvent.objects.filter(proposal=row).count()
        ProposalEvent.objects.create(
            proposal=row,
            seq=seq,
            type=EventType.AMENDED,
            actor=actor,
            at=at,
            data={"version": version},
        )
        stored = ProposalVersion(proposal=row, number=version, created_at=at)
        stored.set_text(title, body)
        stored.save()
        return selectors.load(row, now=at)

    return retrying(attempt)


def withdraw(*, row: Proposal, actor: Member, now: dt.datetime | None = None) -> selectors.Loaded:
    """Withdraw the proposal (its author only)."""
    now = now or timezone.now()
    event = domain.Withdrawn(actor=str(actor.pk), at=now)
    return _act(row=row, event=event, type=EventType.WITHDRAWN, actor=actor, now=now)


def carry_group_position(
    *,
    row: Proposal,
    coordinator: Member,
    position: Position,
    reason: str = "",
    now: dt.datetime | None = None,
) -> selectors.Loaded:
    """Spokes mode: a coordinator carries their group's position."""
    now = now or timezone.now()
    reason = clean_text(reason, field="reason", required=False, limit=4000)
    domain.require_reason(position, reason)
    group = str(coordinator.group_id)
    event = domain.GroupPositionCarried(
        coordinator=str(coordinator.pk), group=group, position=position, at=now
    )
    data = {"group": group, "position": position.value}
    return _act(
        row=row,
        event=event,
        type=EventType.CARRIED,
        actor=coordinator,
        data=data,
        text=reason,
        now=now,
    )


def cast_ballot(
    *, row: Proposal, voter: Member, ballot: Any, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Cast a ballot in the proposal's open vote (secret: stored apart from the roll)."""
    now = now or timezone.now()
    loaded = selectors.load(row, now=now)
    vote = loaded.state.vote
    if vote is None or loaded.state.phase not in (domain.Phase.VOTE, domain.Phase.SELECTION_VOTE):
        raise domain.ProposalClosed("there is no open vote on this proposal")
    ballot_round = "vote" if loaded.state.phase is domain.Phase.VOTE else "selection"
    spokes = (
        loaded.state.phase is domain.Phase.VOTE
        and loaded.kind.scope is Scope.FEDERATION
        and loaded.kind.mode is not None
        and loaded.kind.mode.value == "spokes"
    )
    for_group = str(voter.group_id) if spokes else None
    event = domain.BallotCast(voter=str(voter.pk), ballot=ballot, at=now, for_group=for_group)
    data: dict[str, Any] = {"round": ballot_round}
    if for_group:
        data["group"] = for_group
    # In spokes mode a coordinator casts their group's ballot as they carry its position:
    # openly. Secrecy protects individual members (decision 0031).
    if vote.secret and not spokes:
        data["secret"] = True
        return _act(
            row=row,
            event=event,
            type=EventType.BALLOT_CAST,
            actor=voter,
            data=data,
            secret_ballot=(ballot_round, _plain(ballot)),
            now=now,
        )
    return _act(
        row=row,
        event=event,
        type=EventType.BALLOT_CAST,
        actor=voter,
        data=data,
        text=json.dumps(_plain(ballot)),
        now=now,
    )


def _plain(ballot: Any) -> Any:
    if isinstance(ballot, tuple | list | set | frozenset):
        return list(ballot)
    return ballot


def volunteer(*, row: Proposal, member: Member, now: dt.datetime | None = None) -> selectors.Loaded:
    """Come forward as temporary coordinator."""
    now = now or timezone.now()
    event = domain.Volunteered(member=str(member.pk), at=now)
    return _act(row=row, event=event, type=EventType.VOLUNTEERED, actor=member, now=now)


def record_mandate_decision(
    *, row: Proposal, holder: Member, matter: str, text: str, now: dt.datetime | None = None
) -> selectors.Loaded:
    """The temporary coordinator records a decision on a matter within the mandate.

    ``matter`` is one of the proposal's mandate matters, by its words or its index; it
    is stored as the index, since the words are content.
    """
    now = now or timezone.now()
    text = clean_text(text, field="text", limit=4000)
    labels = row.mandate_scope
    matter = str(labels.index(matter)) if matter in labels else matter
    event = domain.MandateDecisionRecorded(holder=str(holder.pk), matter=matter, at=now)
    return _act(
        row=row,
        event=event,
        type=EventType.MANDATE_DECISION,
        actor=holder,
        data={"matter": matter},
        text=text,
        now=now,
    )


def support_recall(
    *, row: Proposal, member: Member, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Support recalling the temporary coordinator now."""
    now = now or timezone.now()
    event = domain.RecallSupported(member=str(member.pk), at=now)
    return _act(row=row, event=event, type=EventType.RECALL_SUPPORTED, actor=member, now=now)


def record_meeting(
    *,
    row: Proposal,
    recorder: Member,
    outcome: domain.Outcome,
    attendance: int,
    reached_by: domain.ReachedBy,
    notes: str,
    now: dt.datetime | None = None,
) -> selectors.Loaded:
    """Record a decision reached at an in-person meeting (counts, never names)."""
    now = now or timezone.now()
    notes = clean_text(notes, field="notes", required=False, limit=4000)
    event = domain.MeetingRecorded(
        recorder=str(recorder.pk),
        outcome=outcome,
        attendance=attendance,
        reached_by=reached_by,
        at=now,
    )
    data = {"outcome": outcome.value, "attendance": attendance, "reached_by": reached_by.value}
    return _act(
        row=row,
        event=event,
        type=EventType.MEETING_RECORDED,
        actor=recorder,
        data=data,
        text=notes,
        now=now,
    )


def confirm_meeting(
    *, row: Proposal, member: Member, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Confirm, as someone present, the meeting record of the proposal."""
    now = now or timezone.now()
    event = domain.MeetingConfirmed(member=str(member.pk), at=now)
    return _act(row=row, event=event, type=EventType.MEETING_CONFIRMED, actor=member, now=now)


def post_comment(
    *,
    author: Member,
    body: str,
    row: Proposal | None = None,
    group: Group | None = None,
    now: dt.datetime | None = None,
) -> Comment:
    """Add a message to a proposal's thread or to the author's group's thread."""
    now = now or timezone.now()
    body = clean_text(body, field="body", limit=MAX_TEXT)
    if row is None and group is None:
        raise InvalidEvent(_("a message belongs to a thread"), field="thread")
    if group is not None and group.pk != author.group_id:
        raise NotEligible(_("only the group's members write in its thread"))
    with transaction.atomic():
        comment = Comment(proposal=row, group=group, author=author, created_at=now, body_ct=b"")
        comment.save()
        comment.set_body(body)
        comment.save(update_fields=["body_ct"])
    return comment


# --- settling: decisions into the log, and what they do --------------------------------------


def settle(
    row: Proposal, *, now: dt.datetime | None = None, shared: dict[str, Any] | None = None
) -> selectors.Loaded:
    """Return the proposal's state, first recording its decision if it has just closed."""
    now = now or timezone.now()
    loaded = selectors.load(row, now=now, shared=shared)
    vote = loaded.state.vote
    if vote is not None and vote.result is not None:
        # A closed vote's box is final: erase the older versions now, not when the
        # proposal closes (a mandate chosen by vote runs for days after its vote).
        _seal_ballot_boxes(row)
    if loaded.state.decision is not None and row.closed_at is None:
        try:
            with transaction.atomic():
                _settle(loaded)
        except IntegrityError:
            # Someone else settled it at the same moment; their record stands.
            row.refresh_from_db()
    return loaded


def settle_due(*, now: dt.datetime | None = None) -> int:
    """Settle every open proposal whose decision is due; return how many were settled."""
    now = now or timezone.now()
    settled = 0
    # A dissolved group's own open proposals stay as they were: with the group gone
    # from the electorate they cannot be decided, and replaying them would fail.
    rows = Proposal.objects.filter(closed_at__isnull=True).exclude(
        federation_wide=False, group__dissolved_at__isnull=False
    )
    for row in rows.order_by("created_at", "pk"):
        before = row.closed_at
        try:
            settle(row, now=now)
        except selectors.BallotsUnreadable:
            # A secret vote is counted only by a request that can open its ballots.
            continue
        row.refresh_from_db()
        settled += int(before is None and row.closed_at is not None)
    return settled


def _settle(loaded: selectors.Loaded) -> None:
    decision = loaded.state.decision
    row = loaded.row
    if decision is None:
        return
    # Lock the proposal row, then check again: exactly one settler gets past here.
    locked = Proposal.objects.select_for_update().get(pk=row.pk)
    if locked.closed_at is not None:
        return
    group_id = None if row.federation_wide else row.group_id
    payload = decision.to_payload()
    payload["effect"] = _apply_effect(row, decision)
    append_to_log(group_id=group_id, kind="decision", payload=payload, proposal=row)
    Proposal.objects.filter(pk=row.pk).update(closed_at=decision.at, outcome=decision.outcome.value)
    row.closed_at = decision.at
    row.outcome = decision.outcome.value
    _seal_ballot_boxes(row)


def _seal_ballot_boxes(row: Proposal) -> None:
    """Mark the proposal's closed ballot boxes sealed; erase their old versions once."""
    if BallotBox.objects.filter(proposal=row, sealed=False).update(sealed=True):
        transaction.on_commit(_erase_old_ballot_boxes)


def _erase_old_ballot_boxes() -> None:
    """Make the database forget earlier versions of ballot boxes once a vote has closed.

    Each cast rewrote the box; an old version, if it survived on disk, would show which
    ballot arrived between two casts. SQLite zeroes replaced content (secure_delete) but
    keeps page images in the write-ahead log until a checkpoint: force one. PostgreSQL
    keeps dead row versions until a vacuum: VACUUM FULL rewrites the (small) table.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            cursor.execute(f"VACUUM FULL {BallotBox._meta.db_table}")


def append_to_log(
    *, group_id: int | None, kind: str, payload: dict[str, Any], proposal: Proposal | None = None
) -> DecisionRecord:
    """Append a record to the group's (or, with None, the federation's) hash chain.

    Call inside a transaction. A concurrent append of the same seq fails on the unique
    (chain, seq) constraint and is retried by the caller's transaction.
    """
    chain = chain_name(group_id)
    last = DecisionRecord.objects.filter(chain=chain).order_by("-seq").first()
    seq = 0 if last is None else last.seq + 1
    prev = GENESIS_DIGEST if last is None else last.digest
    return DecisionRecord.objects.create(
        chain=chain,
        seq=seq,
        kind=kind,
        payload=payload,
        prev_digest=prev,
        digest=compute_digest(seq, kind, payload, prev),
        proposal=proposal,
        group_id=group_id,
    )


def _apply_effect(row: Proposal, decision: domain.Decision) -> dict[str, Any] | None:
    """Apply what an adopted decision does; return a record of it for the log."""
    if decision.outcome is not domain.Outcome.ADOPTED or not row.effect:
        return None
    if "admit_group" in row.effect:
        name = row.effect["admit_group"]
        if Group.objects.filter(name=name).exists():
            return {"admit_group": name, "applied": False, "why": "name taken meanwhile"}
        # The group exists from just after the decision that admitted it: at the
        # decision's own instant it was not yet a part of the federation's count.
        group = create_group(name=name, now=decision.at + dt.timedelta(microseconds=1))
        return {"admit_group": name, "applied": True, "group": group.pk}
    if "coordinator" in row.effect:
        from veche.apps.accounts.models import Member

        member = Member.objects.filter(pk=row.effect["coordinator"], is_active=True).first()
        if member is None or member.group_id != row.group_id:
            return {"coordinator": row.effect["coordinator"], "applied": False}
        start_coordinator_term(group=row.group, member=member, now=decision.at)
        return {"coordinator": member.pk, "applied": True}
    return None  # pragma: no cover - effects are only ever the two above


def issue_founding_invitation(*, row: Proposal, actor: Member) -> str:
    """Return a new founding invitation secret for the group an adopted decision admitted.

    Only the proposal's author can ask, once: the secret is shown once and never stored.
    """
    if actor.pk != row.author_id:
        raise NotEligible(_("only the proposal's author receives the founding invitation"))
    record = DecisionRecord.objects.filter(proposal=row).first()
    effect = (record.payload.get("effect") or {}) if record else {}
    if not effect.get("applied") or "admit_group" not in effect:
        raise DomainError(_("this decision did not admit a group"))

    def attempt() -> str:
        locked = Proposal.objects.select_for_update().get(pk=row.pk)
        if locked.effect.get("invitation_issued"):
            raise DomainError(_("the founding invitation was already issued"))
        group = Group.objects.get(pk=effect["group"])
        # The new group's first key is made now, by the author's request, which also
        # holds the federation's keys: the invitation carries both, nobody else has them.
        from veche.apps.accounts import keys as key_service

        held = keyring.current()
        keys = dict([key_service.new_key(keyring.group_scope(group.pk))])
        keys.update({k: held.get(k) for k in held if k.scope == keyring.FEDERATION})
        _invitation, secret = create_invitation(
            group=group, created_by=actor, as_coordinator=True, keys=keys
        )
        Proposal.objects.filter(pk=row.pk).update(
            effect={**locked.effect, "invitation_issued": True}
        )
        return secret

    return retrying(attempt)
