"""No dead ends: every route, opened in a browser, answers with a page or the way to one.

The routes come from the URL resolver (the compartment matrix's walk and fillers), so
a POST-only view added tomorrow is checked the day it is added: a GET on it must not be
Django's empty 405 (``require_POST``), but a redirect to the page that holds its form
(``veche.apps.core.actions.form_at``), or a page of its own (logging out).
"""

from __future__ import annotations

from typing import Any

import pytest
import test_compartment_matrix as matrix
from compartment_world import build_world

from veche.apps.core.actions import FORM_PAGE_ATTR

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(test_keys: Any) -> Any:
    from django.utils import timezone

    return build_world(now=timezone.now(), keys=test_keys)


def _dead_end(response: Any) -> bool:
    return response.status_code == 405 and not matrix.body_of(response).strip()


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.mark.parametrize("role_name", ["anonymous", "member_A", "coordinator_A"])
def test_no_route_answers_a_get_with_an_empty_405(world: Any, role_name: str) -> None:
    """Nor does a GET of any route (the redirects and the logout page included) write."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from veche.apps.proposals.services import settle_due

    role = matrix.make_role(role_name, world)
    settle_due(now=timezone.now())  # nothing is left due for a request to settle
    if role.member is not None:
        # The first use of an API token in a day notes that day (its one write, decision
        # 0120): made here, so that every GET below must write nothing.
        role.client.get("/api/members")
    problems = []
    for target in matrix.targets(world):
        with CaptureQueriesContext(connection) as queries:
            response = role.client.get(target.url)
        problems += [f"{role_name} GET {target.url} wrote: {q['sql'][:80]}"
                     for q in queries.captured_queries
                     if q["sql"].lstrip().upper().startswith(WRITES)]  # fmt: skip
        if _dead_end(response):
            problems.append(f"{role_name} GET {target.url}: an empty 405")
        elif response.status_code in (301, 302, 303):
            landed = role.client.get(response["Location"])
            if landed.status_code == 405 or landed.status_code >= 500:
                problems.append(
                    f"{role_name} GET {target.url} -> {response['Location']}: {landed.status_code}"
                )
    assert not problems, "\n".join(problems)


def test_every_form_action_leads_back_to_its_page(world: Any) -> None:
    """Each POST-only view of the configuration, opened on an object of one's own group,
    redirects to the page that holds its form, and that page opens."""
    role = matrix.make_role("coordinator_A", world)
    checked = set()
    for target in matrix.targets(world):
        route = next(r for r in matrix.walk(matrix.get_resolver()) if r.route == target.route)
        page = getattr(route.view, FORM_PAGE_ATTR, None)
        if page is None or target.owner not in ("A", None):
            continue
        response = role.client.get(target.url)
        if response.status_code == 404:
            continue  # an id that names nothing, or what the coordinator may not see
        assert response.status_code == 302, (target.url, response.status_code)
        landed = role.client.get(response["Location"])
        assert landed.status_code == 200, (target.url, response["Location"], landed.status_code)
        checked.add(target.route)
    assert {
        "fund/contribute/",
        "fund/requests/<int:request_id>/answer/",
        "proposals/<int:proposal_id>/respond/",
        "logout/everywhere/",
        "groups/<int:group_id>/members/<int:member_id>/remove/",
    } <= checked


def test_get_on_logout_shows_the_logout_buttons(world: Any) -> None:
    role = matrix.make_role("member_A", world)
    page = matrix.body_of(role.client.get("/logout/"))
    assert 'action="/logout/"' in page and 'action="/logout/everywhere/"' in page
    # Nothing ended: the member is still logged in.
    assert role.client.get("/inbox/").status_code == 200
    assert matrix.make_role("anonymous", world).client.get("/logout/").status_code == 302


def test_an_action_of_another_groups_proposal_stays_a_404(world: Any) -> None:
    role = matrix.make_role("member_A", world)
    theirs = world["B"].proposals["vote"].pk
    assert role.client.get(f"/proposals/{theirs}/respond/").status_code == 404
    assert role.client.get(f"/proposals/{theirs}/vote/").status_code == 404
