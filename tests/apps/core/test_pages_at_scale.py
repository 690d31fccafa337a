"""A page's cost does not grow with the federation's history, and showing a page writes nothing.

One world is measured at two sizes: 10 proposals, then 1,000 (mostly decided, as a
federation's history is), with a fund whose history grows alongside. Every main page
makes exactly the same number of queries at both sizes. Then every page a member can
GET is requested with every statement the database receives captured: none writes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from veche.apps.federation.selectors import get_federation
from veche.apps.fund import services as fund
from veche.apps.proposals import services as s
from veche.apps.proposals.models import Teller
from veche.domain.consensus import Position

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 1000


def _history(members, group, thread, start: dt.datetime, count: int) -> None:
    """Add ``count`` decided proposals (group and federation), talk, and fund history."""
    author, other = members[0], members[1]
    for i in range(count):
        at = start + dt.timedelta(minutes=3 * i)
        row = s.create_proposal(
            author=author,
            kind_key="common-policy" if i % 2 else "group-practice",
            title=f"Decided {i}",
            body="What we decided.",
            now=at,
        )
        if i % 3:
            s.withdraw(row=row, actor=author, now=at + dt.timedelta(minutes=1))
        else:
            s.respond(row=row, member=other, position=Position.AGREE, version=1,
                      now=at + dt.timedelta(minutes=1))  # fmt: skip
            s.withdraw(row=row, actor=author, now=at + dt.timedelta(minutes=2))
        if i % 10 == 0:
            # The discussions grow too: a proposal's thread and the group's own.
            s.post_comment(author=other, body=f"Still talking {i}", row=thread, now=at)
            s.post_comment(author=author, body=f"Group talk {i}", group=group, now=at)
            fund.contribute(actor=author, amount=100 + i, currency="EUR",
                            idempotency_key=fund.new_token(), now=at)  # fmt: skip


PAGES = [
    "/",
    "/inbox/",
    "/proposals/",
    "/proposals/?show=closed",
    "/decisions/",
    "/federation/",
    "/fund/",
    "/fund/accounts/fund/",
    "/fund/charts/balance-EUR.svg",
    "/fund/charts/monthly-EUR.svg",
    "/discussion/",
    "/logout/",
    "/federation/rules/",
    "/federation/rules/charter-1.json",
    "/proposals/new/charter/",
    "/proposals/new/charter/?as=json",
    "/proposals/new/group-rules/",
    "/account/",
]
# The API's reads (with a token) and the private feeds, counted the same way.
API = [
    "/api/inbox",
    "/api/proposals",
    "/api/proposals?show=closed",
    "/api/decisions",
    "/api/fund",
    "/api/members",
]


def _api_clients(coordinator, private_key, proposal_ids):
    """Return a client with a token of ``coordinator``, the URLs it counts, and a browser's
    client with the coordinator's feeds; each used once first (its day's one write)."""
    from django.test import Client

    from veche.apps.api import services as api
    from veche.apps.api.models import AccessKey
    from veche.apps.core import keyring

    token = api.create_token(member=coordinator, private_key=private_key, may_act=False)[1]
    inbox = api.create_feed(member=coordinator, kind=AccessKey.Kind.INBOX_FEED,
                            keyring=keyring.current())[1]  # fmt: skip
    decisions = api.create_feed(member=coordinator, kind=AccessKey.Kind.DECISIONS_FEED)[1]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    urls = [*API, *(f"/api/proposals/{pk}" for pk in proposal_ids),
            f"/feeds/{inbox}/inbox.atom", f"/feeds/{decisions}/decisions.atom"]  # fmt: skip
    for url in urls:
        assert client.get(url).status_code == 200, url
    return client, urls


def _counts(client, urls: list[str]) -> dict[str, int]:
    counts = {}
    # The federation's row is read once per process, then kept: counted as a running
    # process serves pages (kept), whichever page comes first.
    get_federation()
    for url in urls:
        # Counted with the check for what fell due, as the first request of a process does.
        s.quiet.wake()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, follow=False)
        assert response.status_code in (200, 302), (url, response.status_code)
        counts[url] = len(queries)
    return counts


def _closed_secret_vote(members, now: dt.datetime, title: str):
    """Return a proposal whose secret vote took three ballots and closed a day ago."""
    day = dt.timedelta(days=1)
    row = s.create_proposal(
        author=members[0], kind_key="group-practice", title=title, body="Urgent.",
        urgent=True, deadline=now - 2 * day, options=["a", "b"], now=now - 3 * day,
    )  # fmt: skip
    for i, member in enumerate(members):
        s.cast_ballot(
            row=row, voter=member, ballot=[i % 2], now=now - 2 * day + dt.timedelta(hours=i + 1)
        )
    return row


def test_every_main_page_makes_the_same_number_of_queries_at_10_and_at_1000_proposals(
    federation, group_a, group_b, make_member, client_for, test_keys
):
    coordinator = make_member(group_a, "coral", coordinator=True)
    members = [coordinator, make_member(group_a, "ada"), make_member(group_a, "abe")]
    make_member(group_b, "bianca", coordinator=True)
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

    start = timezone.now() - dt.timedelta(days=400)
    Member.objects.update(joined_at=start - dt.timedelta(days=1))
    Group.objects.update(created_at=start - dt.timedelta(days=1))
    # Open proposals with something waiting, a thread, and an open vote: the same at both
    # sizes, so the pages have the same rows to show.
    now = timezone.now()
    open_one = s.create_proposal(author=members[1], kind_key="group-practice",
                                 title="Open", body="Still open.", now=now)  # fmt: skip
    for i in range(3):
        s.post_comment(author=members[i], body=f"Message {i}", row=open_one, now=now)
    s.create_proposal(author=members[2], kind_key="common-policy", title="Open too",
                      body="Federation.", now=now)  # fmt: skip
    voting = s.create_proposal(
        author=members[0], kind_key="group-practice", title="Vote", body="Urgent.",
        urgent=True, deadline=now - dt.timedelta(minutes=1), options=["a", "b"],
        now=now - dt.timedelta(hours=2),
    )  # fmt: skip
    # A charter amendment: its page shows what it changes, the rules page the versions.
    from dataclasses import replace

    from veche.apps.federation.selectors import get_charter

    amendment = s.create_proposal(
        author=members[0], kind_key="charter-amendment", title="Amend", body="Shorter.",
        charter=replace(get_charter(), discussion_retention_days=30), now=now,
    )  # fmt: skip
    # A meeting whose decisions were recorded on their own, one awaiting confirmation.
    meeting = s.record_meeting_decisions(
        recorder=members[1], held_on=now.date(), attendance=3, now=now,
        decisions=[s.TakenAtMeeting("group-practice", "Met", "We met and agreed.")],
    )  # fmt: skip
    from_meeting = meeting.decisions.get()
    # Two secret votes that have closed: one waiting for its tellers, one counted.
    counting, counted = (
        _closed_secret_vote(members, now, title) for title in ("Counting", "Counted")
    )
    s.settle_due(now=now)
    tellers = Teller.objects.filter(vote__proposal=counted).order_by("index")[:2]
    for seat in tellers:
        s.give_share(row=counted, teller=seat.member, private_key=test_keys.private[seat.member_id],
                     now=now)  # fmt: skip
    # A request for help from the other group: it waits in the coordinator's inbox.
    bianca = Member.objects.get(pseudonym="bianca")
    asked = fund.request_help(actor=bianca, purpose="How?", idempotency_key=fund.new_token())
    client = client_for(coordinator)
    pages = [*PAGES, f"/proposals/{open_one.pk}/", f"/proposals/{voting.pk}/",
             f"/groups/{group_a.pk}/", f"/groups/{group_a.pk}/meeting-pack/",
             f"/fund/requests/{asked.pk}/", f"/proposals/{amendment.pk}/",
             "/proposals/new/", "/meetings/new/", f"/meetings/{meeting.pk}/",
             f"/proposals/{from_meeting.pk}/", f"/proposals/{counting.pk}/",
             f"/proposals/{counted.pk}/", f"/proposals/{counted.pk}/vote-record.json"]  # fmt: skip

    api_client, api_urls = _api_clients(
        coordinator, test_keys.private[coordinator.pk], [open_one.pk, voting.pk, amendment.pk]
    )

    _history(members, group_a, open_one, start, SMALL)
    s.settle_due(now=timezone.now())
    small = _counts(client, pages)
    api_small = _counts(api_client, api_urls)
    _history(members, group_a, open_one, start + dt.timedelta(days=100), LARGE - SMALL)
    s.settle_due(now=timezone.now())
    large = _counts(client, pages)
    api_large = _counts(api_client, api_urls)

    assert large == small
    assert api_large == api_small
    # A later page of the long list costs what the first does.
    later = _counts(client, ["/proposals/?show=closed&page=7"])
    assert later["/proposals/?show=closed&page=7"] == large["/proposals/?show=closed"]
    # The fund's inbox item is among what was counted.
    assert "Beta asks for help and advice" in client.get("/inbox/").content.decode()
    # And the lists really are long now: the decided list has more than one page.
    assert 'rel="next"' in client.get("/proposals/?show=closed").content.decode()


def test_no_page_view_writes_to_the_database(client) -> None:
    """Crawl the demo as every group's coordinator and one member, capturing every SQL
    statement the database receives: not one writes."""
    from tests.apps.core.test_crawl import crawl
    from tests.conftest import log_in_with_keys

    from veche.apps.accounts.models import Member
    from veche.crypto import unlock
    from veche.demo import PASSPHRASE as DEMO_PASSPHRASE
    from veche.demo import build as build_demo

    demo = build_demo(now=timezone.now())
    s.settle_due(now=timezone.now())  # nothing is left due for a page to settle
    writes: list[tuple[str, str]] = []
    pages = 0
    for pseudonyms in demo.values():
        for pseudonym in (pseudonyms[0], pseudonyms[-1]):
            member = Member.objects.get(pseudonym=pseudonym)
            log_in_with_keys(client, member, unlock(member.key_record(), DEMO_PASSPHRASE))
            with CaptureQueriesContext(connection) as queries:
                result = crawl(client, ["/", "/inbox/"])
            pages += len(result.pages)
            writes += [
                (pseudonym, q["sql"][:100])
                for q in queries.captured_queries
                if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))
            ]
            client.logout()
    assert pages > 100
    assert writes == []
