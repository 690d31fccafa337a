"""The start page, the federation page, our rules, group pages, invitations, and joining."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from veche.apps.accounts import services as accounts
from veche.apps.accounts.forms import JoinForm
from veche.apps.accounts.keys import share_on_login
from veche.apps.accounts.middleware import remember_private_key
from veche.apps.accounts.models import Member
from veche.apps.accounts.views import busy
from veche.apps.core.actions import form_at
from veche.apps.core.pagination import paginate
from veche.apps.core.permissions import member_required, public
from veche.apps.federation import presenters, selectors, services, wording
from veche.apps.federation.forms import InviteForm
from veche.apps.federation.models import Group
from veche.apps.federation.permissions import require_coordinator, require_group_member


@public
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Return the about page to visitors; send members to their inbox."""
    if request.user.is_authenticated and request.user.group_id:
        return redirect("proposals:inbox")
    return render(request, "federation/home.html")


@member_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Return the federation page: groups with member counts, the charter's decision kinds."""
    return render(
        request,
        "federation/overview.html",
        {
            "federation": selectors.get_federation(),
            "groups": selectors.active_groups(),
            "decision_kinds": selectors.charter_decision_kinds(),
        },
    )


@member_required
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """Return "Our rules": the charter in force in plain words, the member's group's own
    rules, and the charter's history (every version, when, by which decision, what changed)."""
    version = selectors.charter_in_force()
    if version is None:
        raise Http404
    charter = selectors.charter_of(version)
    page = paginate(request, selectors.charter_versions(), per_page=10)
    group_id = request.user.group_id
    return render(
        request,
        "federation/rules.html",
        {
            "version": version,
            "kinds": presenters.charter_kinds(charter),
            "federation_lines": wording.federation_lines(charter),
            "history": presenters.charter_history(page.object_list),
            "page": page,
            "own": presenters.group_rules(group_id, charter) if group_id else None,
        },
    )


@member_required
@require_GET
def charter_json(request: HttpRequest, number: int) -> HttpResponse:
    """Return one charter version as its canonical JSON: its SHA-256 is the version's digest.

    A member can check, offline, that the version the decision log names is this one.
    """
    version = selectors.charter_version(number=number)
    if version is None:
        raise Http404
    body = json.dumps(version.charter, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="charter-{version.number}.json"'
    return response


def _group_or_404(group_id: int) -> Group:
    group = selectors.get_group(group_id=group_id)
    if group is None:
        raise Http404
    return group


@member_required
@require_GET
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    """Return a group's page (its members and coordinators) to its own members only."""
    group = _group_or_404(group_id)
    require_group_member(request.user, group)
    coordinators = selectors.group_coordinators(group=group)
    is_coordinator = request.user.pk in {m.pk for m in coordinators}
    removal = selectors.removal_rules()
    return render(
        request,
        "federation/group.html",
        {
            "group": group,
            "members": selectors.group_members(group=group),
            "coordinators": coordinators,
            "coordinator_ids": {m.pk for m in coordinators},
            "is_coordinator": is_coordinator,
            # Removing a member: by the coordinator alone only where the charter says so;
            # otherwise any member proposes it to the group (a decision of its kind).
            "may_remove_alone": is_coordinator and removal.coordinator_alone,
            "removal_kind": removal.kind_key,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, group_id: int) -> HttpResponse:
    """Create an invitation (coordinators only) and show its join URL, once."""
    group = _group_or_404(group_id)
    require_coordinator(request.user, group)
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation, secret = services.create_invitation(
                    group=group,
                    created_by=request.user,
                    as_coordinator=form.cleaned_data["as_coordinator"],
                )
            except services.MissingKeys:
                form.add_error(
                    None,
                    _(
                        "Your session cannot open the group's keys, which an invitation "
                        "must carry. Log out and log in again, then invite."
                    ),
                )
                return render(
                    request, "federation/invite.html", {"group": group, "form": form}, status=409
                )
            join_url = request.build_absolute_uri(reverse("federation:join", args=[secret]))
            return render(
                request,
                "federation/invitation_created.html",
                {"group": group, "invitation": invitation, "join_url": join_url},
            )
        return render(request, "federation/invite.html", {"group": group, "form": form}, status=400)
    return render(request, "federation/invite.html", {"group": group, "form": InviteForm()})


def _removal_page(request: HttpRequest, group_id: int, member_id: int) -> None:
    """Raise as removing would, for a member who may not see this group or member."""
    group = _group_or_404(group_id)
    require_group_member(request.user, group)
    if not Member.objects.filter(pk=member_id, group=group, is_active=True).exists():
        raise Http404


@member_required
@form_at("federation:group", keep=("group_id",), guard=_removal_page)
def remove_member(request: HttpRequest, group_id: int, member_id: int) -> HttpResponse:
    """Remove a member from the group (a coordinator alone, if the charter allows it)."""
    group = _group_or_404(group_id)
    require_coordinator(request.user, group)
    member = Member.objects.filter(pk=member_id, group=group, is_active=True).first()
    if member is None:
        raise Http404
    if not selectors.removal_rules().coordinator_alone:
        messages.error(
            request,
            _(
                "The charter makes removing a member the group's decision: a coordinator "
                "does not remove anyone alone. Propose the removal to the group instead."
            ),
        )
        return redirect("federation:group", group_id=group.pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm the removal."))
        return redirect("federation:group", group_id=group.pk)
    try:
        services.remove_member(group=group, member=member, by=request.user)
    except services.CannotRemove:
        messages.error(request, _("This member cannot be removed."))
        return redirect("federation:group", group_id=group.pk)
    messages.success(
        request,
        _("The member was removed; the group's keys were renewed for what is written next."),
    )
    return redirect("federation:group", group_id=group.pk)


def _invitation_gone(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/invitation_invalid.html", status=404)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, secret: str) -> HttpResponse:
    """Show the join form for a valid invitation; on POST, create the member and log in."""
    invitation = selectors.get_usable_invitation(secret=secret)
    if invitation is None:
        return _invitation_gone(request)
    if request.method == "POST":
        form = JoinForm(request.POST)
        if form.is_valid():
            try:
                member = services.redeem_invitation(
                    secret=secret,
                    pseudonym=form.cleaned_data["pseudonym"],
                    passphrase=form.cleaned_data["passphrase"],
                )
            except services.InvitationUnusable:
                return _invitation_gone(request)
            except accounts.HashingBusy:
                return busy(
                    request,
                    "accounts/join.html",
                    form,
                    {
                        "group_name": invitation.group.name,
                        "as_coordinator": invitation.as_coordinator,
                    },
                )
            except accounts.PseudonymTaken:
                form.add_error("pseudonym", _("This pseudonym is taken. Please choose another."))
            else:
                if request.user.is_authenticated:
                    logout(request)
                login(request, member)
                messages.success(request, _("Welcome. You are now a member of your group."))
                response = redirect("home")
                remember_private_key(request, response, member.unlocked_private_key)
                share_on_login(member, member.unlocked_private_key)
                return response
        status = 400
    else:
        form = JoinForm()
        status = 200
    return render(
        request,
        "accounts/join.html",
        {
            "form": form,
            "group_name": invitation.group.name,
            "as_coordinator": invitation.as_coordinator,
        },
        status=status,
    )
