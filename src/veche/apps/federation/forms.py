from django import forms
from django.utils.translation import gettext_lazy as _


class InviteForm(forms.Form):
    as_coordinator = forms.BooleanField(
        label=_("Invite as a coordinator of the group"), required=False
    )
