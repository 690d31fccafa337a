"""The API (``/api/...``, its schema and reference), the account page and the feeds.

django-ninja makes the API's views; each is declared here as reached by a token
(``core.permissions.TOKEN``: no session, the view checks the token), except the
OpenAPI document, which is public like the reference page.
"""

import functools
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext as _

from veche.apps.api import views
from veche.apps.api.endpoints import api
from veche.apps.api.problems import problem_response
from veche.apps.core.permissions import ACCESS_ATTR, PUBLIC, TOKEN

app_name = "api"

# django-ninja's root ("api-root", which ninja reverses to find its prefix) is shadowed
# by the reference page, listed first at the same address.
_PUBLIC = {"openapi-json", "api-root"}


def _problem_for_405(view: Any) -> Any:
    """Return ``view`` answering a method it does not take with problem details, not the
    empty 405 django-ninja gives (``Allow`` still says which methods it takes)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.content:
            return problem_response(
                405, _("This address does not take this method."),
                headers={"Allow": response.get("Allow", "")},
            )  # fmt: skip
        return response

    return wrapper


_ninja_patterns, _app, _namespace = api.urls
for _pattern in _ninja_patterns:
    _pattern.callback = _problem_for_405(_pattern.callback)
    setattr(_pattern.callback, ACCESS_ATTR, PUBLIC if _pattern.name in _PUBLIC else TOKEN)

urlpatterns = [
    path("api/", views.reference, name="reference"),
    path("api/", (_ninja_patterns, "api", "api")),
    # Whatever else is under /api/ (an id that is not a number...): a problem, not a page.
    path("api/<path:path>", views.api_not_found, name="not_found"),
    path("account/", views.account, name="account"),
    path("feeds/<str:secret>/inbox.atom", views.feed_inbox, name="feed_inbox"),
    path("feeds/<str:secret>/decisions.atom", views.feed_decisions, name="feed_decisions"),
]
