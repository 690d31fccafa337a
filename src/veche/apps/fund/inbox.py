"""What the fund puts in a coordinator's inbox, read from stored rows (no history).

- A request for help from another group that this group has not answered yet
  (``AwaitingAnswer`` rows, written with the request and removed when the group answers
  or the request closes).
- A request for money adopted by the federation and not paid yet (its stored state):
  any group's coordinator records the payment.

A request for money itself reaches coordinators as the federation proposal it opens
(spokes: "carry your group's position"); the proposals inbox says it is a request to
the common fund. See docs/decisions/0102-fund-in-the-inbox.md.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from veche.apps.federation.selectors import is_own_group_coordinator, own_group
from veche.apps.fund import selectors
from veche.apps.fund.models import AwaitingAnswer, SupportRequest

# At most this many of each; the fund page lists them all.
LIMIT = 20


def items_for(member: Any) -> list[dict[str, Any]]:
    """Return the fund's inbox items for ``member`` (none unless they coordinate a group)."""
    group = own_group(member)
    if group is None or not is_own_group_coordinator(member):
        return []
    items = []
    waiting = (
        AwaitingAnswer.objects.filter(group=group, request__state=SupportRequest.State.OPEN)
        .select_related("request__group")
        .order_by("-request__created_at", "-request_id")[:LIMIT]
    )
    for wait in waiting:
        row = wait.request
        items.append(
            {
                "title": _("%(group)s asks for help and advice") % {"group": row.group.name},
                "url": reverse("fund:request", args=[row.pk]),
                "reasons": [_("A request to the common fund: your group may answer it")],
                "at": row.created_at,
            }
        )
    to_pay = (
        selectors.requests()
        .filter(kind=SupportRequest.Kind.MONEY, state=SupportRequest.State.ADOPTED)
        .order_by("-created_at", "-pk")[:LIMIT]
    )
    for row in to_pay:
        amount = selectors.format_money(row.amount or 0, row.currency)
        items.append(
            {
                "title": _("%(group)s asks for %(amount)s") % {"group": row.group.name,
                                                               "amount": amount},
                "url": reverse("fund:request", args=[row.pk]),
                "reasons": [_("Adopted by the federation: a coordinator records the payment")],
                "at": row.created_at,
            }
        )  # fmt: skip
    return items
