"""Authentication backend: pseudonym (case-insensitive) + passphrase, active members only."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.backends import ModelBackend

from veche.apps.accounts.models import Member
from veche.apps.accounts.services import check_passphrase
from veche.apps.core.statements import ModelStatement

# No member has this id: it marks where the id goes when the statement is compiled.
_ID = -1_000_000_007


@functools.cache
def _member_by_id() -> ModelStatement:
    """The member with their group, compiled once (every request of a member reads it)."""
    return ModelStatement(
        Member.objects.select_related("group").filter(pk=_ID).order_by()[:1], (_ID,)
    )


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
        """Return the active member, with their group (every page asks whether it was dissolved)."""
        if type(user_id) is int:  # as a session holds it
            member = _member_by_id().first(user_id)
        else:
            member = Member.objects.select_related("group").filter(pk=user_id).first()
        return member if member is not None and self.user_can_authenticate(member) else None

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
