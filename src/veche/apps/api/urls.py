"""The API (``/api/...``, its schema and reference), the account page and the feeds.

django-ninja makes the API's views; each is declared here as reached by a token
(``core.permissions.TOKEN``: no session, the view checks the token), except the
OpenAPI document, which is public like the reference page.
"""

from django.urls import path

from veche.apps.api import views
from veche.apps.api.endpoints import api
from veche.apps.core.permissions import ACCESS_ATTR, PUBLIC, TOKEN

app_name = "api"

# django-ninja's root ("api-root", which ninja reverses to find its prefix) is shadowed
# by the reference page, listed first at the same address.
_PUBLIC = {"openapi-json", "api-root"}
_ninja_patterns, _app, _namespace = api.urls
for _pattern in _ninja_patterns:
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
