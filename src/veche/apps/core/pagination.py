"""Pages of a long list, with links that work without JavaScript."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 50


def paginate(
    request: HttpRequest, items: Any, *, per_page: int = PER_PAGE, latest: bool = False
) -> Page:
    """Return the page of ``items`` the request asks for (``?page=N``; bad input: the first).

    With ``latest``, a list kept oldest first (a discussion) opens on its last page.
    Two queries however long the list: its count, and the page.
    """
    paginator = Paginator(items, per_page)
    asked = request.GET.get("page")
    if asked is None and latest:
        asked = str(paginator.num_pages)
    page: Page = paginator.get_page(asked)
    # The other parameters (a tab, say) ride along on the page links.
    params = request.GET.copy()
    params.pop("page", None)
    page.query_prefix = f"?{params.urlencode()}&" if params else "?"  # type: ignore[attr-defined]
    return page
