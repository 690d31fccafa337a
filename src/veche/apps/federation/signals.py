"""What the federation app tells the apps above it, without importing them.

``member_removed`` is sent inside the transaction that removes a member, with ``group``,
``member``, ``by`` (the coordinator who removed them alone, or None), ``decision`` (the
id of the group's adopted proposal that removed them, or None) and ``at``;
``membership_changed`` after any change to who belongs to a group or coordinates it,
with ``group`` (None: every group), so that open proposals bring their summaries up to
date.
"""

from __future__ import annotations

from django.dispatch import Signal

member_removed = Signal()
membership_changed = Signal()
