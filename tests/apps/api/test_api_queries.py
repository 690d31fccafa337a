"""The API's lists load only the columns they show, and never one row at a time."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LISTS = ["/api/proposals", "/api/proposals?show=closed", "/api/inbox"]


def test_no_line_of_a_list_loads_a_column_left_out(
    demo: Any, monkeypatch: Any, test_keys: Any
) -> None:
    """A column the presenters read but the endpoint left out would be loaded row by row."""
    from tests.apps.api.test_api_matches_pages import clients, roles

    from veche.apps.api.services import create_feed
    from veche.apps.proposals.models import Awaiting, Proposal, ProposalVersion

    def refused(self: Any, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{type(self).__name__} {self.pk}: loaded again for {kwargs}")

    lines = 0
    for member in roles(demo):
        _browser, api = clients(member)
        feeds = [
            f"/feeds/{create_feed(member=member, kind='inbox', keyring=keys)[1]}/inbox.atom"
            for keys in (test_keys.keyring, None)
        ]
        with monkeypatch.context() as patched:
            for model in (Awaiting, Proposal, ProposalVersion):
                patched.setattr(model, "refresh_from_db", refused)
            for path in LISTS:
                answer = api.get(path)
                assert answer.status_code == 200, (member.pseudonym, path, answer.content)
                lines += len(answer.json()["items"])
            for path in feeds:
                assert Client().get(path).status_code == 200, (member.pseudonym, path)
    assert lines > 20


def test_a_list_costs_as_many_queries_however_long(
    api_client: Any, member_a: Any, coordinator_a: Any
) -> None:
    from veche.apps.proposals import services

    api = api_client(member_a, may_act=False)

    def counted(path: str) -> tuple[int, int]:
        api.get(path)  # the day's one write of "last used", once
        with CaptureQueriesContext(connection) as queries:
            answer = api.get(path)
        return len(answer.json()["items"]), len(queries.captured_queries)

    def propose(n: int) -> None:
        for i in range(n):
            services.create_proposal(
                author=coordinator_a, kind_key="group-practice", title=f"Idea {i}", body="."
            )

    for path in ("/api/proposals", "/api/inbox"):
        propose(1)
        short, few = counted(path)
        propose(4)
        long, many = counted(path)
        assert long > short, path
        assert many == few, path


def test_a_secret_finds_its_row_member_and_group_as_the_orm_does(
    token_for: Any, member_a: Any
) -> None:
    from veche.apps.api import services
    from veche.apps.api.models import AccessKey
    from veche.crypto import access_lookup_hash

    secret = token_for(member_a, may_act=False)
    digest = access_lookup_hash(secret)
    with CaptureQueriesContext(connection) as queries:
        found = services._lookup((AccessKey.Kind.TOKEN,)).objects(digest)[0]
    assert len(queries.captured_queries) == 1
    expected = AccessKey.objects.select_related("member", "member__group").get(secret_hash=digest)
    assert found is not None
    for got, want in ((found, expected), (found.member, expected.member),
                      (found.member.group, expected.member.group)):  # fmt: skip
        assert type(got) is type(want)
        for field in type(want)._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field
        assert got._state.adding is False and got._state.db == want._state.db
    assert services._lookup((AccessKey.Kind.INBOX_FEED,)).objects(digest) == []
    assert services._lookup((AccessKey.Kind.TOKEN,)).objects("0" * 64) == []


def test_a_tokens_keys_are_the_members_keys_opened_with_one_query(
    token_for: Any, member_a: Any, test_keys: Any
) -> None:
    from veche.apps.accounts.keys import keyring_for
    from veche.apps.api import services
    from veche.apps.api.models import AccessKey

    secret = token_for(member_a, may_act=False)
    services.authenticate(secret, kinds=(AccessKey.Kind.TOKEN,))  # the day's "last used"
    with CaptureQueriesContext(connection) as queries:
        holder = services.authenticate(secret, kinds=(AccessKey.Kind.TOKEN,))
    assert len(queries.captured_queries) == 2  # the secret's row, then the key grants
    assert holder is not None
    expected = keyring_for(member_a, test_keys.private[member_a.pk])
    assert len(expected) > 1
    assert list(holder.keyring) == list(expected)
    for key_id in expected:
        assert holder.keyring.get(key_id) == expected.get(key_id)


def test_the_compiled_lookup_finds_a_proposal_exactly_when_the_orm_query_does(demo: Any) -> None:
    from django.test import RequestFactory
    from tests.apps.api.test_api_matches_pages import roles

    from veche.apps.api import endpoints
    from veche.apps.api.services import Holder
    from veche.apps.proposals import selectors
    from veche.apps.proposals.models import Proposal
    from veche.crypto import Keyring

    ids = [*Proposal.objects.values_list("pk", flat=True), 0, -1, 10**6, 2**70]
    seen = 0
    for member in roles(demo):
        request = RequestFactory().get("/")
        request.auth = Holder(key=None, member=member, keyring=Keyring())  # type: ignore[arg-type]
        for pk in ids:
            want = selectors.visible_proposal_query(member=member, proposal_id=pk).first()
            try:
                got = endpoints._visible(request, pk)
            except Http404:
                assert want is None, (member.pseudonym, pk)
                continue
            assert want is not None, (member.pseudonym, pk)
            seen += 1
            for obj, expected in ((got, want), (got.group, want.group),
                                  (got.current_version, want.current_version)):  # fmt: skip
                for field in type(expected)._meta.concrete_fields:
                    assert getattr(obj, field.attname) == getattr(expected, field.attname)
            assert got.charter_version == want.charter_version
    assert seen > 20


def test_pages_of_a_list_are_the_selectors_pages(
    api_client: Any, member_a: Any, coordinator_a: Any
) -> None:
    from veche.apps.proposals import selectors, services

    for i in range(53):
        services.create_proposal(
            author=coordinator_a, kind_key="group-practice", title=f"Idea {i}", body="."
        )
    api = api_client(member_a, may_act=False)
    want = list(selectors.open_proposals(member=member_a).values_list("pk", flat=True))
    got, number, more = [], 1, True
    while more:
        page = api.get(f"/api/proposals?page={number}").json()
        got += [item["id"] for item in page["items"]]
        more, number = page["page"]["has_next"], number + 1
    assert number == 3
    assert got == want
    inbox = [item["proposal"] for item in api.get("/api/inbox").json()["items"]]
    assert len(inbox) == 53
    assert api.get("/api/inbox?page=2").json()["items"] == []
