"""Writes to the fund: every posting goes through :func:`_post`, one transaction each.

Each use case checks who may act and on whose authority, builds the transaction with
``veche.domain.ledger``'s builders, lets :func:`veche.domain.ledger.post` accept or
refuse it against the ledger as stored, and only then stores it as the next record of
the fund's hash chain. Nothing here re-implements a ledger rule.

Concurrency: every posting first locks the common fund's account row (PostgreSQL;
SQLite's IMMEDIATE transactions already serialise writers), so balances checked are
balances stored. The unique constraints on the chain position, the authorising
decision and the form token are the last line: a racing duplicate fails, is retried,
and is then refused with a reason.

Who decides what (docs/decisions/0041-fund-flows.md):
- a contribution is recorded by a coordinator of the contributing group;
- a disbursement only on an adopted federation decision of a kind with a disbursing
  power that is linked to a request for money; it pays the requested sum into the
  requesting group's account, once;
- a transfer only on an adopted decision of the giving group of a kind with the power to
  transfer.

What may authorise a payment is the domain's :func:`veche.domain.ledger.authorise`;
this module only finds the decision and the request it names.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from veche.apps.accounts.models import Member
from veche.apps.core.writes import clean_text, retrying
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import get_charter, is_coordinator
from veche.apps.fund import selectors
from veche.apps.fund.models import (
    Account,
    AwaitingAnswer,
    Balance,
    Entry,
    FundTransaction,
    HelpAnswer,
    SupportRequest,
)
from veche.apps.proposals.models import DecisionRecord, Proposal
from veche.apps.proposals.selectors import bound_charter
from veche.apps.proposals.services import create_proposal
from veche.domain import ledger
from veche.domain.charter import Scope
from veche.domain.decisions_log import GENESIS_DIGEST, compute_digest
from veche.domain.errors import DomainError, InvalidEvent, LedgerError, NotEligible, _
from veche.domain.proposals import Decision, Outcome

T = TypeVar("T")


def _retry(action: Callable[[], T]) -> T:
    return retrying(action, busy=_("the fund is busy; please try again"))


MAX_PURPOSE = 4000
MAX_MEMO = 1000


def _token(key: str) -> str:
    key = (key or "").strip()
    if not (8 <= len(key) <= 64) or not key.replace("-", "").replace("_", "").isalnum():
        raise InvalidEvent(_("the form has expired; please fill it in again"), field="token")
    return key


def _not_used(model: type[Any], key: str) -> None:
    if model.objects.filter(idempotency_key=key).exists():
        raise InvalidEvent(_("this form was already submitted; nothing was changed"), field="token")


def new_token() -> str:
    """Return a fresh form token (a hidden field: one form, one posting)."""
    return secrets.token_urlsafe(24)


def _require_coordinator(member: Member) -> Group:
    group = Group.objects.filter(pk=member.group_id, dissolved_at__isnull=True).first()
    if group is None or not is_coordinator(member=member, group=group):
        raise NotEligible(
            _(
                "only a coordinator of a group can do this for the group: ask one of your "
                "group's coordinators (the fund page names them)"
            )
        )
    return group


def _money(amount: int, currency: str) -> ledger.Money:
    money = ledger.Money(amount, currency)
    if money.amount <= 0:
        raise LedgerError(_("the amount must be more than zero"), field="amount")
    return money


# --- accounts -----------------------------------------------------------------------------


def _account(kind: Account.Kind, group: Group | None) -> Account:
    key = selectors.account_key(kind, group.pk if group else None)
    row = Account.objects.filter(key=key).first()
    if row is None:
        # Contributions received is a contra account: it goes negative by design.
        negative = kind == Account.Kind.CONTRIBUTIONS_RECEIVED or (
            kind == Account.Kind.DISBURSEMENTS_PAID
        )
        row = Account.objects.create(key=key, kind=kind, group=group, may_go_negative=negative)
    return row


def _lock_fund() -> Account:
    fund = _account(Account.Kind.FEDERATION_FUND, None)
    return Account.objects.select_for_update().get(pk=fund.pk)


# --- the one write path -------------------------------------------------------------------


def _post(
    build: Callable[[str, dt.datetime], ledger.Transaction],
    *,
    actor: Member,
    group: Group | None,
    now: dt.datetime,
    memo: str = "",
    decision: DecisionRecord | None = None,
    request: SupportRequest | None = None,
    idempotency_key: str | None = None,
) -> FundTransaction:
    """Store the transaction ``build`` makes, if the ledger accepts it; call inside _retry."""
    uid = f"tx-{secrets.token_hex(8)}"
    candidate = build(uid, now)
    # The stored running totals stand for the history: posting reads no old transaction.
    ledger.post(selectors.resume_ledger(candidate), candidate)  # raises LedgerError
    last = FundTransaction.objects.order_by("-seq").first()
    seq = 0 if last is None else last.seq + 1
    prev = GENESIS_DIGEST if last is None else last.digest
    payload = ledger.to_payload(candidate)
    row = FundTransaction.objects.create(
        uid=uid,
        seq=seq,
        kind=candidate.kind.value,
        at=candidate.at,
        group=group,
        recorded_by=actor,
        decision=decision,
        request=request,
        idempotency_key=idempotency_key,
        memo=memo,
        payload=payload,
        prev_digest=prev,
        digest=compute_digest(seq, "transaction", payload, prev),
    )
    accounts = {
        a.key: a for a in Account.objects.filter(key__in={e.account_id for e in candidate.entries})
    }
    for entry in candidate.entries:
        account = accounts[entry.account_id]
        total, _created = Balance.objects.get_or_create(
            account=account, currency=entry.money.currency
        )
        total.amount += entry.money.amount
        total.save(update_fields=["amount"])
        Entry.objects.create(
            transaction=row,
            account=account,
            amount=entry.money.amount,
            currency=entry.money.currency,
            balance_after=total.amount,
        )
    return row


FUND_SHORT = _(
    "the common fund holds %(held)s, less than the %(amount)s decided: it can be paid "
    "once contributions cover it"
)
GROUP_SHORT = _(
    "your group's account holds %(held)s, less than the %(amount)s to transfer: "
    "transfer at most what it holds"
)


def _covers(account_key: str, money: ledger.Money, refusal: str) -> None:
    """Raise ``refusal`` (with what is held and what is asked) if the account holds less."""
    held = (
        Balance.objects.filter(account__key=account_key, currency=money.currency)
        .values_list("amount", flat=True)
        .first()
    ) or 0
    if held < money.amount:
        raise LedgerError(
            refusal,
            field="amount",
            params={
                "held": selectors.format_money(held, money.currency),
                "amount": selectors.format_money(money.amount, money.currency),
            },
        )


def _memo_ref(memo: str) -> str | None:
    # The chain names that a memo exists, never what it says (it will be encrypted).
    return f"memo-{secrets.token_hex(8)}" if memo else None


# --- contributions ------------------------------------------------------------------------


def contribute(
    *,
    actor: Member,
    amount: int,
    currency: str,
    memo: str = "",
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> FundTransaction:
    """Record money the actor's group gave to the fund (coordinators only)."""
    now = now or timezone.now()
    group = _require_coordinator(actor)
    money = _money(amount, currency)
    memo = clean_text(memo, field="memo", limit=MAX_MEMO, required=False)
    key = _token(idempotency_key)

    def attempt() -> FundTransaction:
        _not_used(FundTransaction, key)
        fund = selectors.to_domain_account(_lock_fund())
        contributor = selectors.to_domain_account(
            _account(Account.Kind.CONTRIBUTIONS_RECEIVED, group)
        )
        return _post(
            lambda uid, at: ledger.contribution(
                uid, fund=fund, contributor=contributor, money=money, at=at,
                memo_ref=_memo_ref(memo),
            ),
            actor=actor, group=group, now=now, memo=memo, idempotency_key=key,
        )  # fmt: skip

    return _retry(attempt)


