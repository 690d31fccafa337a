"""Pages of a long list, with links that work without JavaScript.

A page reads one row more than it shows, to know whether another page follows: one
query however long the list, and no count. Only a discussion, which opens on its latest
page, counts its messages (a second query).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

PER_PAGE = 50
# Page numbers beyond this are clamped: nobody pages through 50,000 rows by hand.
MAX_PAGE = 10_000


@dataclass
class Page:
    """One page of a list: its rows, its number, and whether pages come before and after."""

    object_list: list[Any]
    number: int
    has_next: bool
    query_prefix: str
    # Known only when counted (a discussion's latest page).
    num_pages: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _number(text: str | None) -> int | None:
    if text is None or not text.isdigit():
        return None
    return min(max(int(text), 1), MAX_PAGE)


def paginate(
    request: HttpRequest, items: Any, *, per_page: int = PER_PAGE, latest: bool = False
) -> Page:
    """Return the page of ``items`` the request asks for (``?page=N``; bad input: the first).

    With ``latest``, a list kept oldest first (a discussion) opens on its last page.
    """
    number = _number(request.GET.get("page"))
    num_pages = None
    if latest:
        num_pages = max(1, -(-items.count() // per_page))
        number = num_pages if number is None else min(number, num_pages)
    number = number or 1
    start = (number - 1) * per_page
    rows = list(items[start : start + per_page + 1])
    # The other parameters (a tab, say) ride along on the page links.
    params = request.GET.copy()
    params.pop("page", None)
    return Page(
        object_list=rows[:per_page],
        number=number,
        has_next=len(rows) > per_page,
        query_prefix=f"?{params.urlencode()}&" if params else "?",
        num_pages=num_pages,
    )
