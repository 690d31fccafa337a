"""Views every page relies on: static files, language switch, error pages."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import i18n
from django.views import static as static_views
from django.views.decorators.http import require_GET

from veche.apps.core.permissions import public

# Django's own view, declared public: a POST form, no JavaScript.
set_language = public(i18n.set_language)


@public
@require_GET
def static_file(request: HttpRequest, path: str) -> HttpResponse:
    """Return a file from the apps' ``static/`` directories (DEBUG on or off).

    No collectstatic, no WhiteNoise: a few small files, found by the same finder
    Django uses, served with Django's own conditional-GET-aware view.
    """
    try:
        found = finders.find(path)
    except SuspiciousFileOperation as exc:  # "../" out of a static directory
        raise Http404 from exc
    if not found or isinstance(found, list):
        raise Http404
    file = Path(found)
    response = static_views.serve(request, file.name, document_root=str(file.parent))
    response["Cache-Control"] = "public, max-age=3600"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Return a 403 page for a failed CSRF check, in the site's own style."""
    return render(request, "403_csrf.html", status=403)