# --- requests for support -----------------------------------------------------------------


def disbursement_kind_for(money: ledger.Money) -> str:
    """Return the key of the decision kind that decides a request for ``money`` (charter)."""
    charter = get_charter()
    if charter is None:
        raise InvalidEvent(_("the federation is not set up yet"))
    return charter.disbursement_kind(money.amount, money.currency).key


def request_money(
    *,
    actor: Member,
    amount: int,
    currency: str,
    purpose: str,
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> SupportRequest:
    """Ask the federation for money: the request and its federation proposal, together."""
    now = now or timezone.now()
    group = _require_coordinator(actor)
    money = _money(amount, currency)
    purpose = clean_text(purpose, field="purpose", limit=MAX_PURPOSE)
    key = _token(idempotency_key)
    shown = selectors.format_money(money.amount, money.currency)

    def attempt() -> SupportRequest:
        _not_used(SupportRequest, key)
        # Written in the language of the coordinator who asks, as if they had typed it.
        words = {"group": group.name, "amount": shown}
        proposal = create_proposal(
            author=actor,
            kind_key=disbursement_kind_for(money),
            title=gettext("Request to the common fund: %(amount)s for %(group)s") % words,
            body=gettext("%(group)s asks the common fund for %(amount)s.") % words
            + f"\n\n{purpose}",
            now=now,
        )
        return SupportRequest.objects.create(
            group=group,
            kind=SupportRequest.Kind.MONEY,
            amount=money.amount,
            currency=money.currency,
            purpose=purpose,
            state=SupportRequest.State.DECIDING,
            proposal=proposal,
            created_by=actor,
            created_at=now,
            idempotency_key=key,
        )

    return _retry(attempt)


def request_help(
    *, actor: Member, purpose: str, idempotency_key: str, now: dt.datetime | None = None
) -> SupportRequest:
    """Ask the other groups for help and advice."""
    now = now or timezone.now()
    group = _require_coordinator(actor)
    purpose = clean_text(purpose, field="purpose", limit=MAX_PURPOSE)
    key = _token(idempotency_key)

    def attempt() -> SupportRequest:
        _not_used(SupportRequest, key)
        row = SupportRequest.objects.create(
            group=group,
            kind=SupportRequest.Kind.HELP,
            purpose=purpose,
            state=SupportRequest.State.OPEN,
            created_by=actor,
            created_at=now,
            idempotency_key=key,
        )
        # It waits in the inbox of every other group's coordinators until they answer.
        others = Group.objects.filter(dissolved_at__isnull=True).exclude(pk=group.pk)
        AwaitingAnswer.objects.bulk_create(
            AwaitingAnswer(request=row, group=other) for other in others
        )
        return row

    return _retry(attempt)


def answer_help(
    *,
    actor: Member,
    request: SupportRequest,
    text: str,
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> HelpAnswer:
    """Answer another group's request for help, as a coordinator of one's own group."""
    now = now or timezone.now()
    group = _require_coordinator(actor)
    if request.kind != SupportRequest.Kind.HELP:
        raise InvalidEvent(_("only requests for help are answered here"))
    if request.group_id == group.pk:
        raise NotEligible(_("other groups answer a group's request for help"))
    if request.state != SupportRequest.State.OPEN:
        raise InvalidEvent(_("this request is closed: its group no longer takes answers"))
    text = clean_text(text, field="text", limit=MAX_PURPOSE)
    key = _token(idempotency_key)

    def attempt() -> HelpAnswer:
        _not_used(HelpAnswer, key)
        AwaitingAnswer.objects.filter(request=request, group=group).delete()
        return HelpAnswer.objects.create(
            request=request, group=group, author=actor, created_at=now, text=text,
            idempotency_key=key,
        )  # fmt: skip

    return _retry(attempt)


def close_help(*, actor: Member, request: SupportRequest) -> None:
    """Close the group's own request for help (no more answers)."""
    group = _require_coordinator(actor)
    if request.kind != SupportRequest.Kind.HELP or request.group_id != group.pk:
        raise NotEligible(_("only the asking group's coordinators close its request"))
    with transaction.atomic():
        SupportRequest.objects.filter(pk=request.pk).update(state=SupportRequest.State.CLOSED)
        AwaitingAnswer.objects.filter(request=request).delete()


def mark_decided(proposal: Proposal, decision: Decision) -> None:
    """Mark the request the decision was on adopted or not (called in its transaction)."""
    state = (
        SupportRequest.State.ADOPTED
        if decision.outcome is Outcome.ADOPTED
        else SupportRequest.State.NOT_ADOPTED
    )
    SupportRequest.objects.filter(proposal=proposal, state=SupportRequest.State.DECIDING).update(
        state=state
    )


# --- paying on a decision -----------------------------------------------------------------


def decision_ref(record: DecisionRecord) -> str:
    """Return how the fund chain names a decision: its chain, position and digest."""
    return f"{record.chain}/{record.seq}/{record.digest}"


def _decision(proposal_id: object, *, among: QuerySet[Proposal]) -> tuple[Proposal, DecisionRecord]:
    """Return the decided proposal ``proposal_id`` names, looked for ``among`` only.

    ``among`` is what this payment could rest on (the federation's decisions, or the
    giving group's own): a proposal outside it gets the same answer as one that does not
    exist, so the form tells nobody about other groups' proposals.
    """
    if not isinstance(proposal_id, int) or isinstance(proposal_id, bool):
        raise NotEligible(_("name the decision that authorises this"), field="decision")
    proposal = among.filter(pk=proposal_id).exclude(phase="draft").first()
    if proposal is None:
        raise NotEligible(_("there is no such decision"), field="decision")
    record = DecisionRecord.objects.filter(proposal=proposal).first()
    if record is None:
        raise NotEligible(
            _("this proposal has not been decided yet: the money moves once it is adopted"),
            field="decision",
        )
    return proposal, record


def _authority(proposal: Proposal, record: DecisionRecord) -> ledger.Authority:
    """Return the decision as the ledger's rules see it: outcome, power, whose, what asked."""
    try:
        # The kind as the charter the decision was taken under has it (decision 0090).
        kind = bound_charter(proposal).kind(proposal.kind_key)
    except DomainError:
        kind = None
    request = SupportRequest.objects.filter(proposal=proposal, kind="money").first()
    asked = request if request is not None and request.amount is not None else None
    return ledger.Authority(
        adopted=record.payload.get("outcome") == Outcome.ADOPTED.value,
        power=kind.power if kind is not None else None,
        scope=Scope.FEDERATION if proposal.federation_wide else Scope.GROUP,
        group=None if proposal.federation_wide else str(proposal.group_id),
        grants=ledger.Money(asked.amount, asked.currency) if asked else None,
        grantee=str(asked.group_id) if asked else None,
    )


def disburse(
    *, actor: Member, proposal_id: object, idempotency_key: str, now: dt.datetime | None = None
) -> FundTransaction:
    """Pay what an adopted disbursement decision granted into the requesting group's account.

    Any group's coordinator may record it; the amount, currency and recipient come from
    the request the decision adopted, never from the form. Once per decision.
    """
    now = now or timezone.now()
    _require_coordinator(actor)
    key = _token(idempotency_key)
    proposal, record = _decision(proposal_id, among=Proposal.objects.filter(federation_wide=True))
    authority = _authority(proposal, record)
    request = SupportRequest.objects.filter(proposal=proposal, kind="money").first()
    if request is None or request.amount is None or authority.grants is None:
        raise NotEligible(_("this decision is not linked to a request for money"), field="decision")
    money = authority.grants
    recipient_group = request.group
    ledger.authorise(
        ledger.TransactionKind.DISBURSEMENT,
        money,
        authority=authority,
        recipient_group=str(recipient_group.pk),
    )

    def attempt() -> FundTransaction:
        fund = selectors.to_domain_account(_lock_fund())
        if FundTransaction.objects.filter(decision=record).exists():
            raise InvalidEvent(_("this decision has already been paid out"), field="decision")
        _not_used(FundTransaction, key)
        _covers(fund.id, money, FUND_SHORT)
        recipient = selectors.to_domain_account(_account(Account.Kind.GROUP, recipient_group))
        row = _post(
            lambda uid, at: ledger.disbursement(
                uid, source=fund, recipient=recipient, money=money, at=at,
                decision_ref=decision_ref(record),
            ),
            actor=actor, group=recipient_group, now=now, decision=record, request=request,
            idempotency_key=key,
        )  # fmt: skip
        SupportRequest.objects.filter(pk=request.pk).update(state=SupportRequest.State.PAID)
        return row

    return _retry(attempt)


def transfer(
    *,
    actor: Member,
    to_group_id: object,
    amount: int,
    currency: str,
    proposal_id: object,
    memo: str = "",
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> FundTransaction:
    """Move money from the actor's group's account to another's, on the giving group's decision."""
    now = now or timezone.now()
    giver = _require_coordinator(actor)
    money = _money(amount, currency)
    memo = clean_text(memo, field="memo", limit=MAX_MEMO, required=False)
    key = _token(idempotency_key)
    receiver = Group.objects.filter(pk=to_group_id, dissolved_at__isnull=True).first()
    if receiver is None:
        raise InvalidEvent(_("choose the group that receives it"), field="to_group")
    if receiver.pk == giver.pk:
        raise InvalidEvent(_("a transfer goes to another group"), field="to_group")
    own = Proposal.objects.filter(federation_wide=False, group=giver)
    proposal, record = _decision(proposal_id, among=own)
    ledger.authorise(
        ledger.TransactionKind.TRANSFER,
        money,
        authority=_authority(proposal, record),
        recipient_group=str(receiver.pk),
        payer_group=str(giver.pk),
    )

    def attempt() -> FundTransaction:
        _lock_fund()
        if FundTransaction.objects.filter(decision=record).exists():
            raise InvalidEvent(_("this decision has already been used"), field="decision")
        _not_used(FundTransaction, key)
        source = selectors.to_domain_account(_account(Account.Kind.GROUP, giver))
        _covers(source.id, money, GROUP_SHORT)
        target = selectors.to_domain_account(_account(Account.Kind.GROUP, receiver))
        return _post(
            lambda uid, at: ledger.transfer(
                uid, from_group=source, to_group=target, money=money, at=at,
                decision_ref=decision_ref(record), memo_ref=_memo_ref(memo),
            ),
            actor=actor, group=giver, now=now, memo=memo, decision=record,
            idempotency_key=key,
        )  # fmt: skip

    return _retry(attempt)
