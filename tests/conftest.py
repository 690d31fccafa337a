"""Shared fixtures for the Django tests (tests/apps/**).

Django is imported lazily, inside fixtures, so that tests/domain still runs where
Django is not installed.

Factories: ``make_group``, ``make_member``, ``make_invitation``, ``client_for``;
ready-made: ``federation`` (with its first group ``group_a``), ``group_b``,
``member_a``, ``coordinator_a``, ``member_b``, ``coordinator_b``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

PASSPHRASE = "correct horse battery staple"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Any:
    """Hash with MD5 in tests: Argon2 at production cost would make the suite slow.

    test_argon2_parameters checks the real hasher directly.
    """
    try:
        from django.conf import settings
        from django.test.utils import override_settings
    except ImportError:
        yield
        return
    if not settings.configured:
        yield
        return
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        yield


@pytest.fixture
def passphrase() -> str:
    return PASSPHRASE


@pytest.fixture
def federation(db: Any) -> Any:
    """The federation (default charter) with its first group, "Alpha"."""
    from veche.apps.federation.services import create_federation

    fed, _ = create_federation(name="Test Federation", first_group_name="Alpha")
    return fed


@pytest.fixture
def make_group(db: Any) -> Any:
    from veche.apps.federation.services import create_group

    def make(name: str) -> Any:
        return create_group(name=name)

    return make


@pytest.fixture
def group_a(federation: Any) -> Any:
    from veche.apps.federation.models import Group

    return Group.objects.get(name="Alpha")


@pytest.fixture
def group_b(federation: Any, make_group: Any) -> Any:
    return make_group("Beta")


@pytest.fixture
def make_member(db: Any) -> Any:
    """Return a factory: make_member(group, pseudonym=None, coordinator=False, passphrase=...)."""
    from django.utils import timezone

    from veche.apps.accounts.models import Member
    from veche.apps.federation.services import start_coordinator_term

    counter = itertools.count(1)

    def make(
        group: Any,
        pseudonym: str | None = None,
        *,
        coordinator: bool = False,
        passphrase: str = PASSPHRASE,
        is_active: bool = True,
    ) -> Any:
        member = Member(
            pseudonym=pseudonym or f"member{next(counter)}_{group.pk}",
            group=group,
            joined_at=timezone.now(),
            is_active=is_active,
        )
        member.set_password(passphrase)
        member.save()
        if coordinator:
            start_coordinator_term(
                group=group, member=member, now=timezone.now() - dt.timedelta(seconds=1)
            )
        return member

    return make


@pytest.fixture
def member_a(group_a: Any, make_member: Any) -> Any:
    return make_member(group_a, "ada")


@pytest.fixture
def coordinator_a(group_a: Any, make_member: Any) -> Any:
    return make_member(group_a, "coral", coordinator=True)


@pytest.fixture
def member_b(group_b: Any, make_member: Any) -> Any:
    return make_member(group_b, "bruno")


@pytest.fixture
def coordinator_b(group_b: Any, make_member: Any) -> Any:
    return make_member(group_b, "bianca", coordinator=True)


@pytest.fixture
def make_invitation(db: Any) -> Any:
    """Return a factory: make_invitation(group, as_coordinator=False, valid_for=None) -> secret."""
    from veche.apps.federation.services import create_invitation

    def make(
        group: Any,
        *,
        as_coordinator: bool = False,
        created_by: Any = None,
        valid_for: dt.timedelta | None = None,
        now: dt.datetime | None = None,
    ) -> str:
        _, secret = create_invitation(
            group=group,
            created_by=created_by,
            as_coordinator=as_coordinator,
            valid_for=valid_for,
            now=now,
        )
        return secret

    return make


@pytest.fixture
def client_for(db: Any) -> Any:
    """Return a factory: client_for(member) -> a new test Client logged in as member."""
    from django.test import Client

    def make(member: Any) -> Any:
        client = Client()
        client.force_login(member)
        return client

    return make
