"""The compartment matrix: every route, for every role, against a marked federation.

The routes are not listed here: they are read from the URL configuration
(``get_resolver()``, nested includes and all), so a route added by any app is run
by this test the day it is added. Each route's parameters are filled with real
objects from ``compartment_world`` (a proposal of group A, one of B, a federation
proposal, a draft, a dissolved group's, an id that does not exist...); a parameter
this file does not know how to fill makes the test fail, naming the filler to add,
so that no route is ever skipped in silence.

For each role (anonymous; member, coordinator and temporary coordinator of A;
member of B; member of the dissolved group C) and each URL, GET and an empty POST
(Django's test client does not enforce CSRF) must:

- never be a server error;
- for anonymous visitors, never show a members' page (only the login redirect, or
  403/404/405);
- for a member of another group, never reach the objects of a group that is not
  theirs (403/404/405 only: no 200, no redirect to a success page);
- for the member of the dissolved group, reach nothing members-only;
- show, in any body, no pseudonym and no text of a group that is not the viewer's
  (every such text in the world is marked ``MARKER-<group>-...``,
  every pseudonym ``PSEUDO-<group>-...``; federation texts ``FEDTEXT-...`` are for
  current members only).
"""

from __future__ import annotations

import itertools
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from compartment_world import World, build_world, forbidden_for
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from django.urls.resolvers import RoutePattern

from veche.apps.core.permissions import PUBLIC, access_of

pytestmark = pytest.mark.django_db

NOWHERE = "nobody"  # owner of an id that names nothing
DENIED = {401, 403, 404, 405}
# The API checks a body's shape before it looks anything up: an empty POST is a 422
# whatever the id names (one that exists or not, in any group), so it tells nothing.
API_DENIED = {*DENIED, 422}
ROLES = [
    "anonymous",
    "member_A",
    "coordinator_A",
    "temporary_coordinator_A",
    "member_B",
    "member_of_dissolved_C",
]
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Filler:
    """One value for a route parameter, and the group whose object it names.

    ``owner`` is a group key ("A", "B", "C"), None for what is not any group's
    (federation objects, harmless strings), or NOWHERE for ids that name nothing.
    """

    value: str
    owner: str | None
    label: str


def fillers(world: World) -> dict[tuple[str, str], list[Filler]]:
    """Return the values for each (converter, parameter name) the URLs use.

    A new route with a parameter not listed here fails the matrix: add its fillers
    here, with one object of group A, one of group B, and an id that does not exist.
    """
    a, b, c = world["A"], world["B"], world["C"]
    fed = world.federation_proposals
    missing = "987654"
    return {
        ("int", "proposal_id"): [
            Filler(str(a.proposals["mandate"].pk), "A", "A's proposal under a mandate"),
            Filler(str(a.proposals["vote"].pk), "A", "A's proposal in a vote"),
            Filler(str(a.proposals["draft"].pk), "A", "a draft of A's member"),
            Filler(str(b.proposals["mandate"].pk), "B", "B's proposal under a mandate"),
            Filler(str(b.proposals["vote"].pk), "B", "B's proposal in a vote"),
            Filler(str(c.proposals["open"].pk), "C", "the dissolved group's proposal"),
            Filler(str(fed["policy"].pk), None, "a federation proposal"),
            Filler(missing, NOWHERE, "no such proposal"),
        ],
        ("int", "meeting_id"): [
            Filler(str(a.meeting.pk), "A", "A's meeting"),
            Filler(str(b.meeting.pk), "B", "B's meeting"),
            Filler(str(c.meeting.pk), "C", "the dissolved group's meeting"),
            Filler(missing, NOWHERE, "no such meeting"),
        ],
        ("int", "group_id"): [
            Filler(str(a.group.pk), "A", "group A"),
            Filler(str(b.group.pk), "B", "group B"),
            Filler(str(c.group.pk), "C", "the dissolved group"),
            Filler(missing, NOWHERE, "no such group"),
        ],
        # Never one of the roles' own members: a coordinator's empty POST may remove them.
        ("int", "member_id"): [
            Filler(str(a.members["dan"].pk), "A", "a member of A"),
            Filler(str(b.members["dan"].pk), "B", "a member of B"),
            Filler(missing, NOWHERE, "no such member"),
        ],
        ("str", "chain"): [
            Filler("federation", None, "the federation's chain"),
            Filler(f"group-{a.group.pk}", "A", "A's chain"),
            Filler(f"group-{b.group.pk}", "B", "B's chain"),
            Filler(f"group-{c.group.pk}", "C", "the dissolved group's chain"),
            Filler("group-x'junk", NOWHERE, "junk"),
        ],
        ("str", "secret"): [Filler("not-a-real-secret", None, "an unknown invitation")],
        # The common fund is the federation's: every member reads its requests and
        # accounts (as texts and amounts; names never cross groups).
        ("int", "request_id"): [
            *(
                Filler(str(row.pk), None, f"a request for {kind} to the fund")
                for kind, row in world.fund_requests.items()
            ),
            Filler(missing, NOWHERE, "no such request"),
        ],
        ("slug", "key"): [
            *(Filler(key, None, f"the fund account {key}") for key in fund_account_keys()),
            Filler("no-such-account", NOWHERE, "no such account"),
        ],
        ("str", "currency"): [
            Filler("EUR", None, "a currency in use"),
            Filler("XXX", None, "a currency never used"),
        ],
        ("path", "path"): [Filler("veche/veche.css", None, "the stylesheet")],
        # The charter's versions are the federation's: every member reads them.
        ("int", "number"): [
            Filler("1", None, "the founding charter"),
            Filler("2", None, "the charter amended by decision"),
            Filler(missing, NOWHERE, "no such charter version"),
        ],
    }


