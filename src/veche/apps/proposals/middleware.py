"""Settle what has fallen due before a request is served, never while a page renders.

A proposal's state at any instant is a pure function of its events; what is stored
beside them (its summary, the inboxes, the decision log) follows deadlines through
settlement. Before each request one indexed query asks whether any proposal's stored
due time has passed; only then does this settle a bounded batch of them, with the keys
the request holds (a vote's count, or a decision's encrypted effect, needs a member of
the body). ``veche settle`` does the same from the command line, without keys. A
process that has seen nothing due skips the check until the earliest due time (at most
10 s, so what another process marks due is seen soon).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from veche.apps.core.busy import short_waits
from veche.apps.proposals import services


class SettleDueMiddleware:
    """Settle fallen-due proposals (a bounded batch) before serving the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        if not request.path.startswith("/static/") and not services.quiet.is_quiet(now):
            soonest = services.soonest_due()
            if soonest is None or soonest > now:
                services.quiet.learn(soonest, now)
            else:
                scopes = services.held_scopes()
                if services.due(now=now, scopes=scopes).exists():
                    # Busy (another writer holds the database): this request is served
                    # from what is stored at once, not after a wait; the next one settles.
                    with contextlib.suppress(DatabaseError), short_waits():
                        services.settle_due(now=now, scopes=scopes, limit=services.SETTLE_BATCH)
        return self.get_response(request)
