"""The account page's forms: make a token or a feed, revoke one."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from veche.apps.api.models import AccessKey


class NewTokenForm(forms.Form):
    may_act = forms.BooleanField(
        label=gettext_lazy("May act (respond, amend, vote, the fund), not only read"),
        required=False,
    )


class NewFeedForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What the feed tells"),
        choices=[
            (AccessKey.Kind.INBOX_FEED.value, gettext_lazy("What waits for you")),
            (AccessKey.Kind.DECISIONS_FEED.value, gettext_lazy("New decisions in your bodies")),
        ],
    )
    with_titles = forms.BooleanField(
        label=gettext_lazy("With titles (the feed keeps a read-only copy of your group's keys)"),
        required=False,
    )


class RevokeForm(forms.Form):
    key = forms.IntegerField(min_value=1, max_value=2**62)
