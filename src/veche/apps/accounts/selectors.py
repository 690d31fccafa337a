"""Reads about members."""

from __future__ import annotations

from veche.apps.accounts.models import Member, pseudonym_key


def get_member_by_pseudonym(*, pseudonym: str) -> Member | None:
    """Return the member with this pseudonym (case-insensitive), or None."""
    return Member.objects.filter(pseudonym_key=pseudonym_key(pseudonym)).first()


def pseudonym_taken(*, pseudonym: str) -> bool:
    """Return whether a member already has this pseudonym (case-insensitive)."""
    return Member.objects.filter(pseudonym_key=pseudonym_key(pseudonym)).exists()
