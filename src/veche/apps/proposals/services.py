"""Writes: every change to a proposal goes through :func:`record`, one transaction each.

``record`` locks the proposal, replays it, asks the domain whether the new event is
valid (``veche.domain.proposals.check``), stores it with the domain's codec, and in the
same transaction stores the proposal's summary and what waits for whom (its inbox rows).
The domain's rules are never re-implemented here.

**Settlement** is the other write: when a proposal's stored due time passes (a deadline),
:func:`settle` replays it at that instant, stores its summary, and if it has closed,
appends its decision to the hash-chained log and applies what the decision does (a new
group, a coordinator's term) by its kind's power, exactly once. It runs from
``veche settle`` and, before a request, for whatever has fallen due
(``middleware.SettleDueMiddleware``): never as a side effect of showing a page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from veche.apps.accounts import keys as key_service
from veche.apps.accounts.models import Member
from veche.apps.core import keyring
from veche.apps.core.writes import clean_text, retrying
from veche.apps.federation.models import CharterVersion, Group, GroupRulesVersion
from veche.apps.federation.selectors import (
    charter_in_force,
    charter_of,
    charter_version,
    get_charter,
    group_rules_in_force,
    rules_of,
)
from veche.apps.federation.services import (
    CannotRemove,
    create_group,
    create_invitation,
    note_decision,
    put_charter,
    put_group_rules,
    remove_member,
    start_coordinator_term,
)
from veche.apps.proposals import counting, selectors, signals
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
    Teller,
    chain_name,
)
from veche.crypto import CannotDecrypt, PrivateKey
from veche.crypto.election import (
    ElectionError,
    Record,
    combine,
    decryption_share,
    open_share,
)
from veche.domain import decisions_log
from veche.domain import proposals as domain
from veche.domain.charter import (
    Charter,
    DecisionKind,
    GroupRules,
    Power,
    Scope,
    apply_group_rules,
    check_amendment,
    check_group_rules,
)
from veche.domain.consensus import Position
from veche.domain.errors import (
    DomainError,
    InvalidCharter,
    InvalidEvent,
    NotEligible,
    ProposalClosed,
    _,
)

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_REASON = 4000
# How many fallen-due proposals one request settles before it is served.
SETTLE_BATCH = 25


class NeedsKey(Exception):
    """Settling this proposal needs content only its members' keys open (the caller has none)."""


# --- creating ------------------------------------------------------------------------------


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
    charter: Charter | None = None,
    group_rules: GroupRules | None = None,
    concerns: Member | None = None,
    meeting: Meeting | None = None,
    now: dt.datetime | None = None,
) -> Proposal:
    """Create and return a proposal; raise DomainError if the rules do not allow it.

    It is bound to the charter version in force now and, for a group's matter, to the
    group's own rules in force (decision 0090); a draft is bound again when published.
    An amendment carries the whole proposed ``charter``; a proposal of a group's own
    rules carries ``group_rules`` (decision 0091).
    ``concerns``: the member a removal names. ``meeting``: the proposal records a
    decision that meeting took (see :func:`record_meeting_decisions`, its only caller).
    """
    now = now or timezone.now()
    binding = _rules_in_force(kind_key, group_id=author.group_id)
    kind = binding.charter.kind(kind_key)
    title = clean_text(title, field="title", limit=MAX_TITLE)
    body = clean_text(body, field="body", limit=MAX_TEXT)
    seed = secrets.token_bytes(32)
    federation_wide = kind.scope is Scope.FEDERATION
    proposed = domain.create(
        proposal_id="new",
        kind=kind,
        author=str(author.pk),
        electorate=selectors.electorate(
            at=now, group_id=None if federation_wide else author.group_id
        ),
        at=now,
        seed=seed,
        urgent=urgent,
        deadline=deadline,
        options=options,
        mandate_scope=mandate_scope,
        draft=draft,
        from_meeting=meeting is not None,
        concerns=str(concerns.pk) if concerns is not None else None,
    )
    effect, group_name = _effect(
        kind, author, new_group_name, coordinator, concerns,
        binding=binding, proposed_charter=charter, group_rules=group_rules,
    )  # fmt: skip
    with transaction.atomic():
        row = Proposal.objects.create(
            kind_key=kind.key,
            charter_version=binding.version,
            group_rules_version=binding.rules_version,
            group_id=int(proposed.group),
            federation_wide=federation_wide,
            author=author,
            created_at=now,
            urgent=urgent,
            deadline=deadline,
            seed=seed,
            draft=draft,
            effect=effect,
            meeting=meeting,
            phase=domain.Phase.DRAFT if draft else domain.Phase.CONSENSUS,
        )
        # The encryption context names the row, so content is encrypted once it has an id.
        row.set_lists(list(proposed.options), list(proposed.mandate_scope))
        if group_name:
            row.set_admit_group_name(group_name)
        version = ProposalVersion(proposal=row, number=1, created_at=now)
        version.set_text(title, body)
        version.save()
        row.current_version = version
        row.save(
            update_fields=[
                "options_ct", "option_count", "mandate_scope_ct", "mandate_scope_count",
                "effect_ct", "current_version",
            ]
        )  # fmt: skip
        _store(selectors.load(row, now=now))
    return row


@dataclasses.dataclass(frozen=True)
class Binding:
    """The rules a proposal is made (or published) under: the charter version in force,
    the group's own rules in force (a group's matter), and the charter they make."""

    version: CharterVersion
    rules_version: GroupRulesVersion | None
    federation: Charter
    charter: Charter

    @property
    def rules(self) -> GroupRules:
        """Return the group's own rules in force (none for a federation matter)."""
        return rules_of(self.rules_version)


