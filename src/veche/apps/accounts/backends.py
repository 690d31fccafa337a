"""Authentication backend: pseudonym (case-insensitive) + passphrase, active members only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from veche.apps.accounts.models import Member
from veche.apps.accounts.services import check_passphrase


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
        member = Member.objects.select_related("group").filter(pk=user_id).first()
        return member if member is not None and self.user_can_authenticate(member) else None

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
