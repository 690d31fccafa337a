"""One page: 50 rows and a form with a CSRF token, rendered by Django templates."""

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

ROWS = 50
START = dt.datetime(2026, 1, 5, 19, 0, tzinfo=dt.UTC)
STATES = ["Seeking consensus", "Urgent vote", "Adopted", "Not adopted", "Withdrawn"]


def page(request: HttpRequest) -> HttpResponse:
    """Return a list page of 50 rows with a form, as a typical page of an app."""
    rows = [
        {
            "id": i + 1,
            "title": f"Proposal number {i + 1}: meet on the first Monday",
            "author": f"member{i % 17}",
            "state": STATES[i % len(STATES)],
            "at": START + dt.timedelta(hours=5 * i),
        }
        for i in range(ROWS)
    ]
    return render(request, "page.html", {"rows": rows})
