"""Persistence of proposals: the proposal, its versions, its events, ballots, decisions.

What happened is stored once, through ``services.record``, the one write path; the
state is ``veche.domain.proposals.state`` over those events. Beside the events each
proposal keeps its **summary** (phase, next deadline, counts, outcome) and one
:class:`Awaiting` row per member something waits for, written in the same transaction
as each event and by settlement when a deadline passes, so lists and inboxes never
replay. A test replays every proposal and compares it with its summary.

Secret ballots live in :class:`SealedBallot`, apart from the voter roll (events of type
``ballot_cast`` that carry no ballot): one encrypted row each, a random key, no time, no
voter; only k of the vote's tellers can decrypt their sums (docs/ballots.md, decision
0130). :class:`BallotBox` is the older scheme, kept for votes begun under it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from veche.apps.core import keyring
from veche.apps.proposals import markdown
from veche.domain.proposals import EVENT_TYPES, Outcome, Phase, ReachedBy, Wait


def _stored_html(blob: bytes | None, of: str, *, context: str) -> SafeString | None:
    """Return a text's stored HTML (decision 0139) if it is of this rendering and opens
    under its own context, else None: the caller renders the source afresh."""
    if not blob or of != markdown.RENDERING:
        return None
    html = keyring.decrypt(blob, context=context, fallback="")
    # Sanitised when it was written, by this very rendering, and authenticated since.
    return mark_safe(html) if html else None  # noqa: S308


def _json_list(blob: Any, *, context: str, count: int, placeholder: str) -> list[str]:
    """Return an encrypted JSON list of labels, or numbered placeholders if unreadable."""
    text = keyring.decrypt(blob, context=context, fallback="")
    if text:
        return [str(item) for item in json.loads(text)]
    return [f"{placeholder} {i + 1}" for i in range(count)]


class Proposal(models.Model):
    """A proposal as created: kind, scope's group, urgency, deadline, alternatives."""

    kind_key = models.CharField(_("kind"), max_length=60)
    # The charter it is judged under, for ever: the version in force when it was
    # published (a draft follows the version in force until then). Decision 0090.
    charter_version = models.ForeignKey(
        "federation.CharterVersion", on_delete=models.PROTECT, related_name="+"
    )
    # A group's matter: the group's own rules in force then (None: it had none).
    group_rules_version = models.ForeignKey(
        "federation.GroupRulesVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The group whose matter it is (group scope), or the author's group (federation).
    group = models.ForeignKey("federation.Group", on_delete=models.PROTECT, related_name="+")
    federation_wide = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    created_at = models.DateTimeField()
    urgent = models.BooleanField(default=False)
    deadline = models.DateTimeField(null=True, blank=True)
    # Alternatives and mandate matters are content: encrypted JSON lists. How many
    # there are is structure, kept in clear so the lifecycle can run without a key.
    options_ct = models.BinaryField(default=b"")
    option_count = models.PositiveSmallIntegerField(default=0)
    mandate_scope_ct = models.BinaryField(default=b"")
    mandate_scope_count = models.PositiveSmallIntegerField(default=0)
    # Fixed at creation; shown to members only once it has been used (a tie or a lot).
    seed = models.BinaryField(max_length=32)
    draft = models.BooleanField(default=False)
    # What adopting it does, by its kind's power: structure in clear
    # ({"coordinator": member id}), and words encrypted ({"admit_group": name}).
    effect = models.JSONField(default=dict, blank=True)
    effect_ct = models.BinaryField(default=b"")
    invitation_issued = models.BooleanField(default=False)
    # A decision taken at an in-person meeting and recorded on its own: the meeting.
    meeting = models.ForeignKey(
        "Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )

    # --- the summary: what lists and inboxes read (always what a replay gives) ---
    phase = models.CharField(
        max_length=20, choices=[(p.value, p.value) for p in Phase], default=Phase.CONSENSUS.value
    )
    version = models.PositiveIntegerField(default=1)
    current_version = models.ForeignKey(
        "ProposalVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    # When the state next changes by itself (a deadline), and whether that reads ballots.
    due_at = models.DateTimeField(null=True, blank=True)
    due_reads_ballots = models.BooleanField(default=False)
    eligible_count = models.PositiveIntegerField(default=0)
    responded_count = models.PositiveIntegerField(default=0)
    positions = models.JSONField(default=dict, blank=True)
    ballots_cast = models.PositiveIntegerField(default=0)
    vote_eligible = models.PositiveIntegerField(default=0)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mandate_started_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # Set once the decision is in the log.
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=20, blank=True, choices=[(o.value, o.value) for o in Outcome]
    )
    reached_by = models.CharField(
        max_length=20, blank=True, choices=[(r.value, r.value) for r in ReachedBy]
    )
    # Its secret votes are counted by tellers (decision 0130); False only for proposals
    # whose secret vote had begun, in the old ballot box, before tellers existed.
    sealed_ballots = models.BooleanField(default=True)

    @property
    def admit_group_name(self) -> str:
        """Return the name of the group this proposal would admit ("" if none or unreadable)."""
        if not self.effect_ct:
            return ""
        text = keyring.decrypt(self.effect_ct, context=f"proposal:{self.pk}:effect", fallback="")
        return str(json.loads(text).get("admit_group", "")) if text else ""

    def set_admit_group_name(self, name: str) -> None:
        """Encrypt the candidate group's name with the federation's key (row saved first)."""
        self.effect_ct = keyring.encrypt(
            self.key_scope(),
            json.dumps({"admit_group": name}),
            context=f"proposal:{self.pk}:effect",
        )

    def key_scope(self) -> str:
        """Return whose key encrypts this proposal's content: the group's or the federation's."""
        return keyring.FEDERATION if self.federation_wide else keyring.group_scope(self.group_id)

    @property
    def options(self) -> list[str]:
        """Return the alternatives (placeholders where the key is not at hand)."""
        return _json_list(
            self.options_ct, context=f"proposal:{self.pk}:options",
            count=self.option_count, placeholder="option",
        )  # fmt: skip

    @property
    def mandate_scope(self) -> list[str]:
        """Return the matters a temporary coordinator may decide."""
        return _json_list(
            self.mandate_scope_ct, context=f"proposal:{self.pk}:mandate_scope",
            count=self.mandate_scope_count, placeholder="matter",
        )  # fmt: skip

    def set_lists(self, options: list[str], mandate_scope: list[str]) -> None:
        """Encrypt the alternatives and mandate matters (after the row has its id)."""
        scope = self.key_scope()
        self.option_count = len(options)
        self.mandate_scope_count = len(mandate_scope)
        self.options_ct = (
            keyring.encrypt(scope, json.dumps(options), context=f"proposal:{self.pk}:options")
            if options
            else b""
        )
        self.mandate_scope_ct = (
            keyring.encrypt(
                scope, json.dumps(mandate_scope), context=f"proposal:{self.pk}:mandate_scope"
            )
            if mandate_scope
            else b""
        )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["group", "closed_at"]),
            models.Index(fields=["federation_wide", "closed_at"]),
            models.Index(fields=["due_at"]),
            models.Index(fields=["closed_at", "-created_at"]),
        ]


