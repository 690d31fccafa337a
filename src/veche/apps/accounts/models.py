"""Members (the user model) and the record of failed logins used for throttling."""

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

PSEUDONYM_RE = re.compile(r"^[\w.\-]{3,40}$")


def normalise_pseudonym(pseudonym: str) -> str:
    """Return the pseudonym as stored: NFKC-normalised, surrounding space stripped."""
    return unicodedata.normalize("NFKC", pseudonym).strip()


def pseudonym_key(pseudonym: str) -> str:
    """Return the case-insensitive lookup key of a pseudonym.

    Casefolded in Python, not with SQL LOWER(): SQLite's lower() only knows ASCII,
    and pseudonyms may be Cyrillic.
    """
    return normalise_pseudonym(pseudonym).casefold()


def validate_pseudonym(value: str) -> None:
    """Raise ValidationError unless ``value`` is 3–40 letters, digits, ``_``, ``-`` or ``.``."""
    if not PSEUDONYM_RE.fullmatch(normalise_pseudonym(value)):
        raise ValidationError(
            _("3 to 40 characters: letters, digits, and _ - . only."),
            code="invalid_pseudonym",
        )


class MemberManager(BaseUserManager["Member"]):
    def get_by_natural_key(self, username: str | None) -> Member:
        return self.get(pseudonym_key=pseudonym_key(username or ""))


class Member(AbstractBaseUser):
    """A person known only by a pseudonym, belonging to exactly one group.

    No e-mail, no phone, no staff or superuser: there is no admin site. No
    ``last_login`` either: a seized database should not say when people were active.
    """

    pseudonym = models.CharField(
        _("pseudonym"), max_length=40, unique=True, validators=[validate_pseudonym]
    )
    pseudonym_key = models.CharField(max_length=40, unique=True, editable=False)
    # Nullable only so the founding member can exist before a group is chosen;
    # `veche init` always creates the first group, so in practice it is set.
    group = models.ForeignKey(
        "federation.Group", on_delete=models.PROTECT, null=True, related_name="members"
    )
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined at"))
    # Bumped by "log out everywhere"; part of the session auth hash, so every
    # session created before the bump stops verifying (see get_session_auth_hash).
    session_epoch = models.PositiveIntegerField(default=0)

    last_login = None  # type: ignore[assignment]

    is_staff = False
    is_superuser = False

    objects: ClassVar[MemberManager] = MemberManager()

    USERNAME_FIELD = "pseudonym"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("member")
        ordering = ["pseudonym_key"]

    def __str__(self) -> str:
        return self.pseudonym

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pseudonym = normalise_pseudonym(self.pseudonym)
        self.pseudonym_key = pseudonym_key(self.pseudonym)
        super().save(*args, **kwargs)

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


class LoginFailure(models.Model):
    """One failed login attempt: which (hashed) account name, and when. Nothing else."""

    account_key = models.CharField(max_length=64, db_index=True)
    failed_at = models.DateTimeField(db_index=True)
