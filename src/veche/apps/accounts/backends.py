"""Authentication backend: pseudonym (case-insensitive) + passphrase, active members only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class MemberBackend(ModelBackend):
    """ModelBackend without Django's permission tables (members have no permissions)."""

    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        pseudonym: str | None = None,
        **kwargs: Any,
    ) -> Any:
        # Members log in with the pseudonym they typed; the model stores only its keyed
        # hash (USERNAME_FIELD), which get_by_natural_key computes from the typed name.
        return super().authenticate(request, username=pseudonym or username, password=password)

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
