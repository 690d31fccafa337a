"""An action's URL opened in the browser leads back to the page that holds its form.

A view that only takes a form's submission used to answer anything but a POST with
Django's empty 405 (``require_POST``): a bookmark, a reload of an error page, a link
followed by hand, or the login redirect after a session ended, all ended there.
:func:`form_at` replaces ``require_POST``: a POST runs the view; a GET (or HEAD) is sent
to the page that holds the form, once ``guard`` (the view's own lookups) has run, so an
object the member may not see stays a 404 and nobody learns more from the redirect than
from the page. Any other method is a 405 that says what the address is for.
See docs/decisions/0101-no-dead-ends.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

View = Callable[..., Any]
# Set on a wrapped view: the URL name of the page that holds its form (tests read it).
FORM_PAGE_ATTR = "veche_form_page"


def form_at(
    page: str,
    *,
    keep: tuple[str, ...] | None = None,
    guard: Callable[..., object] | None = None,
) -> Callable[[View], View]:
    """Return a decorator: POST runs the view, GET and HEAD redirect to ``page``.

    ``page`` is a URL name, reversed with the view's keyword arguments (only those named
    in ``keep``, if given). ``guard(request, **kwargs)`` runs first on a GET and raises
    (Http404, PermissionDenied) where the view itself would.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                return view(request, *args, **kwargs)  # type: ignore[no-any-return]
            if request.method in ("GET", "HEAD"):
                if guard is not None:
                    guard(request, *args, **kwargs)
                params = kwargs if keep is None else {name: kwargs[name] for name in keep}
                return redirect(page, **params)
            refused = HttpResponseNotAllowed(
                ["GET", "POST"], content=b"This address takes a form's submission (POST).\n"
            )
            refused["Content-Type"] = "text/plain; charset=utf-8"
            return refused

        setattr(wrapper, FORM_PAGE_ATTR, page)
        return wrapper

    return decorate
