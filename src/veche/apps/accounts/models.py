"""Members (the user model) and the delays that follow failed logins."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from veche.apps.core import keyring
from veche.crypto import KdfParams, MemberKeys, keyed_hash

PSEUDONYM_RE = re.compile(r"^[\w.\-]{3,40}$")
PASSPHRASE_AS_TYPED = 0
PASSPHRASE_NORMALISED = 1


def normalise_pseudonym(pseudonym: str) -> str:
    """Return the pseudonym as stored: NFKC-normalised, surrounding space stripped."""
    return unicodedata.normalize("NFKC", pseudonym).strip()


def pseudonym_key(pseudonym: str) -> str:
    """Return the lookup key of a pseudonym: a keyed hash of its case-folded form.

    The pseudonym itself is stored only encrypted with the group's key; logging in
    finds the member by this hash (keyed with the server's secret, so a dump of the
    database alone cannot be searched for a guessed name). Casefolded in Python, not
    with SQL LOWER(): SQLite's lower() only knows ASCII, and pseudonyms may be Cyrillic.
    """
    folded = normalise_pseudonym(pseudonym).casefold()
    return keyed_hash(settings.SECRET_KEY.encode(), folded, purpose="pseudonym")


def validate_pseudonym(value: str) -> None:
    """Raise ValidationError unless ``value`` is 3–40 letters, digits, ``_``, ``-`` or ``.``."""
    if not PSEUDONYM_RE.fullmatch(normalise_pseudonym(value)):
        raise ValidationError(
            _("3 to 40 characters: letters, digits, and _ - . only."),
            code="invalid_pseudonym",
        )


class MemberQuerySet(models.QuerySet["Member"]):
    """Lets code say ``filter(pseudonym=...)``: the lookup goes through the keyed hash."""

    @staticmethod
    def _translate(kwargs: dict[str, Any]) -> dict[str, Any]:
        if "pseudonym" in kwargs:
            kwargs = dict(kwargs)
            kwargs["pseudonym_key"] = pseudonym_key(kwargs.pop("pseudonym"))
        return kwargs

    def filter(self, *args: Any, **kwargs: Any) -> MemberQuerySet:
        return super().filter(*args, **self._translate(kwargs))

    def exclude(self, *args: Any, **kwargs: Any) -> MemberQuerySet:
        return super().exclude(*args, **self._translate(kwargs))

    def get(self, *args: Any, **kwargs: Any) -> Member:
        return super().get(*args, **self._translate(kwargs))


class MemberManager(BaseUserManager["Member"]):
    def get_queryset(self) -> MemberQuerySet:
        return MemberQuerySet(self.model, using=self._db)

    def get_by_natural_key(self, username: str | None) -> Member:
        # Django's auth passes whatever the member typed as their name.
        return self.get(pseudonym_key=pseudonym_key(username or ""))


class Member(AbstractBaseUser):
    """A person known only by a pseudonym, belonging to exactly one group.

    No e-mail, no phone, no staff or superuser: there is no admin site. No
    ``last_login`` either: a seized database should not say when people were active.
    """

    # The pseudonym, encrypted with the group's key (see ``pseudonym`` below).
    pseudonym_ct = models.BinaryField(editable=False)
    pseudonym_key = models.CharField(max_length=64, unique=True, editable=False)
    # The member's key pair: the private key sealed under Argon2id(passphrase).
    public_key = models.BinaryField(editable=False)
    sealed_private_key = models.BinaryField(editable=False)
    kdf_salt = models.BinaryField(editable=False)
    kdf_opslimit = models.PositiveIntegerField(default=0)
    kdf_memlimit = models.PositiveBigIntegerField(default=0)
    # Which form of the passphrase the key is sealed under: PASSPHRASE_AS_TYPED for
    # members who joined before passphrases were normalised (their record opens only
    # with what they typed; it is re-sealed under the normal form at their next login),
    # PASSPHRASE_NORMALISED since (core.validators.normalise_passphrase).
    passphrase_form = models.PositiveSmallIntegerField(default=1)
    # Nullable only so the founding member can exist before a group is chosen;
    # `veche init` always creates the first group, so in practice it is set.
    group = models.ForeignKey(
        "federation.Group", on_delete=models.PROTECT, null=True, related_name="members"
    )
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined at"))
    # When they were removed from their group (None: still a member, or unknown).
    left_at = models.DateTimeField(null=True, blank=True)
    # Bumped by "log out everywhere"; part of the session auth hash, so every
    # session created before the bump stops verifying (see get_session_auth_hash).
    session_epoch = models.PositiveIntegerField(default=0)

    last_login = None  # type: ignore[assignment]

    is_staff = False
    is_superuser = False

    objects: ClassVar[MemberManager] = MemberManager()

    USERNAME_FIELD = "pseudonym_key"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("member")
        ordering = ["pseudonym_key"]

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def pseudonym(self) -> str:
        """Return the pseudonym, readable only with the group's key (else "[encrypted]")."""
        plain = self.__dict__.get("_pseudonym_plain")
        if plain is not None:
            return str(plain)
        return keyring.decrypt(self.pseudonym_ct, context=self._pseudonym_context())

    @pseudonym.setter
    def pseudonym(self, value: str) -> None:
        # Encrypted on save, with the current keyring's key for the member's group.
        self.__dict__["_pseudonym_plain"] = normalise_pseudonym(value)
        self.__dict__["_pseudonym_dirty"] = True

    def _pseudonym_context(self) -> str:
        return f"member:{self.pseudonym_key}:pseudonym"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.__dict__.pop("_pseudonym_dirty", False):
            plain = self.__dict__["_pseudonym_plain"]
            self.pseudonym_key = pseudonym_key(plain)
            if self.group_id is None:
                raise ValueError("a member's pseudonym is encrypted with their group's key")
            self.pseudonym_ct = keyring.encrypt(
                keyring.group_scope(self.group_id), plain, context=self._pseudonym_context()
            )
        super().save(*args, **kwargs)

    def key_record(self) -> Any:
        """Return the member's stored key pair record (veche.crypto.MemberKeys)."""
        return MemberKeys(
            public_key=bytes(self.public_key),
            sealed_private_key=bytes(self.sealed_private_key),
            kdf=KdfParams(
                salt=bytes(self.kdf_salt), opslimit=self.kdf_opslimit, memlimit=self.kdf_memlimit
            ),
        )

    def set_key_record(self, record: Any) -> None:
        """Store a key pair record (after joining, or re-wrapping on a passphrase change)."""
        self.public_key = record.public_key
        self.sealed_private_key = record.sealed_private_key
        self.kdf_salt = record.kdf.salt
        self.kdf_opslimit = record.kdf.opslimit
        self.kdf_memlimit = record.kdf.memlimit

    def get_session_auth_hash(self) -> str:
        """Return an HMAC of the password hash and the session epoch.

        Django checks it on every request and flushes a session that no longer
        matches: changing the passphrase or bumping the epoch ends all sessions.
        """
        key_salt = "veche.apps.accounts.models.Member.get_session_auth_hash"
        return salted_hmac(
            key_salt,
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False


def throttle_key(pseudonym: str) -> str:
    """Return a keyed hash of a typed pseudonym, so the failures table holds no names.

    People sometimes type their passphrase into the name field: never store it.
    """
    return hmac.new(
        settings.SECRET_KEY.encode(), pseudonym_key(pseudonym).encode(), hashlib.sha256
    ).hexdigest()


class LoginDelay(models.Model):
    """How long logins with one typed pseudonym must wait, after failures.

    One row per typed name (its keyed hash, never the name), whether or not a member
    has that name, so a delay says nothing about who exists. No attempt with that name
    is checked before ``not_before``; a success deletes the row; rows untouched for a
    day are forgotten. See docs/decisions/0071-login-delays-and-hashing-budget.md.
    """

    account_key = models.CharField(max_length=64, unique=True)
    # Failed attempts since the last success (the delay doubles with each, to a cap).
    failures = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField()
    updated_at = models.DateTimeField(db_index=True)


class KeyGrant(models.Model):
    """A group's or the federation's key of one epoch, sealed to one member's public key."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="key_grants")
    # "f" (federation) or "g<group id>".
    scope = models.CharField(max_length=20)
    epoch = models.PositiveIntegerField()
    sealed_key = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "scope", "epoch"], name="one_grant_per_key")
        ]
        indexes = [models.Index(fields=["scope", "epoch"])]


class KeyEpoch(models.Model):
    """That a key of this scope and epoch exists (never the key itself)."""

    scope = models.CharField(max_length=20)
    epoch = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "epoch"], name="one_key_epoch")]


class MemberSession(models.Model):
    """Which sessions a member has open, so "log out everywhere" can destroy them all.

    Each session holds the member's wrapped private key; deleting the row destroys it.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