def version_context(proposal_id: int, number: int, part: str) -> str:
    """Return what a version's encrypted ``part`` is bound to: its proposal and number."""
    return f"proposal:{proposal_id}:v{number}:{part}"


class ProposalVersion(models.Model):
    """One version of a proposal's text; amending adds a version."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title_ct = models.BinaryField()
    body_ct = models.BinaryField()
    # The text's HTML, rendered when it was written (decision 0139), and its rendering.
    body_html_ct = models.BinaryField(null=True, editable=False)
    html_of = models.CharField(max_length=80, default="", editable=False)
    created_at = models.DateTimeField()

    def _context(self, part: str) -> str:
        return version_context(self.proposal_id, self.number, part)

    @property
    def title(self) -> str:
        """Return the title, readable with the proposal's key only."""
        return keyring.decrypt(self.title_ct, context=self._context("title"))

    @staticmethod
    def title_of(proposal_id: int, number: int, title_ct: bytes | None) -> str:
        """Return a version's title from its stored columns alone (read without a model)."""
        return keyring.decrypt(title_ct, context=version_context(proposal_id, number, "title"))

    @property
    def body(self) -> str:
        """Return the text (Markdown), readable with the proposal's key only."""
        return keyring.decrypt(self.body_ct, context=self._context("body"))

    @property
    def body_html(self) -> SafeString:
        """Return the text as sanitised HTML: as stored when written, or rendered now."""
        stored = _stored_html(self.body_html_ct, self.html_of, context=self._context("html"))
        return markdown.render(self.body) if stored is None else stored

    def set_text(self, title: str, body: str) -> None:
        """Encrypt the title, the text and the text's HTML with the proposal's key."""
        scope = self.proposal.key_scope()
        self.title_ct = keyring.encrypt(scope, title, context=self._context("title"))
        self.body_ct = keyring.encrypt(scope, body, context=self._context("body"))
        html = markdown.render(body)
        self.body_html_ct = keyring.encrypt(scope, html, context=self._context("html"))
        self.html_of = markdown.RENDERING

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="one_version_number")
        ]


