"""schemathesis against the API, in-process (WSGI) on the test database: no live server.

Every operation of ``/api/openapi.json`` is called with generated input, valid and
invalid, with a token that may act: no answer may be a server error, and every answer
must match the document (status codes, content types, bodies, problem details).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks as oas

from veche.apps.api.endpoints import api

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()

CHECKS = [
    not_a_server_error,
    oas.status_code_conformance,
    oas.content_type_conformance,
    oas.response_schema_conformance,
    oas.response_headers_conformance,
]


@pytest.fixture(autouse=True)
def _connection_kept_between_calls() -> Any:
    """Keep the test's connection open across WSGI calls, as Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(group_a: Any, make_member: Any, token_for: Any) -> dict[str, str]:
    """A coordinator of A with a token that may act, and an open proposal of A (id 1)."""
    from veche.apps.proposals import services

    coordinator = make_member(group_a, "coral", coordinator=True)
    member = make_member(group_a, "ada")
    services.create_proposal(
        author=member, kind_key="group-practice", title="Meet on Tuesdays", body="Why not."
    )
    return {"Authorization": f"Bearer {token_for(coordinator)}"}


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
def test_the_api_never_fails_and_always_matches_its_schema(case: Any, bearer: Any) -> None:
    case.call_and_validate(headers=bearer, checks=CHECKS)
