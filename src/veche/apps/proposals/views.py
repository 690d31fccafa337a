"""Proposals, the inbox and the decision log: thin views over selectors and services.

Every view declares its access (``member_required``) and checks object access through
:func:`_visible_or_404`: a proposal of another group is a 404, as if it did not exist.
A rule the domain refuses comes back as a 400 with the reason beside the form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from veche.apps.accounts.models import Member
from veche.apps.core import keyring
from veche.apps.core.actions import form_at
from veche.apps.core.errors import translated
from veche.apps.core.pagination import paginate
from veche.apps.core.permissions import member_required
from veche.apps.federation.charter_forms import CharterForm, CharterJsonForm, GroupRulesForm
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import (
    charter_in_force,
    charter_of,
    get_charter,
    group_members,
    group_rules_in_force,
    rules_of,
)
from veche.apps.proposals import forms, presenters, selectors, services, signals, urgency
from veche.apps.proposals.models import Proposal, chain_name
from veche.domain import proposals as domain
from veche.domain.charter import Power
from veche.domain.decisions_log import records_to_jsonl
from veche.domain.errors import DomainError, InvalidCharter


def _visible_or_404(request: HttpRequest, proposal_id: int) -> Proposal:
    row = selectors.get_visible_proposal(member=request.user, proposal_id=proposal_id)
    if row is None:
        raise Http404
    return row


# A proposal's actions: opened in the browser, they lead back to the proposal's page.
_form_on_proposal = form_at("proposals:detail", guard=_visible_or_404)


@member_required
@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    """Return a page of the proposals the member may see: open ones, or decided ones."""
    closed = request.GET.get("show") == "closed"
    page = paginate(request, selectors.proposal_lines(request.user, closed=closed))
    items = presenters.list_items(page.object_list)
    return render(request, "proposals/list.html", {"items": items, "page": page, "closed": closed})


def _coordinator_choices(member: Any) -> list[tuple[str, str]]:
    if member.group_id is None:
        return []
    group = Group.objects.get(pk=member.group_id)
    return [(str(m.pk), m.pseudonym) for m in group_members(group=group)]


def _chosen_member(value: str | None) -> Member | None:
    """Return the member a form's choice names (the form limited it to the group's)."""
    return Member.objects.filter(pk=int(value)).first() if value else None


@member_required
@require_http_methods(["GET", "POST"])
def proposal_new(request: HttpRequest) -> HttpResponse:
    """Return the form for a new proposal, or create it.

    ``?kind=`` and ``?member=`` fill the form in (the group page's "propose the removal").
    """
    charter = get_charter()
    if charter is None:
        raise Http404
    choices = _coordinator_choices(request.user)
    # What carries rules (a charter, a group's own rules) has its own form (new_charter).
    carried = (Power.AMEND_CHARTER, Power.GROUP_RULES)
    removable = [(pk, name) for pk, name in choices if pk != str(request.user.pk)]
    form = forms.ProposalForm(
        request.POST or None,
        charter=dataclasses.replace(
            charter, kinds=tuple(k for k in charter.kinds if k.power not in carried)
        ),
        coordinators=choices,
        removable=removable,
        initial={"kind": request.GET.get("kind", ""), "member": request.GET.get("member", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        removal = charter.kind(data["kind"]).power is Power.REMOVE_MEMBER
        try:
            row = services.create_proposal(
                author=request.user,
                kind_key=data["kind"],
                title=data["title"],
                body=data["body"],
                urgent=data["urgent"],
                deadline=data["deadline"],
                options=data["options"],
                mandate_scope=data["mandate_scope"],
                draft=data["draft"],
                new_group_name=data.get("new_group_name", ""),
                coordinator=_chosen_member(data.get("coordinator")),
                concerns=_chosen_member(data.get("member")) if removal else None,
            )
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            return redirect("proposals:detail", proposal_id=row.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "kind_rules": urgency.kind_rules(charter)}
    return render(request, "proposals/new.html", context, status=status)


# Where a domain error's field is called otherwise in a form.
_FORM_FIELDS = {"concerns": "member"}


@member_required
@require_http_methods(["GET", "POST"])
def new_charter(request: HttpRequest) -> HttpResponse:
    """Return the amendment form (every kind's parameters, or the whole charter as JSON),
    or propose the amendment: a federation proposal that carries the whole new charter."""
    version = charter_in_force()
    if version is None:
        raise Http404
    base = charter_of(version)
    amending = base.with_power(Power.AMEND_CHARTER)
    data = request.POST or None
    as_json = (request.POST if request.method == "POST" else request.GET).get("as") == "json"
    text = forms.AmendmentTextForm(data)
    editor: CharterForm | CharterJsonForm = (
        CharterJsonForm(data, base=base) if as_json else CharterForm(data, base=base)
    )
    if request.method == "POST" and amending:
        proposed = _propose_rules(
            request, text, editor, amending[0].key,
            rules=lambda: {"charter": editor.charter()},
            refused=editor.add_charter_error,
        )  # fmt: skip
        if proposed is not None:
            return proposed
    return render(
        request,
        "proposals/new_charter.html",
        {"text": text, "editor": editor, "as_json": as_json, "version": version,
         "amending": amending[0] if amending else None},
        status=400 if request.method == "POST" else 200,
    )  # fmt: skip


@member_required
@require_http_methods(["GET", "POST"])
def new_group_rules(request: HttpRequest) -> HttpResponse:
    """Return the form of the member's group's own rules, or propose them to the group."""
    version = charter_in_force()
    if version is None or request.user.group_id is None:
        raise Http404
    base = charter_of(version)
    deciding = base.with_power(Power.GROUP_RULES)
    current = rules_of(group_rules_in_force(group_id=request.user.group_id))
    data = request.POST or None
    text = forms.AmendmentTextForm(data)
    editor = GroupRulesForm(data, charter=base, current=current)
    possible = bool(deciding and editor.rows)
    if request.method == "POST" and possible:
        proposed = _propose_rules(
            request, text, editor, deciding[0].key,
            rules=lambda: {"group_rules": editor.rules()},
            refused=editor.add_rules_error,
        )  # fmt: skip
        if proposed is not None:
            return proposed
    return render(
        request,
        "proposals/new_group_rules.html",
        {"text": text, "editor": editor, "possible": possible},
        status=400 if request.method == "POST" else 200,
    )


def _propose_rules(
    request: HttpRequest,
    text: forms.AmendmentTextForm,
    editor: Any,
    kind_key: str,
    *,
    rules: Callable[[], dict[str, Any]],
    refused: Callable[[InvalidCharter], None],
) -> HttpResponse | None:
    """Propose new rules (the charter, or a group's own) from a text form and an editor;
    return the redirect to the proposal, or None when refused: the forms then say why."""
    # Both forms are checked (not `and`): every refusal is shown at once.
    if not text.is_valid() & editor.is_valid():
        return None
    try:
        row = services.create_proposal(
            author=request.user,
            kind_key=kind_key,
            title=text.cleaned_data["title"],
            body=text.cleaned_data["body"],
            draft=text.cleaned_data["draft"],
            **rules(),
        )
    except InvalidCharter as error:
        refused(error)
    except DomainError as error:
        _add_domain_error(text, error)
    else:
        return redirect("proposals:detail", proposal_id=row.pk)
    return None


def _add_domain_error(form: Any, error: DomainError) -> None:
    name = _FORM_FIELDS.get(error.field or "", error.field)
    field = name if name in form.fields else None
    form.add_error(field, translated(error))


def _detail(
    request: HttpRequest,
    row: Proposal,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    forms_in: dict[str, Any] | None = None,
) -> HttpResponse:
    now = timezone.now()
    try:
        loaded = selectors.load(row, now=now)
    except selectors.BallotsUnreadable:
        return render(request, "proposals/unreadable.html", {"row": row}, status=409)
    thread = paginate(request, selectors.thread_rows(row), latest=True)
    context = presenters.detail(loaded, request.user, now, thread_page=thread)
    context["at_deadline"] = urgency.at_deadline(loaded)
    context["rotation_rule"] = urgency.rotation(loaded)
    context["errors"] = errors or {}
    if errors and request.method == "POST":
        _keep_typed(request, row, context, errors)
    context.update(forms_in or {})
    return render(request, "proposals/detail.html", context, status=status)


def _keep_typed(
    request: HttpRequest, row: Proposal, context: dict[str, Any], errors: dict[str, str]
) -> None:
    """Put what the member typed back in the refused form (shown once, beside it)."""
    typed = request.POST.dict()
    context["typed"] = typed
    if "comment" in errors:
        context["comment_form"] = forms.CommentForm(initial=typed)
    if "meeting" in errors:
        context["meeting_form"] = forms.MeetingForm(initial=typed)
    if "mandate" in errors and "mandate" in context:
        context["mandate"]["decision_form"] = forms.MandateDecisionForm(
            scope=tuple(row.mandate_scope), initial=typed
        )


@member_required
@require_GET
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Return a proposal: its text, where it stands, and what the member can do."""
    return _detail(request, _visible_or_404(request, proposal_id))


def _after(request: HttpRequest, row: Proposal, action: Any, where: str) -> HttpResponse:
    """Run a service; on success go back to the proposal, else show why (400)."""
    try:
        action()
    except DomainError as error:
        return _detail(request, row, errors={where: translated(error)}, status=400)
    return redirect("proposals:detail", proposal_id=row.pk)


@member_required
@_form_on_proposal
def respond(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Record the member's response."""
    row = _visible_or_404(request, proposal_id)
    form = forms.ResponseForm(request.POST)
    if not form.is_valid():
        return _detail(request, row, errors={"respond": _form_errors(form)}, status=400)
    data = form.cleaned_data
    return _after(
        request,
        row,
        lambda: services.respond(
            row=row,
            member=request.user,
            position=data["position"],
            reason=data["reason"],
            version=data["version"],
        ),
        "respond",
    )


@member_required
@_form_on_proposal
def carry(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Spokes mode: a coordinator carries the group's position."""
    row = _visible_or_404(request, proposal_id)
    form = forms.ResponseForm(request.POST)
    if not form.is_valid():
        return _detail(request, row, errors={"carry": _form_errors(form)}, status=400)
    data = form.cleaned_data
    return _after(
        request,
        row,
        lambda: services.carry_group_position(
            row=row, coordinator=request.user, position=data["position"], reason=data["reason"]
        ),
        "carry",
    )


def _form_errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@member_required
@require_http_methods(["GET", "POST"])
def amend(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Return the amendment form, or put a new version."""
    row = _visible_or_404(request, proposal_id)
    if row.author_id != request.user.pk:
        raise Http404
    version = selectors.current_version(row)
    form = forms.AmendForm(
        request.POST or None, initial={"title": version.title, "body": version.body}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.amend(
                row=row,
                actor=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, _("New version published; everyone responds again."))
            return redirect("proposals:detail", proposal_id=row.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "proposals/amend.html", {"form": form, "row": row}, status=status)


@member_required
@_form_on_proposal
def withdraw(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Withdraw the proposal (author only)."""
    row = _visible_or_404(request, proposal_id)
    return _after(request, row, lambda: services.withdraw(row=row, actor=request.user), "author")


@member_required
@_form_on_proposal
def publish(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Open a draft for responses."""
    row = _visible_or_404(request, proposal_id)
    return _after(request, row, lambda: services.publish(row=row, actor=request.user), "author")


@member_required
@_form_on_proposal
def vote(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Cast a ballot in the open vote."""
    row = _visible_or_404(request, proposal_id)
    try:
        loaded = selectors.load(row)
    except selectors.BallotsUnreadable:
        return render(request, "proposals/unreadable.html", {"row": row}, status=409)
    if loaded.state.vote is None:
        return _detail(request, row, errors={"vote": _("There is no vote open.")}, status=400)

    try:
        ballot = forms.parse_ballot(loaded.state.vote.spec, request.POST)
        cast = services.cast_ballot(row=row, voter=request.user, ballot=ballot)
    except DomainError as error:
        return _detail(request, row, errors={"vote": translated(error)}, status=400)
    if not cast.receipt:
        return redirect("proposals:detail", proposal_id=row.pk)
    # The receipt is shown once, on this page, and kept nowhere (docs/ballots.md §5).
    response = render(request, "proposals/ballot_cast.html", {"row": row, "receipt": cast.receipt})
    response["Cache-Control"] = "no-store"
    return response


@member_required
@_form_on_proposal
def count(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """A teller gives their share of a closed secret vote's count (their key is at hand)."""
    row = _visible_or_404(request, proposal_id)
    try:
        done = services.give_share(
            row=row, teller=request.user, private_key=keyring.private_key_of(request)
        )
    except DomainError as error:
        return _detail(request, row, errors={"count": translated(error)}, status=400)
    if done is services.ShareResult.COUNTED:
        messages.success(request, _("Your share completed the count: the result is in."))
    elif done is services.ShareResult.GIVEN:
        messages.success(request, _("Your share of the count is given."))
    return redirect("proposals:detail", proposal_id=row.pk)


@member_required
@require_GET
def board(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Return a counted secret vote's record, to check with `veche verify-vote`."""
    row = _visible_or_404(request, proposal_id)
    record = services.vote_record(row)
    if record is None:
        raise Http404
    response = HttpResponse(record.to_json(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="veche-vote-{row.pk}.json"'
    return response


@member_required
@_form_on_proposal
def volunteer(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Come forward as temporary coordinator."""
    row = _visible_or_404(request, proposal_id)
    return _after(request, row, lambda: services.volunteer(row=row, member=request.user), "mandate")


@member_required
@_form_on_proposal
def mandate_decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The temporary coordinator records a decision within the mandate."""
    row = _visible_or_404(request, proposal_id)
    form = forms.MandateDecisionForm(request.POST, scope=tuple(row.mandate_scope))
    if not form.is_valid():
        return _detail(request, row, errors={"mandate": _form_errors(form)}, status=400)
    return _after(
        request,
        row,
        lambda: services.record_mandate_decision(
            row=row,
            holder=request.user,
            matter=form.cleaned_data["matter"],
            text=form.cleaned_data["text"],
        ),
        "mandate",
    )


@member_required
@_form_on_proposal
def recall(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Support recalling the temporary coordinator."""
    row = _visible_or_404(request, proposal_id)
    return _after(
        request, row, lambda: services.support_recall(row=row, member=request.user), "mandate"
    )


@member_required
@_form_on_proposal
def meeting(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Record a decision reached at an in-person meeting."""
    row = _visible_or_404(request, proposal_id)
    form = forms.MeetingForm(request.POST)
    if not form.is_valid():
        return _detail(request, row, errors={"meeting": _form_errors(form)}, status=400)
    data = form.cleaned_data
    return _after(
        request,
        row,
        lambda: services.record_meeting(
            row=row,
            recorder=request.user,
            outcome=domain.Outcome(data["outcome"]),
            attendance=data["attendance"],
            reached_by=domain.ReachedBy(data["reached_by"]),
            notes=data["notes"],
            held_on=data["held_on"] or timezone.now().date(),
        ),
        "meeting",
    )


@member_required
@_form_on_proposal
def meeting_confirm(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Confirm a meeting record as someone who was present."""
    row = _visible_or_404(request, proposal_id)
    return _after(
        request, row, lambda: services.confirm_meeting(row=row, member=request.user), "meeting"
    )


@member_required
@_form_on_proposal
def remind(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Remind those of the member's own group the proposal still waits for."""
    row = _visible_or_404(request, proposal_id)
    try:
        reminded = services.remind(row=row, by=request.user)
    except DomainError as error:
        return _detail(request, row, errors={"remind": translated(error)}, status=400)
    if reminded:
        messages.success(
            request,
            ngettext(
                "Reminded %(n)d member: it is at the top of their inbox.",
                "Reminded %(n)d members: it is at the top of their inbox.",
                reminded,
            )
            % {"n": reminded},
        )
    else:
        messages.info(
            request,
            _(
                "Nobody was reminded: everyone still awaited here was reminded in the "
                "last 24 hours."
            ),
        )
    return redirect("proposals:detail", proposal_id=row.pk)


# --- meetings recorded on their own ---------------------------------------------------------

MEETING_SLOTS = 5


def _meeting_forms(request: HttpRequest, charter: Any) -> tuple[Any, list[Any]]:
    data = request.POST if request.method == "POST" else None
    members = _coordinator_choices(request.user)
    record = forms.MeetingRecordForm(data, initial={"held_on": timezone.now().date()})
    taken = [
        forms.TakenForm(data, charter=charter, members=members, prefix=f"d{i}")
        for i in range(MEETING_SLOTS)
    ]
    return record, taken


# Where a refused decision's domain field is shown in its part of the form.
_TAKEN_FIELDS = {"body": "text", "concerns": "member", "coordinator": "member"}


def _show_meeting_error(record: Any, taken: list[Any], error: DomainError) -> None:
    if error.field in ("held_on", "attendance", "notes"):
        record.add_error(error.field, translated(error))
        return
    index = getattr(error, "index", None)
    if index is None or not 0 <= index < len(taken):
        record.add_error(None, translated(error))
        return
    form = taken[index]
    name = _TAKEN_FIELDS.get(error.field or "", error.field)
    form.add_error(name if name in form.fields else None, translated(error))


@member_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    """Return the form recording a meeting's decisions, or record them (all or none)."""
    charter = get_charter()
    group = Group.objects.filter(pk=request.user.group_id, dissolved_at__isnull=True).first()
    if charter is None or group is None:
        raise Http404
    record, taken = _meeting_forms(request, charter)
    status = 200
    if request.method == "POST":
        status = 400
        filled = [f for f in taken if not f.is_blank]
        valid = record.is_valid() and all(f.is_valid() for f in filled)
        if valid and not filled:
            record.add_error(None, _("Write at least one decision the meeting took."))
        elif valid:
            try:
                meeting = services.record_meeting_decisions(
                    recorder=request.user,
                    held_on=record.cleaned_data["held_on"],
                    attendance=record.cleaned_data["attendance"],
                    notes=record.cleaned_data["notes"],
                    decisions=[_taken(f.cleaned_data) for f in filled],
                )
            except DomainError as error:
                _show_meeting_error(record, filled, error)
            else:
                messages.success(
                    request,
                    _(
                        "Recorded. Others who were present now confirm it; it is in the "
                        "decision log once they have."
                    ),
                )
                return redirect("proposals:meeting", meeting_id=meeting.pk)
    return render(
        request,
        "proposals/meeting_new.html",
        {"record": record, "taken": taken, "group": group},
        status=status,
    )


def _taken(data: dict[str, Any]) -> services.TakenAtMeeting:
    return services.TakenAtMeeting(
        kind_key=data["kind"],
        title=data["title"],
        text=data["text"],
        outcome=domain.Outcome(data["outcome"]),
        reached_by=domain.ReachedBy(data["reached_by"]),
        member=_chosen_member(data.get("member")),
    )


def _meeting_or_404(request: HttpRequest, meeting_id: int) -> Any:
    meeting = selectors.get_visible_meeting(member=request.user, meeting_id=meeting_id)
    if meeting is None:
        raise Http404
    return meeting


@member_required
@require_GET
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Return a meeting of the member's group: its decisions, and confirming them."""
    meeting = _meeting_or_404(request, meeting_id)
    context = presenters.meeting_page(meeting, request.user, timezone.now())
    return render(request, "proposals/meeting.html", context)


@member_required
@form_at("proposals:meeting", guard=_meeting_or_404)
def meeting_record_confirm(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Confirm, as someone present, every decision of the meeting that awaits it."""
    meeting = _meeting_or_404(request, meeting_id)
    try:
        services.confirm_meeting_record(meeting=meeting, member=request.user)
    except DomainError as error:
        context = presenters.meeting_page(meeting, request.user, timezone.now())
        context["error"] = translated(error)
        return render(request, "proposals/meeting.html", context, status=400)
    messages.success(request, _("Confirmed. Thank you."))
    return redirect("proposals:meeting", meeting_id=meeting.pk)


@member_required
@_form_on_proposal
def comment(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Add a message to the proposal's thread."""
    row = _visible_or_404(request, proposal_id)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        return _detail(request, row, errors={"comment": _form_errors(form)}, status=400)
    return _after(
        request,
        row,
        lambda: services.post_comment(author=request.user, body=form.cleaned_data["body"], row=row),
        "comment",
    )


@member_required
@_form_on_proposal
def founding_invitation(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Issue, once, the founding invitation of a group the federation admitted."""
    row = _visible_or_404(request, proposal_id)
    try:
        secret = services.issue_founding_invitation(row=row, actor=request.user)
    except DomainError as error:
        return _detail(request, row, errors={"author": translated(error)}, status=400)
    url = request.build_absolute_uri(f"/join/{secret}/")
    return render(request, "proposals/founding_invitation.html", {"row": row, "url": url})


@member_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Return what waits for the member, the most recently active first."""
    now = timezone.now()
    page = paginate(request, selectors.inbox_rows(request.user), per_page=100)
    items = presenters.inbox_items(page.object_list, now)
    # What the apps above put in the inbox (the fund's requests), from their own rows.
    sent = signals.inbox_wanted.send(sender=None, member=request.user)
    extra = [item for _receiver, found in sent for item in found]
    return render(
        request,
        "proposals/inbox.html",
        {"items": items, "extra": extra, "page": page, "now": now},
    )


@member_required
@require_http_methods(["GET", "POST"])
def group_thread(request: HttpRequest) -> HttpResponse:
    """Return the member's group's own thread, or add a message to it."""
    group = Group.objects.filter(pk=request.user.group_id, dissolved_at__isnull=True).first()
    if group is None:
        raise Http404
    form = forms.CommentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.post_comment(author=request.user, body=form.cleaned_data["body"], group=group)
            return redirect("proposals:group_thread")
        status = 400
    page = paginate(request, selectors.group_comments(group), latest=True)
    thread = presenters.thread(page.object_list, request.user)
    return render(
        request,
        "proposals/group_thread.html",
        {"group": group, "thread": thread, "form": form, "page": page},
        status=status,
    )


def _readable_chains(member: Any) -> list[str]:
    return [chain_name(None), chain_name(member.group_id)]


@member_required
@require_GET
def decision_log(request: HttpRequest) -> HttpResponse:
    """Return a page of the decisions the member may read, and whether their chains verify.

    Each chain is verified from its last full check (``veche verify``) to its end, and
    every record on this page against its own digest: the page never reads a whole chain.
    """
    decisions = selectors.visible_decisions(member=request.user)
    page = paginate(request, decisions)
    chains = [
        presenters.chain_status(chain, decisions.newest(chain))
        for chain in _readable_chains(request.user)
    ]
    rows = presenters.decision_rows(page.object_list)
    return render(
        request, "proposals/decisions.html", {"chains": chains, "rows": rows, "page": page}
    )


@member_required
@require_GET
def decision_export(request: HttpRequest, chain: str) -> HttpResponse:
    """Return one readable chain as JSON Lines, to verify offline with `veche verify`."""
    if chain not in _readable_chains(request.user):
        raise Http404
    body = records_to_jsonl(selectors.log_records(chain))
    response = HttpResponse(body, content_type="application/jsonl; charset=utf-8")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="veche-{chain}-{stamp}.jsonl"'
    return response
