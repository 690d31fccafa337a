"""Persistence of proposals: the proposal, its versions, its events, ballots, decisions.

The state of a proposal is never stored: it is computed by ``veche.domain.proposals``
from the rows here and the current time (``to_domain`` functions in selectors.py).
What is stored is what happened, once, through services.py, the one write path.

Secret ballots live in :class:`SecretBallot`, apart from the voter roll (events of type
``ballot_cast`` that carry no ballot): a random key, no time, no voter. See
docs/decisions/0020-proposal-storage.md.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Proposal(models.Model):
    """A proposal as created: kind, scope's group, urgency, deadline, alternatives."""

    kind_key = models.CharField(_("kind"), max_length=60)
    # The group whose matter it is (group scope), or the author's group (federation).
    group = models.ForeignKey("federation.Group", on_delete=models.PROTECT, related_name="+")
    federation_wide = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    created_at = models.DateTimeField()
    urgent = models.BooleanField(default=False)
    deadline = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(default=list)
    mandate_scope = models.JSONField(default=list)
    # Fixed at creation; shown to members only once it has been used (a tie or a lot).
    seed = models.BinaryField(max_length=32)
    draft = models.BooleanField(default=False)
    # What adopting it does, for kinds that change the organisation
    # ({"admit_group": name} or {"coordinator": member id}).
    effect = models.JSONField(default=dict, blank=True)
    # Set once the decision is in the log: listing closed proposals needs no replay.
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["group", "closed_at"]),
            models.Index(fields=["federation_wide", "closed_at"]),
        ]


class ProposalVersion(models.Model):
    """One version of a proposal's text; amending adds a version."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="one_version_number")
        ]


class EventType(models.TextChoices):
    PUBLISHED = "published"
    RESPONDED = "responded"
    AMENDED = "amended"
    WITHDRAWN = "withdrawn"
    CARRIED = "carried"
    BALLOT_CAST = "ballot_cast"
    VOLUNTEERED = "volunteered"
    MANDATE_DECISION = "mandate_decision"
    RECALL_SUPPORTED = "recall_supported"
    MEETING_RECORDED = "meeting_recorded"
    MEETING_CONFIRMED = "meeting_confirmed"


class ProposalEvent(models.Model):
    """Something that happened to a proposal. ``data`` holds the event's structure;
    ``text`` the words that go with it (a reason, a decision's text, a meeting record)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=EventType.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    data = models.JSONField(default=dict)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            # Two simultaneous writers cannot both append event n: one fails and retries.
            models.UniqueConstraint(fields=["proposal", "seq"], name="one_event_per_seq"),
        ]


class SecretBallot(models.Model):
    """A secret ballot: what was voted, with nothing that says who or when."""

    # Random, so the key does not reveal the order ballots arrived in.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    # "vote" (the urgent vote) or "selection" (choosing a temporary coordinator).
    round = models.CharField(max_length=10)
    ballot = models.JSONField()


class Comment(models.Model):
    """A message in a proposal's thread or in a group's own thread."""

    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    group = models.ForeignKey(
        "federation.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    body = models.TextField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(proposal__isnull=False) | models.Q(group__isnull=False),
                name="comment_has_a_thread",
            )
        ]


class DecisionRecord(models.Model):
    """One record of an append-only, hash-chained decision log.

    There is one chain for the federation and one per group, so that every member can
    verify, offline, every chain they may read, and no chain mixes in records (even
    digests of records) of a group they must not see.
    """

    chain = models.CharField(max_length=40)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)
    payload = models.JSONField()
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)
    proposal = models.OneToOneField(
        Proposal, null=True, blank=True, on_delete=models.PROTECT, related_name="decision_record"
    )
    group = models.ForeignKey(
        "federation.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [
            # Two writers racing to append to one chain: exactly one wins seq n.
            models.UniqueConstraint(fields=["chain", "seq"], name="one_record_per_chain_seq"),
        ]


def chain_name(group_id: int | None) -> str:
    """Return the name of the chain holding a group's (or, with None, the federation's) log."""
    return "federation" if group_id is None else f"group-{group_id}"