def _rules_in_force(kind_key: str, *, group_id: int | None) -> Binding:
    """Return the rules in force for a proposal of ``kind_key`` by a member of ``group_id``."""
    version = charter_in_force()
    if version is None:
        raise InvalidEvent(_("the federation is not set up yet"), field="kind")
    federation = charter_of(version)
    kind = federation.kind(kind_key)
    rules_version = None
    if kind.scope is Scope.GROUP and group_id is not None:
        rules_version = group_rules_in_force(group_id=group_id)
    charter = apply_group_rules(federation, rules_of(rules_version))
    return Binding(version, rules_version, federation, charter)


def _effect(
    kind: DecisionKind,
    author: Member,
    new_group_name: str,
    coordinator: Member | None,
    concerns: Member | None = None,
    *,
    binding: Binding,
    proposed_charter: Charter | None = None,
    group_rules: GroupRules | None = None,
) -> tuple[dict[str, Any], str]:
    """Return what adopting does, by the kind's power: structure, and a name to encrypt.

    A proposed charter, or a group's proposed rules, are structure: clear JSON, so that
    settling the decision needs nobody's key (decision 0091).
    """
    if kind.power is Power.AMEND_CHARTER:
        if proposed_charter is None:
            raise InvalidEvent(
                _("an amendment carries the whole new charter: use the amendment form"),
                field="kind",
            )
        check_amendment(binding.federation, proposed_charter)
        return {"charter": proposed_charter.to_dict()}, ""
    if kind.power is Power.GROUP_RULES:
        if group_rules is None:
            raise InvalidEvent(
                _("a proposal of the group's own rules carries them: use its form"),
                field="kind",
            )
        _check_new_rules(binding, group_rules)
        return {"group_rules": group_rules.to_dict()}, ""
    if kind.power is Power.ADMIT_GROUP:
        name = clean_text(new_group_name, field="new_group_name", limit=120)
        if Group.objects.filter(name=name).exists():
            raise InvalidEvent(_("a group with this name already exists"), field="new_group_name")
        return {}, name
    if kind.power is Power.CHOOSE_COORDINATOR:
        if coordinator is None:
            raise InvalidEvent(_("say who should coordinate the group"), field="coordinator")
        if coordinator.group_id != author.group_id or not coordinator.is_active:
            raise NotEligible(_("a coordinator comes from the group itself"), field="coordinator")
        return {"coordinator": coordinator.pk}, ""
    if kind.power is Power.REMOVE_MEMBER:
        # The domain checked the member belongs to the group (by id, at this instant);
        # an account that is no longer active cannot be removed again.
        assert concerns is not None  # noqa: S101 - domain.create refuses a removal without one
        if not concerns.is_active:
            raise NotEligible(
                _("only a member of the same group can be named for removal"), field="concerns"
            )
        return {"member": concerns.pk}, ""
    return {}, ""


# --- the one write path ----------------------------------------------------------------------


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


Event = domain.Event | Callable[[domain.ProposalState, dt.datetime], domain.Event]


def record(
    *,
    row: Proposal,
    event: Event,
    text: str = "",
    now: dt.datetime,
    also: Callable[[domain.Event], None] | None = None,
) -> selectors.Loaded:
    """Validate ``event`` with the domain and store it; return the proposal's new state.

    ``event`` is the event, or a function of the current state and the event's time
    that makes it (an amendment's version number follows the stored one). ``text`` is
    the words that go with it (encrypted); ``also`` stores anything else the event
    brings (a new version's text), in the same transaction.
    """

    def attempt() -> selectors.Loaded:
        at = _event_time(row, now)
        loaded = selectors.load(row, now=at)
        if callable(event) and not dataclasses.is_dataclass(event):
            happened = event(loaded.state, at)
        else:
            happened = dataclasses.replace(event, at=at)
        after = domain.check(loaded.proposal, loaded.events, happened, loaded.context, at)
        stored = domain.encode(happened)
        seq = ProposalEvent.objects.filter(proposal=row).count()
        ballot = getattr(happened, "ballot", None)
        secret = isinstance(happened, domain.BallotCast) and selectors.is_secret_ballot(loaded.kind)
        if isinstance(happened, domain.BallotCast) and not secret:
            # An open ballot is the event's words: encrypted like them.
            text_ = json.dumps(_plain(ballot))
        else:
            text_ = text
        row_event = ProposalEvent(
            proposal=row,
            seq=seq,
            type=stored.type,
            actor_id=int(stored.actor),
            at=at,
            data=dict(stored.data),
        )
        row_event.set_text(text_)
        row_event.save()
        receipt = ""
        if secret and selectors.counted_by_tellers(row, loaded.kind):
            # One encrypted row, in this same transaction as the roll's event: O(1).
            receipt = counting.seal_ballot(loaded, _plain(ballot))
        elif secret:
            # A vote begun in the old box before tellers existed finishes there.
            _put_in_box(row, selectors.ballot_round(loaded.kind), _plain(ballot))
        if also is not None:
            also(happened)
        result = dataclasses.replace(
            loaded, events=[*loaded.events, happened], state=after, receipt=receipt
        )
        _store(result)
        return result

    return retrying(attempt)


def _plain(ballot: Any) -> Any:
    if isinstance(ballot, tuple | list | set | frozenset):
        return list(ballot)
    return ballot


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


# --- what members do ------------------------------------------------------------------------


