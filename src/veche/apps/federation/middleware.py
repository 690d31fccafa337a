"""Members of a dissolved group are no longer members of the federation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from veche.apps.core.permissions import MEMBER, access_of


class DissolvedGroupMiddleware:
    """Refuse members-only pages to a member whose group was dissolved (after core's access).

    No longer a member of the federation: nothing members-only, not even the federation's
    pages or their old group's (the compartment matrix checks it).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if access_of(view_func) != MEMBER or not user.is_authenticated:
            return None
        # The member's group came with them (accounts.backends.MemberBackend.get_user).
        group = user.group if getattr(user, "group_id", None) is not None else None
        if group is not None and group.dissolved_at is not None:
            return render(request, "group_dissolved.html", status=403)
        return None
