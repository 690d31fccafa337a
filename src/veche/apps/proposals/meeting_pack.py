"""The meeting pack: a group's open proposals on paper, and a form to bring back.

A group that meets face to face prints this page (from the browser, to paper or PDF):
an agenda, then one sheet per proposal with its text, its alternatives, where it stands
and its deadline, and a table to fill in at the meeting with what the site's meeting
record asks for (outcome, how it was reached, attendance as a count, notes) and the
confirmations it will need. The federation's open proposals follow, for the group to
discuss (a meeting cannot decide them: the federation decides together).

Paper leaves the server's protections behind, so the pack names nobody: no author, no
respondent, no coordinator, only counts (docs/decisions/0110-meeting-pack.md).

It reads stored summaries only (no replay): a constant number of queries whatever the
group's history, with at most :data:`CAP` proposals in each part, the soonest deadline
first; a longer list says how to find the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from veche.apps.core.labels import kind_name
from veche.apps.core.permissions import member_required
from veche.apps.federation.models import Group
from veche.apps.federation.permissions import require_group_member
from veche.apps.federation.selectors import charter_of, get_charter, get_group
from veche.apps.proposals import forms, presenters, selectors
from veche.apps.proposals.models import Awaiting, Proposal
from veche.domain import proposals as domain
from veche.domain.charter import Charter, Mode
from veche.domain.consensus import Position, needed_for
from veche.domain.proposals.meeting import MEETING_PHASES

# Proposals in each part of the pack. A group rarely has more open at once; past this
# the pack is a long print run, and the list pages have them all.
CAP = 25


def _open(rows: QuerySet[Proposal]) -> QuerySet[Proposal]:
    return (
        rows.filter(closed_at__isnull=True)
        # A draft is its author's alone until published: never on paper for a meeting.
        .exclude(phase=domain.Phase.DRAFT)
        .select_related("current_version", "charter_version")
        .order_by(F("due_at").asc(nulls_last=True), "created_at", "pk")
    )


def group_open_proposals(group: Group) -> QuerySet[Proposal]:
    """Return the group's own open proposals, the soonest deadline first."""
    return _open(Proposal.objects.filter(group=group, federation_wide=False))


def federation_open_proposals() -> QuerySet[Proposal]:
    """Return the federation's open proposals, the soonest deadline first."""
    return _open(Proposal.objects.filter(federation_wide=True))


def _awaiting_confirmation(rows: list[Proposal]) -> set[int]:
    """Return which of ``rows`` hold a meeting record that awaits confirmation (one query)."""
    return set(
        Awaiting.objects.filter(proposal__in=rows, wait=domain.Wait.CONFIRM_MEETING)
        .values_list("proposal_id", flat=True)
        .distinct()
    )


def _standing(row: Proposal) -> dict[str, Any]:
    phase = domain.Phase(row.phase)
    step = presenters.PHASE_STEPS.get(phase)
    counts = row.positions or {}
    return {
        "phase": presenters.PHASE_LABELS[phase],
        "consensus": phase is domain.Phase.CONSENSUS,
        "vote": phase in (domain.Phase.VOTE, domain.Phase.SELECTION_VOTE),
        "responded": row.responded_count,
        "eligible": row.eligible_count,
        "positions": [(forms.POSITION_LABELS[p], counts.get(p.value, 0)) for p in Position],
        "ballots_cast": row.ballots_cast,
        "vote_eligible": row.vote_eligible,
        "next": {"label": presenters.STEP_LABELS[step], "at": row.due_at} if step else None,
    }


def pack_items(
    rows: Iterable[Proposal], charter: Charter, request: HttpRequest, *, meeting: bool
) -> list[dict[str, Any]]:
    """Return the pack's sheets for ``rows``; with ``meeting``, each with its form to fill."""
    rows = list(rows)
    awaiting = _awaiting_confirmation(rows) if meeting else set()
    items = []
    for number, row in enumerate(rows, start=1):
        # Each proposal under the charter version it is bound to (read once per version).
        bound = charter_of(row.charter_version) if row.charter_version_id else charter
        kinds = {kind.key: kind for kind in bound.kinds}
        kind = kinds.get(row.kind_key)
        version = selectors.current_version(row)
        item: dict[str, Any] = {
            "number": number,
            "row": row,
            "title": version.title,
            "body_html": version.body_html,
            "version": row.version,
            "kind": kind_name(kind) if kind else row.kind_key,
            "urgent": row.urgent,
            "options": list(row.options) if row.option_count else [],
            "standing": _standing(row),
            "url": request.build_absolute_uri(reverse("proposals:detail", args=[row.pk])),
            "spokes": kind is not None and kind.mode is Mode.SPOKES,
        }
        if meeting:
            # The phases in which the domain accepts a meeting's record (its own list).
            may_record = domain.Phase(row.phase) in MEETING_PHASES
            item["meeting"] = {
                "form": may_record and row.pk not in awaiting,
                "awaiting": row.pk in awaiting,
                "quorum": needed_for(row.eligible_count, kind.consensus.quorum) if kind else None,
                "members": row.eligible_count,
                "confirmations": kind.meeting_confirmations if kind else None,
                "confirmation_boxes": range(1, kind.meeting_confirmations + 1) if kind else (),
            }
        items.append(item)
    return items


@member_required
@require_GET
def meeting_pack(request: HttpRequest, group_id: int) -> HttpResponse:
    """Return the group's meeting pack, to print: for the group's own members only."""
    group = get_group(group_id=group_id)
    if group is None:
        raise Http404
    require_group_member(request.user, group)
    charter = get_charter()
    if charter is None:  # pragma: no cover - a member implies a federation
        raise Http404
    own = list(group_open_proposals(group)[: CAP + 1])
    federation = list(federation_open_proposals()[: CAP + 1])
    form = forms.MeetingForm()
    return render(
        request,
        "proposals/meeting_pack.html",
        {
            "group": group,
            "now": timezone.now(),
            "items": pack_items(own[:CAP], charter, request, meeting=True),
            "more": len(own) > CAP,
            "federation_items": pack_items(federation[:CAP], charter, request, meeting=False),
            "federation_more": len(federation) > CAP,
            "cap": CAP,
            "labels": {name: field.label for name, field in form.fields.items()},
            "outcomes": form.fields["outcome"].choices,
            "reached_by": form.fields["reached_by"].choices,
            "positions": list(forms.POSITION_LABELS.values()),
        },
    )
