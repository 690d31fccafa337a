"""Who may see what: every view declares its access here, or it is refused.

Deny by default: ``core.middleware.AccessMiddleware`` refuses any view without an
``ACCESS_ATTR`` set by one of the decorators below (403 for members, login for
anonymous visitors). Object-level checks are the ``require_*`` helpers, called at
the top of a view, one condition per line, each raising.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

if TYPE_CHECKING:
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

ACCESS_ATTR = "veche_access"
PUBLIC = "public"
MEMBER = "member"

View = Callable[..., Any]


def _declare(view: View, access: str) -> View:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    setattr(wrapper, ACCESS_ATTR, access)
    return wrapper


def public(view: View) -> View:
    """Return ``view`` declared open to anyone, logged in or not."""
    return _declare(view, PUBLIC)


def member_required(view: View) -> View:
    """Return ``view`` declared open to any logged-in, active member.

    The check itself is made by the middleware, before the view runs.
    """
    return _declare(view, MEMBER)


def access_of(view: View) -> str | None:
    """Return the declared access of a view, or None if it declares none."""
    return getattr(view, ACCESS_ATTR, None)


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
    from veche.apps.federation.selectors import is_coordinator

    require_group_member(member, group)
    if not is_coordinator(member=member, group=group):
        raise PermissionDenied
