"""Root URLs, every app listed here.

Every view must declare its access (veche.apps.core.permissions); a test walks
this resolver to check it.
"""

from __future__ import annotations

from django.urls import include, path

from veche.apps.core import views as core_views
from veche.apps.federation import views as federation_views

urlpatterns = [
    path("", federation_views.home, name="home"),
    path("", include("veche.apps.accounts.urls")),
    path("", include("veche.apps.federation.urls")),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("static/<path:path>", core_views.static_file, name="static"),
    path("", include("veche.apps.proposals.urls")),
    path("", include("veche.apps.fund.urls")),
    path("", include("veche.apps.api.urls")),
]