def publish(*, row: Proposal, actor: Member, now: dt.datetime | None = None) -> selectors.Loaded:
    """Open a draft for responses, under the rules in force now (decision 0090)."""
    now = now or timezone.now()
    with transaction.atomic():
        _bind_draft(row)
        return record(row=row, event=domain.Published(actor=str(actor.pk), at=now), now=now)


def _check_new_rules(binding: Binding, rules: GroupRules) -> None:
    """Raise unless a group may propose ``rules`` as its own under ``binding``."""
    check_group_rules(binding.federation, rules)
    if rules == binding.rules:
        raise InvalidCharter(_("these are the group's own rules already"), field="rules")


def _bind_draft(row: Proposal) -> None:
    """Bind a draft about to be published to the rules in force now.

    A draft waits under the version in force when it was written; publishing binds it
    to the version in force at publication, for ever. What it carries (a charter, a
    group's rules) must still make sense against that version. Call inside the
    transaction that publishes it: if publishing is refused, the binding goes too.
    """
    locked = Proposal.objects.select_for_update().get(pk=row.pk)
    if locked.phase != domain.Phase.DRAFT.value:
        return  # not a draft: publishing it is refused by the domain, with the reason
    binding = _rules_in_force(row.kind_key, group_id=None if row.federation_wide else row.group_id)
    kind = binding.charter.kind(row.kind_key)
    if kind.power is Power.AMEND_CHARTER:
        check_amendment(binding.federation, Charter.from_dict(row.effect.get("charter") or {}))
    if kind.power is Power.GROUP_RULES:
        _check_new_rules(binding, GroupRules.from_dict(row.effect.get("group_rules") or {}))
    row.charter_version = binding.version
    row.group_rules_version = binding.rules_version
    row.save(update_fields=["charter_version", "group_rules_version"])


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
    reason = clean_text(reason, field="reason", required=False, limit=MAX_REASON)
    domain.require_reason(position, reason)
    event = domain.Responded(member=str(member.pk), position=position, at=now, version=version)
    return record(row=row, event=event, text=reason, now=now)


