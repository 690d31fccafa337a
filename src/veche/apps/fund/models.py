"""Persistence of the common fund: accounts, transactions and their entries, requests.

The rules live in ``veche.domain.ledger``; these tables only store what was posted,
once, through services.py (the one write path). Transactions are append-only: the
model refuses updates and deletes, and database triggers refuse UPDATE (and, on
PostgreSQL, DELETE) of a stored transaction or entry (migration 0002).

Free text sits in exactly one column per model (``FundTransaction.memo``,
``SupportRequest.purpose``, ``HelpAnswer.text``) so that switching it to an encrypted
column later touches one field each. Texts never enter the hash chain: the chained
payload carries only an opaque ``memo_ref``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from veche.apps.core import keyring
from veche.domain.ledger import AccountKind, TransactionKind

FUND_CHAIN = "fund"


class ChoiceLabel:
    """A field's value in words, as ``get_<field>_display()`` says it.

    Django's hashes every choice's label, translating each, on every call, and a fund
    page shows a label on each of thirty rows. This looks the value up; the label stays
    lazy, translated where it is shown. A value outside the choices shows as itself.
    """

    def __init__(self, attname: str, choices: list[tuple[str, Any]]) -> None:
        self.attname = attname
        self.labels = dict(choices)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.attname)
        return self.labels.get(value, value)


class AppendOnly(Exception):
    """Raised on an attempt to change or delete a stored transaction or entry."""


class Account(models.Model):
    """An account of the ledger; currency-agnostic (balances are kept per currency)."""

    class Kind(models.TextChoices):
        FEDERATION_FUND = AccountKind.FEDERATION_FUND.value, _("common fund")
        GROUP = AccountKind.GROUP.value, _("group account")
        CONTRIBUTIONS_RECEIVED = AccountKind.CONTRIBUTIONS_RECEIVED.value, _("contributions")
        DISBURSEMENTS_PAID = AccountKind.DISBURSEMENTS_PAID.value, _("paid out")

    key = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    group = models.ForeignKey(
        "federation.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    may_go_negative = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "group"], name="fund_one_account_per_kind")
        ]


class _EncryptedText:
    """One encrypted text column per model, read and written through a property.

    The words are encrypted with the federation's key (the fund is the federation's),
    on save, with a context naming the row by fields known before it is inserted.
    """

    _text_field: str

    def _text_context(self) -> str:
        raise NotImplementedError

    def _get_text(self) -> str:
        plain = self.__dict__.get("_plain_text")
        if plain is not None:
            return str(plain)
        return keyring.decrypt(getattr(self, self._text_field), context=self._text_context())

    def _set_text(self, value: str) -> None:
        self.__dict__["_plain_text"] = value or ""

    def _encrypt_text(self) -> None:
        plain = self.__dict__.get("_plain_text")
        if plain is None:
            return
        blob = (
            keyring.encrypt(keyring.FEDERATION, plain, context=self._text_context())
            if plain
            else b""
        )
        setattr(self, self._text_field, blob)


class FundTransaction(_EncryptedText, models.Model):
    """A posted transaction; also one record of the fund's hash chain (``seq``, digests)."""

    class Kind(models.TextChoices):
        CONTRIBUTION = TransactionKind.CONTRIBUTION.value, _("contribution")
        DISBURSEMENT = TransactionKind.DISBURSEMENT.value, _("disbursement")
        TRANSFER = TransactionKind.TRANSFER.value, _("transfer")
        REVERSAL = TransactionKind.REVERSAL.value, _("reversal")

    uid = models.CharField(max_length=40, unique=True)
    # Position in the fund chain: two writers racing for the same position, one fails.
    seq = models.PositiveIntegerField(unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    kind_label = ChoiceLabel("kind", Kind.choices)
    at = models.DateTimeField()
    # The group on whose behalf it was recorded (the contributor, the giver).
    group = models.ForeignKey(
        "federation.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The decision that authorised it (disbursements, transfers): at most one each.
    decision = models.ForeignKey(
        "proposals.DecisionRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_transactions",
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    request = models.ForeignKey(
        "fund.SupportRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    # Hidden form token: the same form posted twice stores once.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    memo_ct = models.BinaryField(default=b"")  # the one text column, encrypted
    payload = models.JSONField()  # veche.domain.ledger.to_payload, as chained
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            # Exactly one disbursement or transfer per decision, whoever races for it.
            models.UniqueConstraint(
                fields=["decision"],
                condition=Q(decision__isnull=False) & ~Q(kind="reversal"),
                name="fund_one_transaction_per_decision",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["contribution", "reversal"]) | Q(decision__isnull=False),
                name="fund_payment_needs_decision",
            ),
        ]

    _text_field = "memo_ct"

    def _text_context(self) -> str:
        return self.memo_context(self.uid)

    @staticmethod
    def memo_context(uid: str) -> str:
        """What a transaction's memo is encrypted with, besides the key: its row's uid."""
        return f"fund:tx:{uid}:memo"

    memo = property(_EncryptedText._get_text, _EncryptedText._set_text)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("a posted transaction is never changed: reverse it")
        self._encrypt_text()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("a posted transaction is never deleted: reverse it")


class Entry(models.Model):
    """One leg of a transaction: signed integer minor units (debit > 0) of one currency."""

    transaction = models.ForeignKey(
        FundTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # The account's balance in this currency once this entry is posted: a statement reads
    # it instead of adding up history. ``veche verify`` checks it against the ledger.
    balance_after = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="fund_entry_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "currency", "transaction"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("a posted entry is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("a posted entry is never deleted")


class Balance(models.Model):
    """An account's running total in one currency, written with every posting."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="balances")
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["account_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["account", "currency"], name="fund_one_balance_each")
        ]


class SupportRequest(_EncryptedText, models.Model):
    """A group's request to the federation: money (amount, currency) or help and advice."""

    class Kind(models.TextChoices):
        MONEY = "money", _("money")
        HELP = "help", _("help and advice")

    class State(models.TextChoices):
        DECIDING = "deciding", _("being decided")
        ADOPTED = "adopted", _("adopted, to be paid")
        PAID = "paid", _("paid")
        NOT_ADOPTED = "not_adopted", _("not adopted")
        OPEN = "open", _("open for answers")
        CLOSED = "closed", _("closed")

    state_label = ChoiceLabel("state", State.choices)

    group = models.ForeignKey("federation.Group", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField(null=True, blank=True)  # minor units
    currency = models.CharField(max_length=3, blank=True)
    purpose_ct = models.BinaryField(default=b"")  # the one text column, encrypted
    state = models.CharField(max_length=20, choices=State.choices)
    proposal = models.OneToOneField(
        "proposals.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_request",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    _text_field = "purpose_ct"

    def _text_context(self) -> str:
        return f"fund:request:{self.group_id}:{self.created_by_id}:{self.created_at.isoformat()}"

    purpose = property(_EncryptedText._get_text, _EncryptedText._set_text)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._encrypt_text()
        super().save(*args, **kwargs)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="help") | (Q(amount__gt=0) & ~Q(currency="")),
                name="fund_money_request_has_amount",
            )
        ]


class HelpAnswer(_EncryptedText, models.Model):
    """An answer to a request for help, by a coordinator of another group.

    Shown as "a coordinator of <group>": no member's name crosses groups.
    """

    request = models.ForeignKey(SupportRequest, on_delete=models.PROTECT, related_name="answers")
    group = models.ForeignKey("federation.Group", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    text_ct = models.BinaryField(default=b"")  # the one text column, encrypted
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    _text_field = "text_ct"

    def _text_context(self) -> str:
        return f"fund:answer:{self.request_id}:{self.author_id}:{self.created_at.isoformat()}"

    text = property(_EncryptedText._get_text, _EncryptedText._set_text)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._encrypt_text()
        super().save(*args, **kwargs)

    class Meta:
        ordering = ["created_at", "pk"]


class AwaitingAnswer(models.Model):
    """An open request for help that waits for a group's answer: its coordinators' inbox.

    Written with the request, one row for each other group then active; removed when
    that group answers, and all of them when the request closes. The inbox reads these
    rows, never the requests' history (docs/decisions/0102-fund-in-the-inbox.md).
    """

    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="awaiting")
    group = models.ForeignKey("federation.Group", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "group"], name="fund_one_wait_per_group")
        ]
        indexes = [models.Index(fields=["group", "request"])]
