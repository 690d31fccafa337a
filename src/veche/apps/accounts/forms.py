"""Forms for joining and logging in. They validate; services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from veche.apps.accounts.models import Member, normalise_pseudonym, validate_pseudonym
from veche.apps.accounts.selectors import pseudonym_taken
from veche.apps.core.validators import normalise_passphrase


class JoinForm(forms.Form):
    pseudonym = forms.CharField(
        label=_("Pseudonym"),
        min_length=3,
        max_length=40,
        validators=[validate_pseudonym],
        help_text=_(
            "How the members of your group will know you. 3 to 40 characters: "
            "letters, digits, and _ - . only. Do not use your real name."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    passphrase = forms.CharField(
        label=_("Passphrase"),
        strip=False,
        max_length=1024,
        help_text=_(
            "At least 12 characters. A few unrelated words are easy to remember and hard to guess."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    passphrase_again = forms.CharField(
        label=_("Passphrase again"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_pseudonym(self) -> str:
        pseudonym = normalise_pseudonym(self.cleaned_data["pseudonym"])
        if pseudonym_taken(pseudonym=pseudonym):
            raise forms.ValidationError(
                _("This pseudonym is taken. Please choose another."), code="pseudonym_taken"
            )
        return pseudonym

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        passphrase = cleaned.get("passphrase")
        again = cleaned.get("passphrase_again")
        if passphrase and again and normalise_passphrase(passphrase) != normalise_passphrase(again):
            self.add_error("passphrase_again", _("The two passphrases differ."))
        if passphrase:
            candidate = Member(pseudonym=cleaned.get("pseudonym") or "")
            try:
                password_validation.validate_password(passphrase, user=candidate)
            except forms.ValidationError as error:
                self.add_error("passphrase", error)
        return cleaned


class LoginForm(forms.Form):
    pseudonym = forms.CharField(
        label=_("Pseudonym"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    passphrase = forms.CharField(
        label=_("Passphrase"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