class ProposalEvent(models.Model):
    """Something that happened to a proposal, as the domain's codec stores it: ``type``,
    ``actor``, ``at`` and ``data`` (structure); ``text`` the words that go with it (a
    reason, a decision's text, meeting notes; an open vote's ballot), encrypted."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=[(t, t) for t in EVENT_TYPES])
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    data = models.JSONField(default=dict)
    # The words that go with it (a reason, a decision's text, meeting notes; an open
    # vote's ballot), encrypted with the proposal's key. Empty when there are none.
    text_ct = models.BinaryField(default=b"")

    def _context(self) -> str:
        return f"proposal:{self.proposal_id}:event:{self.seq}"

    @property
    def text(self) -> str:
        """Return the event's words, readable with the proposal's key only."""
        return keyring.decrypt(self.text_ct, context=self._context())

    def set_text(self, text: str) -> None:
        """Encrypt the event's words (nothing is stored for empty words)."""
        self.text_ct = (
            keyring.encrypt(self.proposal.key_scope(), text, context=self._context())
            if text
            else b""
        )

    class Meta:
        ordering = ["seq"]
        constraints = [
            # Two simultaneous writers cannot both append event n: one fails and retries.
            models.UniqueConstraint(fields=["proposal", "seq"], name="one_event_per_seq"),
        ]


class BallotBox(models.Model):
    """A secret vote's ballots: one encrypted, sorted list per vote, and nothing else.

    Who voted is on the roll (``ballot_cast`` events, which carry no ballot); what was
    voted is here, with no voter, no time and no order: every cast rewrites the list
    sorted, freshly encrypted, so neither the list nor its row says which ballot came
    when. See docs/decisions/0031-secret-ballots.md.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    # "vote" (the urgent vote) or "selection" (choosing a temporary coordinator).
    round = models.CharField(max_length=10)
    box_ct = models.BinaryField()
    count = models.PositiveIntegerField(default=0)
    # Set once the vote has closed and older versions of the box have been erased.
    sealed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "round"], name="one_box_per_vote")
        ]

    def context(self) -> str:
        return f"proposal:{self.proposal_id}:box:{self.round}"


def _random_id() -> str:
    return secrets.token_hex(16)


class SecretVote(models.Model):
    """A secret vote counted by tellers: its public manifest, and later its sums.

    Made when the vote opens (docs/ballots.md §2): the manifest holds the vote's public
    key and the commitments to its shares; each teller's share is sealed to their own
    public key (:class:`Teller`); the vote's secret key is never stored. ``sums`` (the
    ballots' homomorphic sums) are written when the vote closes; ``board_digest`` when
    it is counted. Decision 0130.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    # "vote" (the urgent vote) or "selection" (choosing a temporary coordinator).
    round = models.CharField(max_length=10)
    manifest = models.JSONField()
    sums = models.BinaryField(default=b"")
    board_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "round"], name="one_secret_vote_per_round")
        ]


class SealedBallot(models.Model):
    """One encrypted ballot of a secret vote, and nothing else.

    A random id, no time, no voter: the roll (``ballot_cast`` events) says who voted.
    Every ballot of a vote has the same length, abstentions included; it opens only
    with k tellers' keys (docs/ballots.md §3).
    """

    id = models.CharField(primary_key=True, max_length=32, default=_random_id, editable=False)
    vote = models.ForeignKey(SecretVote, on_delete=models.CASCADE, related_name="ballots")
    ciphertext = models.BinaryField()


