"""API tokens and private feeds: secrets a member hands to a script or a feed reader.

Only a hash of each secret is stored (``secret_hash``); what it unlocks is sealed under a
key derived from the secret (``sealed``: for a token, a copy of the member's private key;
for a feed with titles, a read-only copy of their group's and the federation's keys).
Revoking deletes the row, and with it the sealed copy. See docs/decisions/0120.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from veche.apps.accounts.models import Member


class AccessKey(models.Model):
    """One API token or one private feed of a member."""

    class Kind(models.TextChoices):
        TOKEN = "token", _("API token")
        INBOX_FEED = "inbox", _("Feed: what waits for you")
        DECISIONS_FEED = "decisions", _("Feed: new decisions")

    class Scope(models.TextChoices):
        READ = "read", _("read")
        ACT = "act", _("read and act")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Tokens only: whether it may act (respond, vote...) or only read.
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    # Feeds only: whether it shows titles (then ``sealed`` holds a copy of the keys).
    with_titles = models.BooleanField(default=False)
    secret_hash = models.CharField(max_length=64, unique=True)
    sealed = models.BinaryField(null=True, editable=False)
    created_at = models.DateTimeField()
    # The day it was last used, no finer: a seized database should not say when a
    # member read, and a read writes at most once a day per secret.
    last_used_on = models.DateField(null=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["member", "kind"])]

    @property
    def is_feed(self) -> bool:
        return self.kind != self.Kind.TOKEN