def fund_account_keys() -> list[str]:
    try:
        from veche.apps.fund.models import Account
    except ImportError:
        return []
    return sorted(Account.objects.values_list("key", flat=True))


# --- enumerating the URL configuration ------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str
    view: Any
    problem: str = ""


@dataclass(frozen=True)
class Target:
    route: str
    url: str
    owner: str | None
    access: str | None
    label: str


def walk(resolver: URLResolver, prefix: str = "") -> Iterator[Route]:
    """Yield every route of ``resolver``, through nested includes, as one route string."""
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if not isinstance(entry.pattern, RoutePattern):
            yield Route(
                text,
                getattr(entry, "callback", None),
                f"{type(entry.pattern).__name__} {text!r}: the matrix fills path() routes only; "
                "write it with path() and converters, or teach test_compartment_matrix.walk()",
            )
        if isinstance(entry, URLResolver):
            yield from walk(entry, text)
        elif isinstance(entry, URLPattern) and isinstance(entry.pattern, RoutePattern):
            yield Route(text, entry.callback)


def targets(world: World, urlconf: Any = None) -> list[Target]:
    """Return every concrete URL the matrix requests; fail on routes it cannot fill."""
    known = fillers(world)
    problems: list[str] = []
    result: list[Target] = []
    for route in walk(get_resolver(urlconf)):
        if route.problem:
            problems.append(route.problem)
            continue
        params = [
            (m.group("converter") or "str", m.group("name"))
            for m in ROUTE_PARAMETER.finditer(route.route)
        ]
        unknown = [p for p in params if p not in known]
        if unknown:
            problems.extend(
                f"route {route.route!r}: no filler for <{conv}:{name}>; add one to "
                f"tests/apps/core/test_compartment_matrix.py fillers() (an object of group A, "
                f"one of group B, one that does not exist)"
                for conv, name in unknown
            )
            continue
        for combo in itertools.product(*(known[p] for p in params)):
            url = route.route
            for (conv, name), filler in zip(params, combo, strict=True):
                token = f"<{conv}:{name}>" if f"<{conv}:{name}>" in url else f"<{name}>"
                url = url.replace(token, filler.value, 1)
            owners = {f.owner for f in combo} - {None}
            # Objects of two groups in one URL (group A, member of B) are nobody's.
            owner = NOWHERE if NOWHERE in owners or len(owners) > 1 else next(iter(owners), None)
            result.append(
                Target(
                    route=route.route,
                    url="/" + url,
                    owner=owner,
                    access=access_of(route.view),
                    label=", ".join(f.label for f in combo),
                )
            )
    assert not problems, "the compartment matrix cannot run every route:\n" + "\n".join(problems)
    return result


# --- roles ----------------------------------------------------------------------------------


@dataclass
class Role:
    name: str
    group: str | None  # the group key whose pages the role may read
    member: Any
    client: Client
    world: World

    def forbidden(self) -> tuple[str, ...]:
        if self.member is None:
            return (*forbidden_for(None), "FEDTEXT-")
        if self.group == "C":
            # The dissolved group's member sees nothing of anyone, not even old texts.
            return (*forbidden_for(None), "FEDTEXT-")
        return forbidden_for(self.group)


