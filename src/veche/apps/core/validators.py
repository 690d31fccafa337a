"""Passphrase rules beyond Django's length and common-password validators."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


class NotContainingPseudonymValidator:
    """Refuse a passphrase that contains the member's pseudonym."""

    def validate(self, password: str, user: Any = None) -> None:
        pseudonym = getattr(user, "pseudonym", "") or ""
        if len(pseudonym) >= 3 and _fold(pseudonym) in _fold(password):
            raise ValidationError(
                _("Your passphrase must not contain your pseudonym."),
                code="password_contains_pseudonym",
            )

    def get_help_text(self) -> str:
        return _("Your passphrase must not contain your pseudonym.")
