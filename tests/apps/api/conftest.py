"""Fixtures for the API and feeds: tokens made as the account page makes them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _answers_checked_by_pydantic(monkeypatch: Any) -> None:
    """Validate every JSON answer with pydantic too, as django-ninja would, and refuse any
    difference from what the API writes without it (veche.apps.api.output)."""
    from veche.apps.api import output

    monkeypatch.setattr(output, "CHECK", True)


@pytest.fixture
def token_for(db: Any, test_keys: Any) -> Any:
    """Return a factory: token_for(member, may_act=True) -> the token's secret."""
    from veche.apps.api.services import create_token

    def make(member: Any, *, may_act: bool = True) -> str:
        _row, secret = create_token(
            member=member, private_key=test_keys.private[member.pk], may_act=may_act
        )
        return secret

    return make


@pytest.fixture
def api_client(token_for: Any) -> Any:
    """Return a factory: api_client(member, may_act=True) -> a Client sending its token."""
    from django.test import Client

    def make(member: Any, *, may_act: bool = True) -> Any:
        return Client(headers={"Authorization": f"Bearer {token_for(member, may_act=may_act)}"})

    return make


@pytest.fixture
def demo(test_keys: Any) -> dict[str, list[str]]:
    """Return the demo federation's pseudonyms by group (veche.demo.build)."""
    from django.utils import timezone

    from veche.demo import build

    return build(now=timezone.now())