def make_role(name: str, world: World) -> Role:
    member = {
        "anonymous": None,
        "member_A": world["A"].members["ann"],
        "coordinator_A": world["A"].members["coord"],
        "temporary_coordinator_A": world["A"].mandate_holder,
        "member_B": world["B"].members["ann"],
        "member_of_dissolved_C": world["C"].members["bob"],
    }[name]
    client = Client()
    if member is not None:
        # Every request carries the member's API token (which may act) as well as their
        # session: the API's routes are run as this role too (pages ignore the header).
        client = Client(headers={"Authorization": f"Bearer {api_token(member, world)}"})
        log_in(client, member, world)
    group = None if member is None else name.rsplit("_", 1)[1]
    return Role(name=name, group=group, member=member, client=client, world=world)


def api_token(member: Any, world: World) -> str:
    """Return a new API token of ``member`` that may act."""
    from veche.apps.api.services import create_token

    _row, secret = create_token(
        member=member, private_key=world.keys.private[member.pk], may_act=True
    )
    return secret


def log_in(client: Client, member: Any, world: World) -> None:
    """Log in as the login form does: the session holds the member's wrapped key."""
    from tests.conftest import log_in_with_keys

    log_in_with_keys(client, member, world.keys.private[member.pk])


def body_of(response: HttpResponse) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def is_login_redirect(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/login/")


def check(role: Role, target: Target, method: str, response: HttpResponse, body: str) -> list[str]:
    """Return what is wrong with one response (empty if nothing)."""
    where = f"{role.name} {method} {target.url} ({target.label})"
    status = response.status_code
    denied = API_DENIED if target.route.startswith("api/") else DENIED
    problems = []
    if status >= 500:
        problems.append(f"{where}: server error {status}")
    members_only = target.access != PUBLIC
    if (
        role.member is None
        and members_only
        and not (is_login_redirect(response) or status in denied)
    ):
        problems.append(f"{where}: anonymous visitor got {status}")
    foreign = target.owner is not None and target.owner != role.group
    if role.member is not None and members_only and foreign and status not in denied:
        problems.append(f"{where}: reached another group's object ({status})")
    if role.group == "C" and members_only and status not in denied:
        problems.append(f"{where}: a dissolved group's member got {status}")
    own = role.member.pseudonym if role.member is not None else None
    visible = body.replace(own, "") if own else body
    for prefix in role.forbidden():
        if prefix in visible:
            at = visible.index(prefix)
            problems.append(f"{where}: body shows {visible[at : at + 40]!r} ({status})")
    return problems


def stay_logged_in(role: Role) -> None:
    """Log the role in again if the POST logged it out (logout, log out everywhere)."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY

    session = role.client.session
    role.member.refresh_from_db()
    if (
        session.get(SESSION_KEY) != str(role.member.pk)
        or session.get(HASH_SESSION_KEY) != role.member.get_session_auth_hash()
    ):
        log_in(role.client, role.member, role.world)


def run(role: Role, target: Target, method: str) -> tuple[HttpResponse | None, list[str]]:
    where = f"{role.name} {method} {target.url} ({target.label})"
    try:
        response = getattr(role.client, method.lower())(target.url)
    except Exception as exc:  # the test client re-raises the view's exception
        return None, [f"{where}: raised {type(exc).__name__}: {exc}"]
    body = body_of(response)
    problems = check(role, target, method, response, body)
    if role.member is not None and method == "POST":
        stay_logged_in(role)
    return response, problems


@pytest.fixture
def world(test_keys: Any) -> World:
    from django.utils import timezone

    return build_world(now=timezone.now(), keys=test_keys)


@pytest.mark.parametrize("role_name", ROLES)
def test_compartment_matrix(world: World, role_name: str) -> None:
    role = make_role(role_name, world)
    every = targets(world)
    problems: list[str] = []
    ok = 0
    # Every GET first, on the untouched world; then the empty POSTs (some act).
    for method in ("GET", "POST"):
        for target in every:
            response, found = run(role, target, method)
            problems.extend(found)
            ok += response is not None and response.status_code == 200
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])
    if role.member is not None and role.group != "C":
        assert ok > 10, f"{role.name} reached almost nothing: the matrix proves little"


# --- the matrix is not vacuous --------------------------------------------------------------


def test_members_read_their_own_groups_marked_texts(world: World) -> None:
    """The markers are on the pages of those who may read them (else absence proves nothing)."""
    a, b = world["A"], world["B"]
    for key, gw in (("A", a), ("B", b)):
        client = make_role(f"member_{key}", world).client
        page = body_of(client.get(f"/proposals/{gw.proposals['mandate'].pk}/"))
        for text in (f"MARKER-{key}-TITLE-mandate", f"MARKER-{key}-DECISION-mandate"):
            assert text in page
        page = body_of(client.get(f"/proposals/{gw.proposals['vote'].pk}/"))
        assert f"MARKER-{key}-OPTION-one" in page
        assert f"MARKER-{key}-REASON-vote-block" in page
        assert f"PSEUDO-{key}-coord" in body_of(client.get(f"/groups/{gw.group.pk}/"))
        assert f"MARKER-{key}-THREAD-group" in body_of(client.get("/discussion/"))
        page = body_of(client.get(f"/meetings/{gw.meeting.pk}/"))
        for text in (f"MARKER-{key}-NOTES-standalone", f"MARKER-{key}-TITLE-standalone-removal"):
            assert text in page
        assert client.get(f"/decisions/group-{gw.group.pk}.jsonl").status_code == 200
        page = body_of(client.get(f"/proposals/{world.federation_proposals['policy'].pk}/"))
        assert "FEDTEXT-TITLE-policy" in page
        assert "FEDTEXT-REASON-0" in page  # other groups' reasons, without their names


def test_the_temporary_coordinator_is_the_one_who_decides_under_the_mandate(world: World) -> None:
    row = world["A"].proposals["mandate"]
    decision = {"matter": row.mandate_scope[0], "text": "MARKER-A-DECISION-second"}
    other = make_role("member_A", world)
    assert other.client.post(f"/proposals/{row.pk}/mandate/decide/", decision).status_code == 400
    holder = make_role("temporary_coordinator_A", world)
    response = holder.client.post(f"/proposals/{row.pk}/mandate/decide/", decision)
    assert response.status_code == 302
    assert "MARKER-A-DECISION-second" in body_of(other.client.get(f"/proposals/{row.pk}/"))


def test_every_route_of_the_configuration_is_in_the_matrix(world: World) -> None:
    routes = {t.route for t in targets(world)}
    assert "proposals/<int:proposal_id>/mandate/decide/" in routes
    assert "groups/<int:group_id>/invite/" in routes
    assert "decisions/<str:chain>.jsonl" in routes
    assert "api/proposals/<int:proposal_id>/respond" in routes
    assert "account/" in routes
    every = {r.route for r in walk(get_resolver())}
    assert routes == every


# --- a new route is never skipped in silence ------------------------------------------------


@pytest.fixture
def urlconf_with_new_routes() -> Iterator[str]:
    def view(request: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse("new")

    module = types.ModuleType("veche_test_matrix_new_routes")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("entries/<int:entry_id>/", view),
        path("things/<slug:thing>/", view),
        path("", include("veche.config.urls")),
    ]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_a_route_with_an_unknown_parameter_fails_the_matrix(
    world: World, urlconf_with_new_routes: str
) -> None:
    with pytest.raises(AssertionError) as failure:
        targets(world, urlconf_with_new_routes)
    message = str(failure.value)
    assert "<int:entry_id>" in message
    assert "<slug:thing>" in message
    assert "fillers()" in message


def test_the_rules_page_shows_each_group_its_own_rules_and_everyone_the_charter(world: World):
    from veche.apps.federation.models import GroupRulesVersion

    amendment = world.federation_proposals["amend"]
    for key in ("A", "B"):
        own = world[key].proposals["rules"]
        page = body_of(make_role(f"member_{key}", world).client.get("/federation/rules/"))
        assert "The charter in force is version 2" in page
        assert f'href="/proposals/{amendment.pk}/"' in page
        assert "Version 1 of your group" in page
        assert f'href="/proposals/{own.pk}/"' in page
        other = world["B" if key == "A" else "A"].proposals["rules"]
        assert f'href="/proposals/{other.pk}/"' not in page
    assert GroupRulesVersion.objects.count() == 3  # A, B, and C before it was dissolved
