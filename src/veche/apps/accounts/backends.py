"""Authentication backend: pseudonym (case-insensitive) + passphrase, active members only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class MemberBackend(ModelBackend):
    """ModelBackend without Django's permission tables (members have no permissions)."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
