"""What the proposals app tells the apps above it, without importing them.

``proposal_decided`` is sent inside the transaction that records a decision, with
``proposal`` (the row) and ``decision`` (the domain's Decision): the fund, say, marks a
request for money decided. Receivers run in that transaction; if one fails, nothing of
the decision is stored.

``inbox_wanted`` is sent by the inbox page with ``member``: each receiver returns a list
of items (dicts: ``title``, ``url``, ``reasons``, ``at``) read from its own stored rows,
shown above the proposals (the fund's requests, say).
"""

from __future__ import annotations

from django.dispatch import Signal

proposal_decided = Signal()
inbox_wanted = Signal()
