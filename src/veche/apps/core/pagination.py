"""Pages of a long list, with links that work without JavaScript."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 50


def paginate(request: HttpRequest, items: Any, *, per_page: int = PER_PAGE) -> Page:
    """Return the page of ``items`` the request asks for (``?page=N``; bad input: the first).

    Two queries however long the list: its count, and the page.
    """
    page: Page = Paginator(items, per_page).get_page(request.GET.get("page"))
    # The other parameters (a tab, say) ride along on the page links.
    params = request.GET.copy()
    params.pop("page", None)
    page.query_prefix = f"?{params.urlencode()}&" if params else "?"  # type: ignore[attr-defined]
    return page
