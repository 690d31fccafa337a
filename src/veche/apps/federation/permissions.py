"""Object-level access to a group's pages: one condition per line, each raising.

The view-level declaration (``member_required``, ``public``) is core's; these checks need
to know what a group and its coordinators are, so they live with the organisation.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from veche.apps.accounts.models import Member
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import is_coordinator


def is_group_member(member: Member, group: Group) -> bool:
    """Return whether ``member`` is an active member of ``group``."""
    return bool(
        member.is_authenticated
        and member.is_active
        and member.group_id is not None
        and member.group_id == group.pk
        and group.dissolved_at is None
    )


def require_group_member(member: Member, group: Group) -> None:
    """Raise Http404 unless ``member`` belongs to ``group``.

    404, not 403: a member of another group must not learn even that the page exists
    (compartmentalisation, DESIGN.md §1).
    """
    if not member.is_authenticated:
        raise Http404
    if not member.is_active:
        raise Http404
    if member.group_id != group.pk:
        raise Http404
    if group.dissolved_at is not None:
        raise Http404


def require_coordinator(member: Member, group: Group) -> None:
    """Raise unless ``member`` is a coordinator of ``group`` now.

    Outsiders get 404 (as above); members who are not coordinators get 403.
    """
    require_group_member(member, group)
    if not is_coordinator(member=member, group=group):
        raise PermissionDenied