def amend(
    *, row: Proposal, actor: Member, title: str, body: str, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Put a new version of the text; everyone's responses reset."""
    now = now or timezone.now()
    title = clean_text(title, field="title", limit=MAX_TITLE)
    body = clean_text(body, field="body", limit=MAX_TEXT)

    def amended(st: domain.ProposalState, at: dt.datetime) -> domain.Event:
        return domain.Amended(actor=str(actor.pk), at=at, version=st.version + 1)

    def new_version(event: domain.Event) -> None:
        assert isinstance(event, domain.Amended)  # noqa: S101 - made just above
        stored = ProposalVersion(proposal=row, number=event.version, created_at=event.at)
        stored.set_text(title, body)
        stored.save()
        Proposal.objects.filter(pk=row.pk).update(current_version=stored)
        row.current_version = stored

    return record(row=row, event=amended, now=now, also=new_version)


def withdraw(*, row: Proposal, actor: Member, now: dt.datetime | None = None) -> selectors.Loaded:
    """Withdraw the proposal (its author only)."""
    now = now or timezone.now()
    return record(row=row, event=domain.Withdrawn(actor=str(actor.pk), at=now), now=now)


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
    reason = clean_text(reason, field="reason", required=False, limit=MAX_REASON)
    domain.require_reason(position, reason)
    event = domain.GroupPositionCarried(
        coordinator=str(coordinator.pk), group=str(coordinator.group_id), position=position, at=now
    )
    return record(row=row, event=event, text=reason, now=now)


def cast_ballot(
    *, row: Proposal, voter: Member, ballot: Any, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Cast a ballot in the proposal's open vote (secret: stored apart from the roll)."""
    now = now or timezone.now()
    loaded = selectors.load(row, now=now)
    st = loaded.state
    if st.vote is None or st.phase not in (domain.Phase.VOTE, domain.Phase.SELECTION_VOTE):
        raise domain.ProposalClosed(_("there is no open vote on this proposal"))
    group_ballot = st.phase is domain.Phase.VOTE and loaded.proposal.spokes
    event = domain.BallotCast(
        voter=str(voter.pk),
        ballot=ballot,
        at=now,
        for_group=str(voter.group_id) if group_ballot else None,
    )
    return record(row=row, event=event, now=now)


class ShareResult(enum.StrEnum):
    """What a teller's signing in did to a vote being counted."""

    GIVEN = "given"  # their share is in; the vote waits for more tellers
    COUNTED = "counted"  # theirs completed the threshold: the vote is decided
    ALREADY = "already"  # nothing to do: given before, or the vote is already counted


def give_share(
    *,
    row: Proposal,
    teller: Member,
    private_key: PrivateKey | None,
    now: dt.datetime | None = None,
) -> ShareResult:
    """Give ``teller``'s decryption share of the closed vote's sums; count it with k shares.

    The teller's key share opens only with their private key (their logged-in session
    holds it). A share is given once: twice, or two requests at once, count once (the
    vote's row is locked while a share is added). With k shares the totals are
    recovered and recorded (``VoteCounted``): the domain decides by the method's rule,
    and the decision in the log names the board's digest. Raises NotEligible for a
    member who is not one of the vote's tellers, ProposalClosed when nothing is counting.
    """
    now = now or timezone.now()
    try:
        settle(row, now=now)  # the vote closes into COUNTING, its sums stored
    except NeedsKey:
        raise ProposalClosed(_("this vote is not being counted: it has not closed yet")) from None

    def attempt() -> ShareResult:
        Proposal.objects.select_for_update().filter(pk=row.pk).exists()
        row.refresh_from_db()
        loaded = selectors.load(row, now=now)
        vote = counting.vote_of(row, loaded.kind)
        seat = (
            Teller.objects.select_for_update().filter(vote=vote, member=teller).first()
            if vote is not None
            else None
        )
        if seat is None:
            raise NotEligible(_("only this vote's tellers give a share to count it"))
        if loaded.state.phase is not domain.Phase.COUNTING:
            if loaded.state.vote is not None and loaded.state.vote.result is not None:
                return ShareResult.ALREADY
            raise ProposalClosed(_("this vote is not being counted: it has not closed yet"))
        if seat.share:
            return ShareResult.ALREADY
        if private_key is None:
            raise NotEligible(_("log in again: counting needs your key"))
        manifest = counting.manifest_of(vote)  # type: ignore[arg-type]
        sums = counting.sums_of(vote)  # type: ignore[arg-type]
        try:
            key = open_share(manifest, seat.index, bytes(seat.sealed_share), private_key)
        except (CannotDecrypt, ElectionError):
            raise NotEligible(_("your key does not open your share of this vote")) from None
        share = decryption_share(manifest, key, sums)
        seat.share = share.to_bytes()
        seat.save(update_fields=["share"])
        shares = counting.given_shares(vote, manifest)  # type: ignore[arg-type]
        if len(shares) < manifest.threshold:
            return ShareResult.GIVEN
        cast = len(counting.stored_ballots(vote))  # type: ignore[arg-type]
        try:
            totals = combine(manifest, sums, shares, cast=cast)
        except ElectionError:
            # Every share was proven as it was made: this means stored data was altered.
            raise DomainError(_("the tellers' shares do not decrypt this vote's sums")) from None
        event = domain.VoteCounted(teller=str(teller.pk), totals=totals, cast=cast, at=now)
        record(row=row, event=event, now=now)
        return ShareResult.COUNTED

    return retrying(attempt)


def vote_record(row: Proposal) -> Record | None:
    """Return the counted secret vote's record (its bulletin board), or None.

    Only once the vote is counted; rebuilt from the stored rows, the record has the
    digest pinned at the count, which its decision names in the log (a mismatch is
    never served).
    """
    pinned = counting.pinned_board(row, selectors.bound_charter(row).kind(row.kind_key))
    if not pinned:
        return None
    found = counting.board(selectors.load(row))
    return found if found is not None and found.digest == pinned else None


def give_shares_on_login(
    *, member: Member, private_key: PrivateKey, now: dt.datetime | None = None
) -> int:
    """Give the member's share of every vote waiting for them as teller; return how many.

    Called when a member logs in (their key is at hand): a teller signing in is what
    counts a closed secret vote (decision 0131). A failure is never the login's.
    """
    waiting = Teller.objects.filter(
        member=member, share=b"", vote__proposal__closed_at__isnull=True
    ).values_list("vote__proposal_id", flat=True)
    given = 0
    for row in Proposal.objects.filter(pk__in=list(waiting)):
        try:
            done = give_share(row=row, teller=member, private_key=private_key, now=now)
        except DomainError:
            continue
        given += int(done is not ShareResult.ALREADY)
    return given


def volunteer(*, row: Proposal, member: Member, now: dt.datetime | None = None) -> selectors.Loaded:
    """Come forward as temporary coordinator."""
    now = now or timezone.now()
    return record(row=row, event=domain.Volunteered(member=str(member.pk), at=now), now=now)


def record_mandate_decision(
    *, row: Proposal, holder: Member, matter: str, text: str, now: dt.datetime | None = None
) -> selectors.Loaded:
    """The temporary coordinator records a decision on a matter within the mandate.

    ``matter`` is one of the proposal's mandate matters, by its words or its index; it
    is stored as the index, since the words are content.
    """
    now = now or timezone.now()
    text = clean_text(text, field="text", limit=MAX_REASON)
    labels = row.mandate_scope
    matter = str(labels.index(matter)) if matter in labels else matter
    event = domain.MandateDecisionRecorded(holder=str(holder.pk), matter=matter, at=now)
    return record(row=row, event=event, text=text, now=now)


def support_recall(
    *, row: Proposal, member: Member, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Support recalling the temporary coordinator now."""
    now = now or timezone.now()
    return record(row=row, event=domain.RecallSupported(member=str(member.pk), at=now), now=now)


def record_meeting(
    *,
    row: Proposal,
    recorder: Member,
    outcome: domain.Outcome,
    attendance: int,
    reached_by: domain.ReachedBy,
    notes: str,
    held_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> selectors.Loaded:
    """Record a decision reached at an in-person meeting (counts, never names)."""
    now = now or timezone.now()
    notes = clean_text(notes, field="notes", required=False, limit=MAX_REASON)
    event = domain.MeetingRecorded(
        recorder=str(recorder.pk),
        outcome=outcome,
        attendance=attendance,
        reached_by=reached_by,
        at=now,
        held_on=held_on,
    )
    return record(row=row, event=event, text=notes, now=now)


@dataclasses.dataclass(frozen=True)
class TakenAtMeeting:
    """One decision a meeting took, as its record states it."""

    kind_key: str
    title: str
    text: str
    outcome: domain.Outcome = domain.Outcome.ADOPTED
    reached_by: domain.ReachedBy = domain.ReachedBy.CONSENSUS
    # The member it names (choosing a coordinator, removing a member), by the kind's power.
    member: Member | None = None


MAX_MEETING_DECISIONS = 10


def record_meeting_decisions(
    *,
    recorder: Member,
    held_on: dt.date,
    attendance: int,
    decisions: Sequence[TakenAtMeeting],
    notes: str = "",
    now: dt.datetime | None = None,
) -> Meeting:
    """Record decisions an in-person meeting of the recorder's group took; return it.

    Each decision becomes a proposal made from the meeting, whose first event is the
    meeting's record (the domain checks the day, the attendance and who records); all of
    them or none are stored. Others present then confirm (:func:`confirm_meeting_record`).
    """
    now = now or timezone.now()
    notes = clean_text(notes, field="notes", required=False, limit=MAX_TEXT)
    if not decisions:
        raise InvalidEvent(_("record at least one decision the meeting took"), field="decisions")
    if len(decisions) > MAX_MEETING_DECISIONS:
        raise InvalidEvent(
            _("at most %(n)d decisions in one record"),
            params={"n": MAX_MEETING_DECISIONS},
            field="decisions",
        )
    group = Group.objects.filter(pk=recorder.group_id, dissolved_at__isnull=True).first()
    if group is None or not recorder.is_active:
        raise NotEligible(_("only a member of a group can propose"), field="author")
    with transaction.atomic():
        meeting = Meeting.objects.create(
            group=group, recorder=recorder, held_on=held_on, attendance=attendance,
            recorded_at=now,
        )  # fmt: skip
        meeting.set_notes(notes)
        meeting.save(update_fields=["notes_ct"])
        for index, taken in enumerate(decisions):
            try:
                _record_taken(meeting, taken, now)
            except DomainError as error:
                raise MeetingDecisionRefused(index, error) from error
    return meeting


class MeetingDecisionRefused(DomainError):
    """One decision of a meeting's record was refused: the domain's reason, and which one."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(error.template, field=error.field, params=error.params)
        self.index = index
        self.code = error.code


def _record_taken(meeting: Meeting, taken: TakenAtMeeting, now: dt.datetime) -> None:
    charter = get_charter()
    if charter is None:
        raise InvalidEvent(_("the federation is not set up yet"), field="kind")
    power = charter.kind(taken.kind_key).power
    row = create_proposal(
        author=meeting.recorder,
        kind_key=taken.kind_key,
        title=taken.title,
        body=taken.text,
        coordinator=taken.member if power is Power.CHOOSE_COORDINATOR else None,
        concerns=taken.member if power is Power.REMOVE_MEMBER else None,
        meeting=meeting,
        now=now,
    )
    event = domain.MeetingRecorded(
        recorder=str(meeting.recorder_id),
        outcome=taken.outcome,
        attendance=meeting.attendance,
        reached_by=taken.reached_by,
        at=now,
        held_on=meeting.held_on,
    )
    record(row=row, event=event, now=now)


def confirm_meeting_record(
    *, meeting: Meeting, member: Member, now: dt.datetime | None = None
) -> int:
    """Confirm, as someone present, every decision of the meeting still awaiting it.

    Returns how many were confirmed; raises the domain's reason when none could be (the
    recorder, someone who joined after the meeting, someone who already confirmed).
    """
    now = now or timezone.now()
    confirmed = 0
    refusal: DomainError | None = None
    with transaction.atomic():
        rows = Proposal.objects.filter(meeting=meeting, closed_at__isnull=True).order_by("pk")
        for row in rows:
            try:
                confirm_meeting(row=row, member=member, now=now)
            except DomainError as error:
                refusal = refusal or error
            else:
                confirmed += 1
        if not confirmed:
            raise refusal or ProposalClosed(_("nothing of this meeting awaits confirmation"))
    return confirmed


# --- reminders -------------------------------------------------------------------------------


def remind(*, row: Proposal, by: Member, now: dt.datetime | None = None) -> int:
    """Remind the members of ``by``'s own group whom the proposal still waits for.

    Marks their inbox rows reminded (``Awaiting.reminded_at``): the item comes to the
    top of their inbox, saying a fellow member reminded them. Idempotent, and at most
    once per :data:`selectors.REMIND_EVERY` for each member and proposal; never anyone of another
    group, never oneself. Returns how many were reminded now.
    """
    now = now or timezone.now()
    if row.closed_at is not None or row.phase == domain.Phase.CLOSED:
        raise ProposalClosed(_("the proposal is closed: there is nothing to remind of"))
    if by.group_id is None or not by.is_active:
        raise NotEligible(_("only a member of the group can remind its members"))
    waiting = (
        selectors.not_yet_responded(row, group_id=by.group_id)
        .exclude(member=by)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - selectors.REMIND_EVERY))
    )
    return Awaiting.objects.filter(pk__in=list(waiting.values_list("pk", flat=True))).update(
        reminded_at=now
    )


def confirm_meeting(
    *, row: Proposal, member: Member, now: dt.datetime | None = None
) -> selectors.Loaded:
    """Confirm, as someone present, the meeting record of the proposal."""
    now = now or timezone.now()
    return record(row=row, event=domain.MeetingConfirmed(member=str(member.pk), at=now), now=now)


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
        comment.save(update_fields=["body_ct", "html_ct", "html_of"])
    return comment


# --- the summary, and settling ------------------------------------------------------------------


def _store(loaded: selectors.Loaded) -> None:
    """Store the proposal's summary and inbox rows; if it has closed, settle its decision.

    Call inside the transaction that wrote what changed it, with the proposal locked.
    """
    row, st = loaded.row, loaded.state
    summary = domain.summarise(st)
    # Settling it at its deadline will read ballots, or decrypt what it would do.
    needs_key = summary.due_reads_ballots or (bool(row.effect_ct) and summary.due_at is not None)
    fields: dict[str, Any] = {
        "phase": summary.phase.value,
        "version": summary.version,
        "opened_at": summary.opened_at,
        "due_at": summary.due_at,
        "due_reads_ballots": needs_key,
        "eligible_count": summary.eligible,
        "responded_count": summary.responded,
        "positions": dict(summary.positions),
        "ballots_cast": summary.ballots_cast,
        "vote_eligible": summary.vote_eligible,
        "holder_id": int(summary.holder) if summary.holder else None,
        "mandate_started_at": summary.mandate_started_at,
        "last_activity_at": summary.last_activity_at,
    }
    Proposal.objects.filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)
    if st.vote is not None and st.vote.counted_by_tellers and st.phase in _TELLERS_PHASES:
        vote = counting.ensure_dealt(loaded)
        if vote is not None and st.phase is domain.Phase.COUNTING:
            counting.close_sums(vote)
    _sync_waits(row, counting.waits_with_tellers(loaded, summary.waits))
    if st.vote is not None and st.vote.counted_by_tellers and st.vote.result is not None:
        counting.pin_board(loaded)
    if st.decision is not None and row.closed_at is None:
        _record_decision(loaded, st.decision)


