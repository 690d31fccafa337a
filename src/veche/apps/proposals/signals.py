"""What the proposals app tells the apps above it, without importing them.

``proposal_decided`` is sent inside the transaction that records a decision, with
``proposal`` (the row) and ``decision`` (the domain's Decision): the fund, say, marks a
request for money decided. Receivers run in that transaction; if one fails, nothing of
the decision is stored.
"""

from __future__ import annotations

from django.dispatch import Signal

proposal_decided = Signal()
