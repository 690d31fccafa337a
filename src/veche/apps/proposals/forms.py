"""Forms: parse and validate input, then hand plain values to services.

Ballots come from plain HTML controls (radio buttons, check boxes, selects), so that
voting works with JavaScript switched off; :func:`parse_ballot` turns them into the
plain ballots the domain's tallies take, with a clear message for anything malformed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy, gettext_noop

from veche.apps.core.labels import kind_name
from veche.domain.charter import Charter, Power, Scope
from veche.domain.consensus import Position
from veche.domain.errors import InvalidBallot
from veche.domain.proposals import Outcome, ReachedBy
from veche.domain.voting import Method, VoteSpec

POSITION_LABELS = {
    Position.AGREE: gettext_lazy("Agree"),
    Position.STAND_ASIDE: gettext_lazy("Stand aside"),
    Position.OBJECT: gettext_lazy("Object (a concern to resolve)"),
    Position.BLOCK: gettext_lazy("Block (a principled objection)"),
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of decision"))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Proposal"),
        widget=forms.Textarea,
        max_length=20_000,
        help_text=gettext_lazy("Markdown: *emphasis*, lists, links. No images."),
    )
    urgent = forms.BooleanField(
        label=gettext_lazy("Urgent: if there is no consensus by the deadline, use the fallback"),
        required=False,
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline for consensus (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        help_text=gettext_lazy(
            "Leave empty for the longest time the charter allows. Each kind's shortest "
            "deadline is in the table below."
        ),
    )
    options = forms.CharField(
        label=gettext_lazy("Alternatives, one per line (for a vote; leave empty for yes/no)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    mandate_scope = forms.CharField(
        label=gettext_lazy("Matters a temporary coordinator may decide, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    new_group_name = forms.CharField(
        label=gettext_lazy("Name of the group to admit (for admitting a group)"),
        required=False,
        max_length=120,
    )
    coordinator = forms.ChoiceField(
        label=gettext_lazy("Member to coordinate the group (for choosing a coordinator)"),
        required=False,
    )
    member = forms.ChoiceField(
        label=gettext_lazy("Member to remove from the group (for removing a member)"),
        required=False,
        help_text=gettext_lazy(
            "The member concerned sees the proposal but does not take part in deciding it."
        ),
    )
    draft = forms.BooleanField(label=gettext_lazy("Save as a draft first"), required=False)

    def __init__(
        self,
        *args: Any,
        charter: Charter,
        coordinators: list[tuple[str, str]],
        removable: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.key, kind_name(k)) for k in charter.kinds]
        self.fields["coordinator"].choices = [("", "—"), *coordinators]
        self.fields["member"].choices = [("", "—"), *(removable or [])]
        if not charter.with_power(Power.REMOVE_MEMBER):
            del self.fields["member"]

    def clean_deadline(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("deadline")
        if value is None:
            return None
        # Tor Browser reports UTC; the label says UTC: treat the entry as UTC.
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def clean_options(self) -> list[str]:
        return _lines(self.cleaned_data.get("options", ""))

    def clean_mandate_scope(self) -> list[str]:
        return _lines(self.cleaned_data.get("mandate_scope", ""))


class AmendForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Proposal"), widget=forms.Textarea, max_length=20_000)


class ResponseForm(forms.Form):
    position = forms.ChoiceField(
        label=gettext_lazy("Your response"),
        choices=[(p.value, POSITION_LABELS[p]) for p in Position],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (needed to stand aside, object or block)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean_position(self) -> Position:
        return Position(self.cleaned_data["position"])


class MandateDecisionForm(forms.Form):
    matter = forms.ChoiceField(label=gettext_lazy("Matter"))
    # The matter comes back as its index; its words are accepted too (scripts, the API).
    text = forms.CharField(
        label=gettext_lazy("Decision"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, scope: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Submitted as the matter's index: its words are content, stored encrypted.
        self.fields["matter"].choices = [(str(i), m) for i, m in enumerate(scope)]
        self._labels = list(scope)
        if self.is_bound and self.data.get("matter") in self._labels:
            self.data = self.data.copy()
            self.data["matter"] = str(self._labels.index(self.data["matter"]))


def _outcome_field() -> forms.ChoiceField:
    """What a meeting decided: one field for a meeting on a proposal and one on its own."""
    return forms.ChoiceField(
        label=gettext_lazy("What the meeting decided"),
        choices=[
            (Outcome.ADOPTED.value, gettext_lazy("Adopted")),
            (Outcome.NOT_ADOPTED.value, gettext_lazy("Not adopted")),
        ],
    )


def _reached_by_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=gettext_lazy("How it was reached"),
        choices=[
            (ReachedBy.CONSENSUS.value, gettext_lazy("By consensus")),
            (ReachedBy.VOTE.value, gettext_lazy("By a vote")),
        ],
    )


class MeetingForm(forms.Form):
    renders_alike = True  # fixed fields and choices: blank, it is rendered once (templating)
    outcome = _outcome_field()
    reached_by = _reached_by_field()
    attendance = forms.IntegerField(
        label=gettext_lazy("How many members attended (a count, never names)"),
        min_value=1,
        max_value=100_000,
    )
    held_on = forms.DateField(
        label=gettext_lazy("Day of the meeting (UTC)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("Leave empty for today."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MeetingRecordForm(forms.Form):
    """A meeting whose decisions are recorded on their own: what they share."""

    held_on = forms.DateField(
        label=gettext_lazy("Day of the meeting (UTC)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("Not in the future, and not before the group existed."),
    )
    attendance = forms.IntegerField(
        label=gettext_lazy("How many members attended (a count, never names)"),
        min_value=1,
        max_value=100_000,
        help_text=gettext_lazy(
            "No more than the group had members that day, and at least a quorum of them."
        ),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TakenForm(forms.Form):
    """One decision the meeting took; a form left empty is no decision."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind of decision"))
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    text = forms.CharField(
        label=gettext_lazy("What was decided"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = _outcome_field()
    reached_by = _reached_by_field()
    member = forms.ChoiceField(
        label=gettext_lazy("Member concerned (choosing a coordinator, removing a member)"),
        required=False,
    )

    def __init__(
        self, *args: Any, charter: Charter, members: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (k.key, kind_name(k)) for k in charter.kinds if k.scope is Scope.GROUP
        ]
        self.fields["member"].choices = [("", "—"), *members]

    @property
    def is_blank(self) -> bool:
        """Return whether nothing was written in this decision's title or text."""
        if not self.is_bound:
            return True
        prefix = f"{self.prefix}-" if self.prefix else ""
        return not any(
            (self.data.get(f"{prefix}{name}") or "").strip() for name in ("title", "text")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.is_blank:
            for name in ("title", "text"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, gettext_lazy("This field is required."))
        return data


class CommentForm(forms.Form):
    renders_alike = True  # blank, it is rendered once (templating)
    body = forms.CharField(
        label=gettext_lazy("Message"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 4})
    )


def parse_ballot(spec: VoteSpec, data: QueryDict) -> Any:
    """Return the plain ballot that the submitted controls express; raise InvalidBallot.

    Field names: ``choice`` (majority, supermajority: an option index or "abstain"),
    ``approve`` (approval: repeated option indices), ``score-<i>`` (score: 0..max),
    ``rank-<i>`` (IRV, Schulze: 1 for first choice, empty for unranked).
    """
    n = len(spec.options)
    method = spec.method
    if method in (Method.MAJORITY, Method.SUPERMAJORITY):
        choice = data.get("choice", "")
        if choice == "abstain":
            return None
        return _index(choice, n)
    if method is Method.APPROVAL:
        return sorted({_index(v, n) for v in data.getlist("approve")})
    if method is Method.SCORE:
        if data.get("abstain"):
            return None
        scores = []
        for i in range(n):
            raw = data.get(f"score-{i}", "0") or "0"
            try:
                scores.append(int(raw))
            except ValueError:
                raise InvalidBallot(
                    gettext_noop("Scores are whole numbers."), field="ballot"
                ) from None
        return scores
    # Ranked methods: each option may get a rank; ranks must be distinct.
    ranked: list[tuple[int, int]] = []
    for i in range(n):
        raw = (data.get(f"rank-{i}") or "").strip()
        if not raw:
            continue
        try:
            rank = int(raw)
        except ValueError:
            raise InvalidBallot(gettext_noop("Ranks are whole numbers."), field="ballot") from None
        if not 1 <= rank <= n:
            raise InvalidBallot(
                gettext_noop("Ranks go from 1 to %(n)d."), field="ballot", params={"n": n}
            )
        ranked.append((rank, i))
    ranks = [r for r, _i in ranked]
    if len(set(ranks)) != len(ranks):
        raise InvalidBallot(gettext_noop("Give each rank to one option only."), field="ballot")
    return [i for _r, i in sorted(ranked)]


def _index(raw: str, n: int) -> int:
    try:
        index = int(raw)
    except (TypeError, ValueError):
        raise InvalidBallot(gettext_noop("Choose one of the options."), field="ballot") from None
    if not 0 <= index < n:
        raise InvalidBallot(gettext_noop("Choose one of the options."), field="ballot")
    return index


class AmendmentTextForm(forms.Form):
    """The words that go with a proposed charter or a group's own rules: why, in the author's
    words. What changes is shown beside them, from the rules themselves."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Why (the proposal's text)"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20_000,
        help_text=gettext_lazy("Markdown: *emphasis*, lists, links. No images."),
    )
    draft = forms.BooleanField(label=gettext_lazy("Save as a draft first"), required=False)