_TELLERS_PHASES = frozenset({domain.Phase.VOTE, domain.Phase.SELECTION_VOTE, domain.Phase.COUNTING})


def _sync_waits(row: Proposal, waits: Mapping[str, tuple[domain.Wait, ...]]) -> None:
    wanted = {(int(m), w.value) for m, ws in waits.items() if m.isdigit() for w in ws}
    have = set(Awaiting.objects.filter(proposal=row).values_list("member_id", "wait"))
    gone = have - wanted
    if gone:
        stale = Q()
        for member_id, wait in gone:
            stale |= Q(member_id=member_id, wait=wait)
        Awaiting.objects.filter(stale, proposal=row).delete()
    Awaiting.objects.bulk_create(
        [Awaiting(proposal=row, member_id=m, wait=w) for m, w in sorted(wanted - have)]
    )


def settle(row: Proposal, *, now: dt.datetime | None = None) -> selectors.Loaded:
    """Bring the proposal's stored summary up to ``now``; record its decision if it closed.

    Raises NeedsKey (or BallotsUnreadable) when that needs content this caller cannot open.
    """
    now = now or timezone.now()

    def attempt() -> selectors.Loaded:
        Proposal.objects.select_for_update().filter(pk=row.pk).exists()
        row.refresh_from_db()
        loaded = selectors.load(row, now=now)
        _store(loaded)
        return loaded

    try:
        return retrying(attempt)
    except selectors.BallotsUnreadable as missing:
        raise NeedsKey from missing


