"""Authentication backend: pseudonym (case-insensitive) + passphrase, active members only."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import F, QuerySet

from veche.apps.accounts.keys import remember_grants
from veche.apps.accounts.models import Member
from veche.apps.accounts.services import check_passphrase
from veche.apps.core import requestcache
from veche.apps.core.statements import ModelStatement

# No member has this id: it marks where the id goes when the statement is compiled.
_ID = -1_000_000_007
_GRANT_COLUMNS = ("grant_scope", "grant_epoch", "grant_sealed")


def with_grants(members: QuerySet[Member]) -> QuerySet[Member]:
    """``members`` with their group and their key grants: one row per grant (a member
    holds a few: the federation's and their group's keys, an epoch each since they
    joined), or one with no grant. :func:`member_of` makes the member of such rows."""
    return (
        members.select_related("group")
        .annotate(
            grant_scope=F("key_grants__scope"),
            grant_epoch=F("key_grants__epoch"),
            grant_sealed=F("key_grants__sealed_key"),
        )
        .order_by()
    )


@functools.cache
def _member_by_id() -> ModelStatement:
    """The member with their group and their key grants, compiled once: every request of
    a member reads them, and the keyring middleware opens the grants next."""
    return ModelStatement(with_grants(Member.objects.filter(pk=_ID)), (_ID,))


def member_of(rows: list[Any], *read_with: str) -> Member | None:
    """Return the member of rows read by :func:`with_grants` (None if there is none),
    their grants kept for the request's keyring, and without the grants' columns or
    ``read_with`` (what else was read beside them) on the member."""
    member = rows[0] if rows else None
    if member is not None:
        grants = [
            [row.grant_scope, row.grant_epoch, row.grant_sealed]
            for row in rows
            if row.grant_scope is not None
        ]
        for name in (*_GRANT_COLUMNS, *read_with):  # the grants go with the member, not on it
            del member.__dict__[name]
        remember_grants(member, grants)
    return member


# What a member's request keeps of its session's read (accounts.sessions): its member.
SESSION_MEMBER = "session_member"


class MemberBackend(ModelBackend):
    """ModelBackend without Django's permission tables (members have no permissions).

    A passphrase is checked by opening the member's sealed private key, not against a
    password hash (decision 0072). The login form goes through
    ``services.authenticate_member``, which adds the delays after failures; this backend
    serves Django's own ``authenticate()`` (the test client's ``login()``, say).
    """

    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        pseudonym: str | None = None,
        **kwargs: Any,
    ) -> Any:
        name = pseudonym or username
        if not name or not password:
            return None
        member, private_key = check_passphrase(pseudonym=name, passphrase=password)
        if member is not None:
            member.unlocked_private_key = private_key
        return member

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_user(self, user_id: Any) -> Any:
        """Return the active member, with their group (every page asks whether it was dissolved)
        and, kept for the request's keyring, their key grants."""
        if type(user_id) is int:  # as a session holds it
            # Read with the session of this request, if it is this member's (one query).
            member = requestcache.take(SESSION_MEMBER)
            if member is None or member.pk != user_id:
                member = member_of(_member_by_id().objects(user_id))
        else:
            member = Member.objects.select_related("group").filter(pk=user_id).first()
        return member if member is not None and self.user_can_authenticate(member) else None

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
