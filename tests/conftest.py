"""Shared fixtures for the Django tests (tests/apps/**).

Django is imported lazily, inside fixtures, so that tests/domain still runs where
Django is not installed.

Factories: ``make_group``, ``make_member``, ``make_invitation``, ``client_for``;
ready-made: ``federation`` (with its first group ``group_a``), ``group_b``,
``member_a``, ``coordinator_a``, ``member_b``, ``coordinator_b``.

Keys: every test holds a ``test_keys`` keyring with every group's and the federation's
keys it creates, and runs with it as the current keyring (so services called directly
can encrypt, and ``member.pseudonym`` reads in test code). Requests made through a test
client get only the keys of the member logged in (``client_for`` puts that member's
wrapped private key in the session and the cookie, as logging in does).
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
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS, VECHE_FAST_KDF=True):
        yield


class TestKeys:
    """The keys a test has made, and its members' unlocked private keys."""

    def __init__(self) -> None:
        from veche.crypto import Keyring

        self.keyring = Keyring()
        self.private: dict[int, Any] = {}

    def add(self, keys: dict[Any, bytes]) -> None:
        for key_id, key in keys.items():
            self.keyring.add(key_id, key)


@pytest.fixture(autouse=True)
def _settlement_checks_afresh() -> Any:
    """Each test starts with no memory of what fell due in another test's database, nor
    of its federation."""
    try:
        from django.conf import settings

        if not settings.configured:
            raise ImportError
        from veche.apps.proposals.services import quiet
    except ImportError:
        yield
        return
    from veche.apps.federation.selectors import forget_federation

    quiet.wake()
    forget_federation()  # the federation another test's database held
    yield
    quiet.wake()
    forget_federation()


@pytest.fixture(autouse=True)
def test_keys() -> Any:
    """Hold this test's keys, and make them the current keyring outside requests."""
    try:
        from django.conf import settings

        if not settings.configured:
            raise ImportError
        from veche.apps.core import keyring
    except ImportError:
        yield None
        return
    keys = TestKeys()
    with keyring.using(keys.keyring):
        yield keys


@pytest.fixture
def passphrase() -> str:
    return PASSPHRASE


@pytest.fixture
def federation(db: Any, test_keys: Any) -> Any:
    """The federation (default charter) with its first group, "Alpha"."""
    from veche.apps.federation.services import create_federation, create_founding_keys

    fed, first = create_federation(name="Test Federation", first_group_name="Alpha")
    test_keys.add(create_founding_keys(group=first))
    return fed


@pytest.fixture
def make_group(db: Any, test_keys: Any) -> Any:
    from veche.apps.accounts.keys import new_key
    from veche.apps.federation.services import create_group
    from veche.crypto import group_scope

    def make(name: str) -> Any:
        group = create_group(name=name)
        test_keys.add(dict([new_key(group_scope(group.pk))]))
        return group

    return make


@pytest.fixture
def coordinators_remove_alone(federation: Any) -> Any:
    """The federation's charter lets a coordinator remove a member alone (not the default)."""
    from dataclasses import replace

    from django.utils import timezone

    from veche.apps.federation.selectors import get_charter
    from veche.apps.federation.services import put_charter

    put_charter(charter=replace(get_charter(), coordinator_may_remove=True), at=timezone.now())
    return federation


@pytest.fixture
def group_a(federation: Any) -> Any:
    from veche.apps.federation.models import Group

    return Group.objects.get(name="Alpha")


@pytest.fixture
def group_b(federation: Any, make_group: Any) -> Any:
    return make_group("Beta")


@pytest.fixture
def make_member(db: Any, test_keys: Any) -> Any:
    """Return a factory: make_member(group, pseudonym=None, coordinator=False, passphrase=...)."""
    from django.utils import timezone

    from veche.apps.accounts.services import enrol_member
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
        member, private_key = enrol_member(
            group=group,
            pseudonym=pseudonym or f"member{next(counter)}_{group.pk}",
            keys=test_keys.keyring,
            passphrase=passphrase,
            joined_at=timezone.now(),
            is_active=is_active,
        )
        test_keys.private[member.pk] = private_key
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
def make_invitation(db: Any, test_keys: Any) -> Any:
    """Return a factory: make_invitation(group, as_coordinator=False, valid_for=None) -> secret."""
    from veche.apps.accounts.keys import keys_for_group
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
            keys=keys_for_group(test_keys.keyring, group.pk),
        )
        return secret

    return make


def log_in_with_keys(client: Any, member: Any, private_key: Any) -> Any:
    """Log ``client`` in as ``member`` with their key unlocked, as the login form does."""
    from veche.apps.accounts.models import MemberSession
    from veche.apps.core.keyring import COOKIE_NAME, SESSION_KEY
    from veche.crypto import wrap_for_session

    client.force_login(member)
    cookie_secret, blob = wrap_for_session(private_key)
    session = client.session
    session[SESSION_KEY] = blob
    session.save()
    MemberSession.objects.get_or_create(
        session_key=session.session_key, defaults={"member": member}
    )
    client.cookies[COOKIE_NAME] = cookie_secret
    return client


@pytest.fixture
def client_for(db: Any, test_keys: Any) -> Any:
    """Return a factory: client_for(member) -> a new test Client logged in as member."""
    from django.test import Client

    def make(member: Any) -> Any:
        return log_in_with_keys(Client(), member, test_keys.private[member.pk])

    return make
