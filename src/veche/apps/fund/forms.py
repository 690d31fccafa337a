"""Forms of the fund: they check shapes; the services and the ledger check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class _Tokened(forms.Form):
    # One form, one posting: the same token posted twice is refused (services._not_used).
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class MoneyForm(_Tokened):
    amount = forms.CharField(label=_("Amount"), max_length=40, help_text=_("For example 12.50"))
    currency = forms.CharField(
        label=_("Currency"), max_length=3, min_length=3, help_text=_("ISO code, like EUR")
    )

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()


class ContributionForm(MoneyForm):
    memo = forms.CharField(label=_("Note (optional)"), max_length=1000, required=False)


class MoneyRequestForm(MoneyForm):
    purpose = forms.CharField(label=_("What it is for"), max_length=4000, widget=forms.Textarea)


class HelpRequestForm(_Tokened):
    purpose = forms.CharField(
        label=_("What help or advice you need"), max_length=4000, widget=forms.Textarea
    )


class AnswerForm(_Tokened):
    text = forms.CharField(label=_("Your answer"), max_length=4000, widget=forms.Textarea)


class DisburseForm(_Tokened):
    decision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TransferForm(MoneyForm):
    to_group = forms.IntegerField(label=_("To group"), min_value=1)
    decision = forms.IntegerField(label=_("Your group's decision (proposal number)"), min_value=1)
    memo = forms.CharField(label=_("Note (optional)"), max_length=1000, required=False)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("Until (excluded)"), required=False)
