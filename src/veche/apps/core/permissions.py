"""Who may see what: every view declares its access here, or it is refused.

Deny by default: ``core.middleware.AccessMiddleware`` refuses any view without an
``ACCESS_ATTR`` set by one of the decorators below (403 for members, login for
anonymous visitors). Object-level checks are the ``require_*`` helpers of the apps that
know the objects (``federation.permissions``), called at the top of a view, one
condition per line, each raising.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

ACCESS_ATTR = "veche_access"
PUBLIC = "public"
MEMBER = "member"
# Reached with an API token or a feed's secret, never with a session: the view
# authenticates the secret itself and answers 401/404 without it (veche.apps.api).
TOKEN = "token"  # noqa: S105 - an access kind, not a secret

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


def token_required(view: View) -> View:
    """Return ``view`` declared open only to the holder of a token or feed secret.

    The middleware lets it through without a session; the view (``veche.apps.api``)
    checks the secret before anything else and ignores any session cookie.
    """
    return _declare(view, TOKEN)


def access_of(view: View) -> str | None:
    """Return the declared access of a view, or None if it declares none."""
    return getattr(view, ACCESS_ATTR, None)
