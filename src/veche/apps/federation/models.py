"""The organisation (DESIGN.md §1): the federation, its groups, coordinators, invitations."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Federation(models.Model):
    """The one federation this installation hosts (a single row).

    Its charter is kept in versions (:class:`CharterVersion`), not on this row.
    """

    name = models.CharField(_("name"), max_length=120)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("federation")

    def __str__(self) -> str:
        return self.name


class CharterVersion(models.Model):
    """One version of the charter; the highest number is in force (docs/decisions/0090).

    Version 1 is the founding charter; each later one came into force by an adopted
    amendment, whose proposal and decision record it names. The charter is structure,
    not content: plain JSON in clear, so that the lifecycle runs without anyone's key.
    The proposal and the record are named by number, not by foreign key: this app sits
    below the proposals app and does not reach up into its tables.
    """

    number = models.PositiveIntegerField(unique=True)
    # The charter as plain data; its shape and validation live in veche.domain.charter.
    charter = models.JSONField()
    # SHA-256 of the charter's canonical JSON (veche.domain.charter.digest).
    digest = models.CharField(max_length=64)
    in_force_from = models.DateTimeField()
    # The amendment that adopted it, and its record in the federation's decision log.
    proposal_id = models.PositiveIntegerField(null=True, blank=True)
    decision_seq = models.PositiveIntegerField(null=True, blank=True)
    decision_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["number"]


class GroupRulesVersion(models.Model):
    """One version of a group's own rules, within the charter's bounds (decision 0092).

    Adopted by a decision of the group (the power ``group_rules``); recorded in the
    group's own decision log. Plain JSON, like the charter, and for the same reason.
    """

    group = models.ForeignKey("Group", on_delete=models.PROTECT, related_name="rules_versions")
    number = models.PositiveIntegerField()
    rules = models.JSONField()
    digest = models.CharField(max_length=64)
    in_force_from = models.DateTimeField()
    proposal_id = models.PositiveIntegerField(null=True, blank=True)
    decision_seq = models.PositiveIntegerField(null=True, blank=True)
    decision_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["group", "number"]
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="one_rules_version_number")
        ]


class Group(models.Model):
    """An autonomous unit of members."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    created_at = models.DateTimeField(_("created at"))
    dissolved_at = models.DateTimeField(_("dissolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("group")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CoordinatorTerm(models.Model):
    """A member's term as a (standing) coordinator of their group; open-ended if no end."""

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="coordinator_terms")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coordinator_terms"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coordinator term")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="coordinator_term_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["group", "starts_at"])]


def hash_invitation_secret(secret: str) -> str:
    """Return the sha256 hex digest under which an invitation secret is looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Invitation(models.Model):
    """A one-time invitation to join a group. Only the secret's hash is stored."""

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="invitations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_created",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitation_used",
    )
    as_coordinator = models.BooleanField(_("as coordinator"), default=False)
    # The group's and the federation's keys, packed under a key derived from the secret
    # (veche.crypto.pack_keys); emptied once used.
    keys_blob = models.BinaryField(default=b"", editable=False)

    class Meta:
        verbose_name = _("invitation")
