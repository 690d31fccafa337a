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


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def _latest(items: Any, number: int | None, per_page: int) -> tuple[int, int, list[Any] | None]:
    """Return the page of a list that opens on its last page, its number of pages, and its
    rows if they were read while counting.

    Lists that can read a window with their length read it in one query: the last page
    (``latest_page``), or a page asked for by number (``counted_window``) if it exists.
    Otherwise the list is counted, then the page read (two queries; three for a number
    past the end of such a list).
    """
    if number is None and (latest := getattr(items, "latest_page", None)) is not None:
        found = latest(per_page)
        if found is not None:
            rows, total = found
            num_pages = _pages(total, per_page)
            return num_pages, num_pages, rows
    read = getattr(items, "counted_window", None)
    if number is not None and read is not None:
        start = (number - 1) * per_page
        found = read(start, start + per_page + 1)
        # An empty first page: an empty list.
        if found is not None and (found[1] is not None or number == 1):
            rows, total = found
            return number, _pages(total or 0, per_page), rows
    # Past the end (a page number edited by hand), or not countable with a window.
    total = items.count()
    num_pages = _pages(total, per_page)
    target = num_pages if number is None else min(number, num_pages)
    return target, num_pages, [] if total == 0 else None


def paginate(
    request: HttpRequest, items: Any, *, per_page: int = PER_PAGE, latest: bool = False
) -> Page:
    """Return the page of ``items`` the request asks for (``?page=N``; bad input: the first).

    With ``latest``, a list kept oldest first (a discussion) opens on its last page.
    """
    number = _number(request.GET.get("page"))
    num_pages = None
    rows = None
    if latest:
        number, num_pages, rows = _latest(items, number, per_page)
    number = number or 1
    start = (number - 1) * per_page
    if rows is None:
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