def held_scopes() -> frozenset[str]:
    """Return the key scopes the current keyring (a member's request, the demo) holds."""
    return frozenset(key.scope for key in keyring.current())


def due(*, now: dt.datetime | None = None, scopes: frozenset[str] | None = None) -> Any:
    """Return the open proposals whose stored due time has passed, the earliest first.

    Of those that need a key, only the ones ``scopes`` open (default: the keys the current
    keyring holds; the command line holds none).
    """
    now = now or timezone.now()
    scopes = held_scopes() if scopes is None else scopes
    rows = Proposal.objects.filter(closed_at__isnull=True, due_at__lte=now).exclude(
        federation_wide=False, group__dissolved_at__isnull=False
    )
    readable = Q(due_reads_ballots=False)
    if keyring.FEDERATION in scopes:
        readable |= Q(federation_wide=True)
    groups = [int(s[1:]) for s in scopes if s != keyring.FEDERATION and s[1:].isdigit()]
    if groups:
        readable |= Q(federation_wide=False, group_id__in=groups)
    return rows.filter(readable).order_by("due_at", "pk")


def settle_due(
    *,
    now: dt.datetime | None = None,
    scopes: frozenset[str] | None = None,
    limit: int | None = None,
) -> int:
    """Settle proposals that have fallen due (see :func:`due`); return how many closed."""
    now = now or timezone.now()
    closed = 0
    rows = due(now=now, scopes=scopes)
    for row in rows[:limit] if limit else rows:
        try:
            loaded = settle(row, now=now)
        except NeedsKey:
            continue
        closed += int(loaded.state.decision is not None)
    return closed


def open_in(group: Group | None) -> Any:
    """Return the open proposals a change to ``group`` (None: any) can touch."""
    rows = Proposal.objects.filter(closed_at__isnull=True)
    if group is None:
        return rows
    return rows.filter(Q(federation_wide=True) | Q(group=group))


def mark_due(rows: Any, *, now: dt.datetime | None = None) -> int:
    """Make open proposals fall due now (membership changed: their summaries must follow)."""
    now = now or timezone.now()
    quiet.wake()
    return rows.filter(closed_at__isnull=True).update(due_at=now)


def soonest_due() -> dt.datetime | None:
    """Return the earliest stored due time of any open proposal (None: nothing will fall due)."""
    return (
        Proposal.objects.filter(closed_at__isnull=True, due_at__isnull=False)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )


class _Quiet:
    """Until when this process knows nothing falls due: a page skips the check till then.

    Known from the earliest stored due time, and never for more than ``LONGEST`` seconds,
    so that what another process marks due is seen soon; a mark here wakes it at once.
    """

    LONGEST = dt.timedelta(seconds=10)

    def __init__(self) -> None:
        self.since: dt.datetime | None = None
        self.until: dt.datetime | None = None

    def is_quiet(self, now: dt.datetime) -> bool:
        # Wall-clock time, as deadlines are: a clock that stepped back checks again.
        return self.until is not None and self.since is not None and self.since <= now < self.until

    def learn(self, soonest: dt.datetime | None, now: dt.datetime) -> None:
        latest = now + self.LONGEST
        self.since, self.until = now, latest if soonest is None else min(soonest, latest)

    def wake(self) -> None:
        self.since = self.until = None