class Teller(models.Model):
    """A teller of a secret vote: their sealed key share, then their decryption share."""

    vote = models.ForeignKey(SecretVote, on_delete=models.CASCADE, related_name="tellers")
    # Teller i of the manifest (1..n).
    index = models.PositiveSmallIntegerField()
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sealed_share = models.BinaryField()
    # Their decryption share of the sums with its proofs (empty until given).
    share = models.BinaryField(default=b"")

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "index"], name="one_teller_per_index"),
            models.UniqueConstraint(fields=["vote", "member"], name="one_seat_per_teller"),
        ]


class Meeting(models.Model):
    """An in-person meeting of one group whose decisions are recorded on their own.

    Each decision is a :class:`Proposal` made ``from_meeting`` (its first event is the
    meeting's record); this row holds what they share: the day, how many attended (a
    count, never names), and the notes (encrypted with the group's key).
    """

    group = models.ForeignKey("federation.Group", on_delete=models.PROTECT, related_name="+")
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    held_on = models.DateField()
    attendance = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()
    notes_ct = models.BinaryField(default=b"")

    class Meta:
        ordering = ["-held_on", "-pk"]

    def _context(self) -> str:
        return f"meeting:{self.pk}:notes"

    @property
    def notes(self) -> str:
        """Return the meeting's notes, readable with the group's key only."""
        if not self.notes_ct:
            return ""
        return keyring.decrypt(self.notes_ct, context=self._context())

    def set_notes(self, notes: str) -> None:
        """Encrypt the notes with the group's key (after the row has its id)."""
        self.notes_ct = (
            keyring.encrypt(keyring.group_scope(self.group_id), notes, context=self._context())
            if notes
            else b""
        )


class Awaiting(models.Model):
    """Something in an open proposal that waits for a member: their inbox, one row each."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="awaiting")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    wait = models.CharField(max_length=20, choices=[(w.value, w.value) for w in Wait])
    # When a fellow member of the group last reminded them of it (docs/decisions/0097).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "member", "wait"], name="one_wait_each")
        ]
        indexes = [models.Index(fields=["member", "proposal"])]


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
    body_ct = models.BinaryField()
    # The message's HTML, rendered when it was written (decision 0139), and its rendering.
    html_ct = models.BinaryField(null=True, editable=False)
    html_of = models.CharField(max_length=80, default="", editable=False)

    def _context(self) -> str:
        # The context names this very message (its id), so a ciphertext moved onto
        # another message, in the same thread or not, does not decrypt.
        if self.pk is None:
            raise ValueError("a message is encrypted once it has its id")
        thread = f"p{self.proposal_id}" if self.proposal_id is not None else f"g{self.group_id}"
        return f"comment:{thread}:{self.pk}"

    def _scope_and_context(self) -> tuple[str, str]:
        # Reading needs only the context (the blob names its key); writing, the scope too.
        scope = (
            self.proposal.key_scope()
            if self.proposal_id is not None
            else keyring.group_scope(self.group_id)
        )
        return scope, self._context()

    @property
    def body(self) -> str:
        """Return the message, readable with its thread's key only."""
        return keyring.decrypt(self.body_ct, context=self._context())

    @property
    def html(self) -> SafeString:
        """Return the message as sanitised HTML: as stored when written, or rendered now."""
        stored = _stored_html(self.html_ct, self.html_of, context=f"{self._context()}:html")
        return markdown.render(self.body) if stored is None else stored

    def set_body(self, body: str) -> None:
        """Encrypt the message, and its HTML, with its thread's key."""
        scope, context = self._scope_and_context()
        self.body_ct = keyring.encrypt(scope, body, context=context)
        html = markdown.render(body)
        self.html_ct = keyring.encrypt(scope, html, context=f"{context}:html")
        self.html_of = markdown.RENDERING

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


class ChainCheckpoint(models.Model):
    """How far a decision chain has been verified from its start: pages verify the rest.

    ``seq`` and ``digest`` name the last record verified: by the last full check
    (``veche verify``, which also sets ``checked_seq`` and ``checked_at``), or since then
    link by link as records were appended (decision 0137). Pages check from there.
    """

    chain = models.CharField(max_length=40, unique=True)
    seq = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    # The last full check: the last record it covered and when (None: never run).
    checked_seq = models.PositiveIntegerField(null=True)
    checked_at = models.DateTimeField(null=True)


def chain_name(group_id: int | None) -> str:
    """Return the name of the chain holding a group's (or, with None, the federation's) log."""
    return "federation" if group_id is None else f"group-{group_id}"