quiet = _Quiet()


# --- decisions into the log, and what they do ---------------------------------------------------


def _record_decision(loaded: selectors.Loaded, decision: domain.Decision) -> None:
    row = loaded.row
    group_id = None if row.federation_wide else row.group_id
    payload = decision.to_payload()
    board = counting.pinned_board(row, loaded.kind)
    if board:
        # The decision names the bulletin board it was counted from: anyone holding the
        # record checks its digest against the log (docs/ballots.md §9).
        payload["board"] = board
    payload["effect"] = _apply_effect(row, loaded.kind, decision)
    try:
        with transaction.atomic():
            logged = append_to_log(
                group_id=group_id, kind="decision", payload=payload, proposal=row
            )
    except IntegrityError:
        # Someone else settled it at the same moment (the proposal's one record is theirs).
        row.refresh_from_db()
        return
    _note_new_version(row, payload["effect"], logged)
    fields = {
        "closed_at": decision.at,
        "outcome": decision.outcome.value,
        "reached_by": decision.reached_by.value,
        # What the decision did may have made open proposals due (membership changed),
        # this one among them: closed, it has nothing due.
        "due_at": None,
    }
    Proposal.objects.filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)
    if BallotBox.objects.filter(proposal=row, sealed=False).update(sealed=True):
        transaction.on_commit(_erase_old_ballot_boxes)
    signals.proposal_decided.send(sender=Proposal, proposal=row, decision=decision)


def _erase_old_ballot_boxes() -> None:
    """Make the database forget earlier versions of ballot boxes once a vote has closed.

    Each cast rewrote the box; an old version, if it survived on disk, would show which
    ballot arrived between two casts. SQLite zeroes replaced content (secure_delete) but
    keeps page images in the write-ahead log until a checkpoint: force one. PostgreSQL
    keeps dead row versions until a vacuum: VACUUM FULL rewrites the (small) table.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            cursor.execute(f"VACUUM FULL {BallotBox._meta.db_table}")


def append_to_log(
    *, group_id: int | None, kind: str, payload: dict[str, Any], proposal: Proposal | None = None
) -> DecisionRecord:
    """Append a record to the group's (or, with None, the federation's) hash chain.

    The domain builds the record (``decisions_log.append_after``: its payload checks and
    digest). Call inside a transaction: a concurrent append of the same seq fails on the
    unique (chain, seq) constraint and is retried by the caller's transaction.
    """
    chain = chain_name(group_id)
    last = selectors.last_record(chain)
    previous = selectors.to_record(last) if last is not None else None
    record_ = decisions_log.append_after(previous, kind, payload)
    row = DecisionRecord.objects.create(
        chain=chain,
        seq=record_.seq,
        kind=record_.kind,
        payload=record_.payload,
        prev_digest=record_.prev_digest,
        digest=record_.digest,
        proposal=proposal,
        group_id=group_id,
    )
    # A chain checked to its end stays so: the new record is checked as it is linked
    # (decision 0137). A chain whose check lags (never checked, or its last record no
    # longer what the check saw) keeps its checkpoint: pages check from there.
    checked = selectors.checkpoint(chain)
    checked_head = selectors.head_of(checked)
    if decisions_log.extends_checked(checked_head, previous):
        if checked is None:
            ChainCheckpoint.objects.create(chain=chain, seq=record_.seq, digest=record_.digest)
        else:
            ChainCheckpoint.objects.filter(pk=checked.pk).update(
                seq=record_.seq, digest=record_.digest
            )
    return row


def check_chain(chain: str, *, now: dt.datetime | None = None) -> decisions_log.VerifyReport:
    """Verify the whole chain and, if intact, move its checkpoint to its end (``veche verify``)."""
    records = selectors.log_records(chain)
    checked = selectors.checked_head(chain)
    # Against what was verified before too: a re-hashed or cut end must not become the
    # new checkpoint.
    report = (
        decisions_log.verify(records)
        if checked is None
        else decisions_log.verify_against(records, checked)
    )
    if report.ok and records:
        ChainCheckpoint.objects.update_or_create(
            chain=chain,
            defaults={
                "seq": records[-1].seq,
                "digest": records[-1].digest,
                "checked_seq": records[-1].seq,
                "checked_at": now or timezone.now(),
            },
        )
    return report


def _apply_effect(
    row: Proposal, kind: DecisionKind, decision: domain.Decision
) -> dict[str, Any] | None:
    """Apply what an adopted decision does, by its kind's power; return a record of it."""
    if decision.outcome is not domain.Outcome.ADOPTED:
        return None
    if kind.power is Power.ADMIT_GROUP:
        # Proposals made before names were encrypted kept theirs in clear (migration 0003).
        name = row.admit_group_name or str(row.effect.get("admit_group", ""))
        if not name:
            raise NeedsKey
        if Group.objects.filter(name=name).exists():
            return {"power": kind.power.value, "applied": False, "why": "name taken meanwhile"}
        # The group exists from just after the decision that admitted it: at the
        # decision's own instant it was not yet a part of the federation's count.
        group = create_group(name=name, now=decision.at + dt.timedelta(microseconds=1))
        return {"power": kind.power.value, "applied": True, "group": group.pk}
    if kind.power is Power.AMEND_CHARTER:
        return _amend_charter(row, decision)
    if kind.power is Power.GROUP_RULES:
        return _adopt_group_rules(row, decision)
    if kind.power is Power.CHOOSE_COORDINATOR and "coordinator" in row.effect:
        member = Member.objects.filter(pk=row.effect["coordinator"], is_active=True).first()
        if member is None or member.group_id != row.group_id:
            return {"power": kind.power.value, "coordinator": row.effect["coordinator"],
                    "applied": False}  # fmt: skip
        start_coordinator_term(group=row.group, member=member, now=decision.at)
        return {"power": kind.power.value, "coordinator": member.pk, "applied": True}
    if kind.power is Power.REMOVE_MEMBER and "member" in row.effect:
        return _remove_by_decision(row, decision)
    return None


def _amend_charter(row: Proposal, decision: domain.Decision) -> dict[str, Any]:
    """Put the adopted charter in force as the next version; return the log's record of it.

    Only if the version it was proposed against (the one it is bound to) is still in
    force: otherwise another amendment came in meanwhile, and putting this whole charter
    in force would silently undo it. Members see why and may propose it again.
    """
    done: dict[str, Any] = {"power": Power.AMEND_CHARTER.value}
    in_force = charter_in_force()
    if in_force is None or in_force.pk != row.charter_version_id:
        return {**done, "applied": False, "why": "charter_changed"}
    try:
        proposed = Charter.from_dict(row.effect.get("charter") or {})
        check_amendment(charter_of(in_force), proposed)
    except InvalidCharter:
        return {**done, "applied": False, "why": "invalid"}
    version = put_charter(charter=proposed, at=decision.at, proposal_id=row.pk)
    return {**done, "applied": True, "version": version.number, "digest": version.digest}


def _adopt_group_rules(row: Proposal, decision: domain.Decision) -> dict[str, Any]:
    """Put a group's adopted own rules in force; return the log's record of it.

    Only if the group's rules it was proposed against are still in force, and the
    charter in force still allows them.
    """
    done: dict[str, Any] = {"power": Power.GROUP_RULES.value}
    in_force = group_rules_in_force(group_id=row.group_id)
    if (in_force.pk if in_force else None) != row.group_rules_version_id:
        return {**done, "applied": False, "why": "rules_changed"}
    charter = charter_in_force()
    try:
        rules = GroupRules.from_dict(row.effect.get("group_rules") or {})
        if charter is None:
            raise InvalidCharter(_("the federation is not set up yet"))
        check_group_rules(charter_of(charter), rules)
    except InvalidCharter:
        return {**done, "applied": False, "why": "out_of_bounds"}
    version = put_group_rules(group=row.group, rules=rules, at=decision.at, proposal_id=row.pk)
    return {**done, "applied": True, "version": version.number, "digest": version.digest}


def _note_new_version(row: Proposal, effect: Any, logged: DecisionRecord) -> None:
    """Name, on a version a decision put in force, the decision record in the log."""
    if not isinstance(effect, dict) or not effect.get("applied") or "version" not in effect:
        return
    version: CharterVersion | GroupRulesVersion | None = None
    if effect.get("power") == Power.AMEND_CHARTER.value:
        version = charter_version(number=effect["version"])
    elif effect.get("power") == Power.GROUP_RULES.value:
        version = GroupRulesVersion.objects.filter(
            group_id=row.group_id, number=effect["version"]
        ).first()
    if version is not None:
        note_decision(version, seq=logged.seq, record_digest=logged.digest)


def _remove_by_decision(row: Proposal, decision: domain.Decision) -> dict[str, Any]:
    """Remove the member an adopted removal names, as the group decided (keys rotate)."""
    named = row.effect["member"]
    member = Member.objects.filter(pk=named).first()
    try:
        if member is None:
            raise CannotRemove
        remove_member(group=row.group, member=member, by=None, decision=row.pk, now=decision.at)
    except CannotRemove:
        # Gone meanwhile (removed otherwise, or their account ended): nothing to do.
        return {"power": Power.REMOVE_MEMBER.value, "member": named, "applied": False}
    return {"power": Power.REMOVE_MEMBER.value, "member": named, "applied": True}


def issue_founding_invitation(*, row: Proposal, actor: Member) -> str:
    """Return a new founding invitation secret for the group an adopted decision admitted.

    Only the proposal's author can ask, once: the secret is shown once and never stored.
    """
    if actor.pk != row.author_id:
        raise NotEligible(_("only the proposal's author receives the founding invitation"))
    record_ = DecisionRecord.objects.filter(proposal=row).first()
    effect = (record_.payload.get("effect") or {}) if record_ else {}
    admitted = effect.get("power") == Power.ADMIT_GROUP.value or "admit_group" in effect
    if not effect.get("applied") or not admitted:
        raise DomainError(_("this decision did not admit a group"))

    def attempt() -> str:
        locked = Proposal.objects.select_for_update().get(pk=row.pk)
        if locked.invitation_issued:
            raise DomainError(_("the founding invitation was already issued"))
        group = Group.objects.get(pk=effect["group"])
        # The new group's first key is made now, by the author's request, which also
        # holds the federation's keys: the invitation carries both, nobody else has them.
        held = keyring.current()
        keys = dict([key_service.new_key(keyring.group_scope(group.pk))])
        keys.update({k: held.get(k) for k in held if k.scope == keyring.FEDERATION})
        _invitation, secret = create_invitation(
            group=group, created_by=actor, as_coordinator=True, keys=keys
        )
        Proposal.objects.filter(pk=row.pk).update(invitation_issued=True)
        return secret

    return retrying(attempt)
