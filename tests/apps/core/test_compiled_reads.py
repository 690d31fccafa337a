"""The reads every page makes, compiled once per process (core.statements), against the
queries the ORM builds for them: the same rows, the same models, whatever the values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.utils import timezone

from veche.apps.core.pagination import paginate

pytestmark = pytest.mark.django_db


def fields_of(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_session_loads_as_djangos_own_store_loads_it() -> None:
    from django.conf import settings

    from veche.apps.accounts.sessions import SessionStore

    assert settings.SESSION_ENGINE == "veche.apps.accounts.sessions"
    ours = SessionStore()
    ours["a"] = [1, "two"]
    ours.save()
    key = ours.session_key
    assert SessionStore(key).load() == DjangoSessionStore(key).load() == {"a": [1, "two"]}
    # Unknown, malformed or expired: no session, and a new one begins, as in Django.
    for other in ("x" * 32, "short", "!" * 41, "' OR 1=1 --" * 4):
        store = SessionStore(other)
        assert store.load() == DjangoSessionStore(other).load() == {}
        assert store.session_key is None
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    expired = SessionStore(key)
    assert expired.load() == DjangoSessionStore(key).load() == {}
    assert expired.session_key is None


def test_a_member_loads_with_their_group_as_the_orm_loads_them(member_a: Any) -> None:
    from veche.apps.accounts.backends import MemberBackend
    from veche.apps.accounts.models import Member

    backend = MemberBackend()
    got = backend.get_user(member_a.pk)
    want = Member.objects.select_related("group").get(pk=member_a.pk)
    assert fields_of(got) == fields_of(want)
    assert fields_of(got.group) == fields_of(want.group)
    assert backend.get_user(str(member_a.pk)) == want  # a key that is not an int: the ORM
    assert backend.get_user(-5) is None
    Member.objects.filter(pk=member_a.pk).update(is_active=False)
    assert backend.get_user(member_a.pk) is None


def test_a_members_grants_are_the_rows_the_orm_reads(member_a: Any, member_b: Any) -> None:
    from veche.apps.accounts.keys import grants_of
    from veche.apps.accounts.models import KeyGrant

    for member in (member_a, member_b):
        want = KeyGrant.objects.filter(member=member).values_list("scope", "epoch", "sealed_key")
        got = grants_of(member.pk)
        assert len(got) >= 2
        assert [(s, e, bytes(k)) for s, e, k in got] == [(s, e, bytes(k)) for s, e, k in want]
    assert grants_of(-1) == []


def test_a_members_grants_come_with_them_once_then_are_read_afresh(
    member_a: Any, make_member: Any, group_a: Any, test_keys: Any
) -> None:
    """The member is read with their grants (one query for both); the request's keyring
    opens those, and any later keyring reads the grants as they are then."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from veche.apps.accounts import keys
    from veche.apps.accounts.backends import MemberBackend
    from veche.apps.accounts.models import KeyGrant
    from veche.crypto import FEDERATION

    want = sorted((s, e, bytes(k)) for s, e, k in keys.grants_of(member_a.pk))
    with CaptureQueriesContext(connection) as queries:
        got = MemberBackend().get_user(member_a.pk)
        read = getattr(got, keys._READ_GRANTS)
    assert len(queries) == 1
    assert sorted((s, e, bytes(k)) for s, e, k in read) == want
    assert fields_of(got) == fields_of(type(got).objects.get(pk=member_a.pk))
    private_key = test_keys.private[member_a.pk]
    with CaptureQueriesContext(connection) as queries:
        first = keys.keyring_for(got, private_key)
    assert len(queries) == 0 and not hasattr(got, keys._READ_GRANTS)
    KeyGrant.objects.filter(member=member_a, scope=FEDERATION).delete()
    later = keys.keyring_for(got, private_key)  # read afresh: the deleted grant is gone
    assert len(list(later)) == len(list(first)) - len([w for w in want if w[0] == FEDERATION])
    # A member with no grant at all is still read (one row, no grant).
    bare = make_member(group_a, "grantless")
    KeyGrant.objects.filter(member=bare).delete()
    assert getattr(MemberBackend().get_user(bare.pk), keys._READ_GRANTS) == []


def test_the_federation_and_its_charter_in_force_are_the_orms(federation: Any) -> None:
    from veche.apps.federation import selectors
    from veche.apps.federation.models import CharterVersion, Federation

    assert fields_of(selectors.get_federation()) == fields_of(Federation.objects.get())
    latest = CharterVersion.objects.order_by("-number").first()
    assert fields_of(selectors.charter_in_force()) == fields_of(latest)
    # A newer version is in force at once: nothing but the SQL is kept between calls.
    newer = CharterVersion.objects.create(
        **{k: v for k, v in fields_of(latest).items() if k not in ("id", "number")},
        number=latest.number + 1,
    )
    assert selectors.charter_in_force().pk == newer.pk


def test_a_charter_is_kept_parsed_only_under_the_digest_of_what_it_holds(
    federation: Any,
) -> None:
    """A parsed charter is kept by its digest once the digest is checked against its
    content: a version whose stored digest lies (a row changed in the database) is
    parsed from what it holds on every read, and never kept under another's digest."""
    from dataclasses import replace

    from veche.apps.federation import selectors
    from veche.apps.federation.models import CharterVersion
    from veche.domain.charter import Charter, digest

    latest = CharterVersion.objects.order_by("-number").first()
    honest = selectors.charter_of(latest)
    assert honest == Charter.from_dict(latest.charter) and digest(honest) == latest.digest
    assert selectors._PARSED[latest.digest] is honest
    assert selectors.charter_of(latest) is honest  # kept: not parsed again
    # Another content under a made-up digest: read as it is, and never kept.
    changed = replace(honest, discussion_retention_days=honest.discussion_retention_days + 1)
    liar = CharterVersion.objects.create(
        number=latest.number + 1,
        charter=changed.to_dict(),
        digest="0" * 64,
        in_force_from=latest.in_force_from,
    )
    assert selectors.charter_of(liar) == changed != honest
    assert "0" * 64 not in selectors._PARSED
    # Another content under the honest digest: read as it is, not as the one kept.
    forged = CharterVersion.objects.create(
        number=latest.number + 2,
        charter=changed.to_dict(),
        digest=latest.digest,
        in_force_from=latest.in_force_from,
    )
    selectors._PARSED.clear()
    assert selectors.charter_of(forged) == changed
    assert latest.digest not in selectors._PARSED


def test_the_federation_is_read_until_it_exists_then_kept(db: Any) -> None:
    """Its row never changes once made: a process reads it once, not on every page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from veche.apps.federation import selectors, services
    from veche.apps.federation.models import Federation

    assert selectors.get_federation() is None
    assert selectors.get_federation() is None  # not kept while there is none
    services.create_federation(name="Riverside", first_group_name="Tenants")
    with CaptureQueriesContext(connection) as queries:
        first = selectors.get_federation()
        again = selectors.get_federation()
    assert len(queries) == 1 and again is first
    assert fields_of(first) == fields_of(Federation.objects.get())
    assert selectors.federation_name() == "Riverside"


def _pages(request_path: str, items: Any) -> list[list[int]]:
    out, number = [], 1
    while True:
        page = paginate(RequestFactory().get(f"{request_path}?page={number}"), items, per_page=7)
        out.append([row.pk for row in page.object_list])
        if not page.has_next:
            return out
        number += 1


def test_pages_of_proposals_and_of_the_inbox_are_the_orms(
    member_a: Any, coordinator_a: Any, member_b: Any
) -> None:
    from veche.apps.proposals import selectors, services

    for i in range(17):
        services.create_proposal(
            author=coordinator_a, kind_key="group-practice", title=f"Idea {i}", body="."
        )
    for member in (member_a, coordinator_a, member_b):
        for closed in (False, True):
            orm = selectors.as_lines(
                (selectors.closed_proposals if closed else selectors.open_proposals)(member=member)
            )
            got = _pages("/proposals/", selectors.proposal_lines(member, closed=closed))
            assert got == _pages("/proposals/", orm)
            for window in (slice(0, 7), slice(7, 14)):
                rows = selectors.proposal_lines(member, closed=closed)[window]
                for row, want in zip(rows, orm[window], strict=True):
                    assert fields_of(row) == fields_of(want)
                    assert fields_of(row.current_version) == fields_of(want.current_version)
        inbox = selectors.inbox_lines(member=member)
        assert _pages("/inbox/", selectors.inbox_rows(member)) == _pages("/inbox/", inbox)
    assert sum(map(len, _pages("/inbox/", selectors.inbox_rows(member_a)))) >= 17


def test_a_thread_is_counted_and_paged_as_the_orm_does(member_a: Any, coordinator_a: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from veche.apps.proposals import selectors, services

    threads = {}
    for length in (0, 1, 7, 8, 16):  # pages of 7: empty, one page, full, one over, three
        row = services.create_proposal(
            author=coordinator_a, kind_key="group-practice", title=f"{length} messages", body="."
        )
        for i in range(length):
            services.post_comment(author=member_a, body=f"message {i}", row=row)
        threads[length] = row
    for length, row in threads.items():
        pages = selectors.thread_rows(row)
        assert pages.count() == selectors.comments(row).count() == length
        last = max(1, -(-length // 7))
        for number in (None, 1, 2, 3, 99, 0):
            query = "" if number is None else f"?page={number}"
            request = RequestFactory().get(f"/proposals/{row.pk}/{query}")
            with CaptureQueriesContext(connection) as queries:
                got = paginate(request, pages, per_page=7, latest=True)
            want = paginate(request, selectors.comments(row), per_page=7, latest=True)
            assert (got.number, got.num_pages, got.has_next) == (
                want.number, want.num_pages, want.has_next,
            )  # fmt: skip
            assert [fields_of(c) for c in got.object_list] == [
                fields_of(c) for c in want.object_list
            ]
            assert [c.author.pseudonym for c in got.object_list] == [
                c.author.pseudonym for c in want.object_list
            ]
            # One query for the latest page, however long the thread, and for a page asked
            # for that exists (0 is read as 1); a page past the end is counted, then the
            # last one read.
            asked = 1 if number == 0 else number
            past_the_end = asked is not None and asked > last
            expected = (2 if length == 0 else 3) if past_the_end else 1
            assert len(queries) == expected, (length, number)


def test_a_model_is_made_as_from_db_makes_it_and_by_django_when_it_listens(
    member_a: Any,
) -> None:
    from django.db.models.signals import post_init

    from veche.apps.core import statements
    from veche.apps.federation.models import Group

    made = statements.make(Group, "default", ["id"], [member_a.group_id])
    assert not made._state.adding and made._state.db == "default"
    assert made.name == Group.objects.get(pk=member_a.group_id).name  # deferred: loaded now
    assert made == Group.objects.get(pk=member_a.group_id)

    seen: list[Any] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    statements._PLAIN.pop(Group, None)
    post_init.connect(listener, sender=Group)
    try:
        made = statements.make(Group, "default", ["id"], [member_a.group_id])
    finally:
        post_init.disconnect(listener, sender=Group)
        statements._PLAIN.pop(Group, None)
    assert seen == [made]


def _electorate_by_orm(at: dt.datetime, group_id: int | None) -> Any:
    """The electorate as the ORM read it before its reads were compiled (the oracle)."""
    from django.db.models import Q

    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import CoordinatorTerm, Group

    groups = Group.objects.all() if group_id is None else Group.objects.filter(pk=group_id)
    members = Member.objects.filter(Q(is_active=True) | Q(left_at__isnull=False))
    terms = CoordinatorTerm.objects.filter(starts_at__lte=at).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )
    if group_id is not None:
        members, terms = members.filter(group_id=group_id), terms.filter(group_id=group_id)
    return (
        list(groups.values_list("pk", "created_at", "dissolved_at")),
        list(members.values_list("pk", "group_id", "joined_at", "left_at")),
        sorted(terms.values_list("group_id", "member_id")),
    )


def test_the_electorate_reads_who_belonged_and_who_coordinated_as_the_orm_does(
    member_a: Any, coordinator_a: Any, member_b: Any, coordinator_b: Any, make_member: Any
) -> None:
    from veche.apps.federation.models import CoordinatorTerm
    from veche.apps.proposals.selectors import electorate

    now = timezone.now()
    # A term that ended an hour ago, one that begins in an hour, one in office.
    CoordinatorTerm.objects.create(
        group=member_a.group, member=member_a,
        starts_at=now - dt.timedelta(days=3), ends_at=now - dt.timedelta(hours=1),
    )  # fmt: skip
    CoordinatorTerm.objects.create(
        group=member_b.group, member=member_b, starts_at=now + dt.timedelta(hours=1)
    )
    for at in (now - dt.timedelta(days=1), now, now + dt.timedelta(hours=2)):
        for group_id in (None, member_a.group_id, member_b.group_id, -4):
            got = electorate(at=at, group_id=group_id)
            groups, members, terms = _electorate_by_orm(at, group_id)
            assert set(got.groups) == {str(pk) for pk, _c, _d in groups}
            assert got.began == {str(pk): c for pk, c, _d in groups}
            assert got.joined == {str(m): j for m, g, j, _l in members if str(g) in got.groups}
            in_office = {(str(g), str(m)) for g, m in terms if str(m) in got.groups.get(str(g), ())}
            assert {(g, m) for g, ms in got.coordinators.items() for m in ms} == in_office
    assert electorate(at=now, group_id=member_a.group_id).coordinators == {
        str(member_a.group_id): frozenset({str(coordinator_a.pk)})
    }


def test_who_is_waited_for_in_the_group_is_what_the_orm_reads(
    member_a: Any, coordinator_a: Any, member_b: Any
) -> None:
    from veche.apps.proposals import selectors, services

    row = services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Waiting", body="."
    )
    for member in (member_a, coordinator_a, member_b):
        got = selectors.waiting_in_group(row, group_id=member.group_id)
        want = selectors.not_yet_responded(row, group_id=member.group_id)
        assert [fields_of(w) for w in got] == [fields_of(w) for w in want]
        assert [w.member.pseudonym for w in got] == [w.member.pseudonym for w in want]
    assert selectors.waiting_in_group(row, group_id=member_a.group_id)
    assert selectors.waiting_in_group(row, group_id=member_b.group_id) == []


def test_a_groups_coordinators_are_those_in_office_as_the_orm_says(
    member_a: Any, coordinator_a: Any, make_member: Any
) -> None:
    from django.db.models import Q

    from veche.apps.accounts.models import Member
    from veche.apps.core.requestcache import RequestCacheMiddleware
    from veche.apps.federation import selectors, services
    from veche.apps.federation.models import CoordinatorTerm

    group = member_a.group
    now = timezone.now()
    gone = make_member(group, coordinator=True)
    Member.objects.filter(pk=gone.pk).update(is_active=False)
    CoordinatorTerm.objects.create(
        group=group, member=member_a, starts_at=now - dt.timedelta(days=2),
        ends_at=now - dt.timedelta(days=1),
    )  # fmt: skip
    for at in (now - dt.timedelta(days=1, hours=12), now):
        terms = CoordinatorTerm.objects.filter(group=group, starts_at__lte=at).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at)
        )
        want = sorted({t.member.pk for t in terms.select_related("member") if t.member.is_active})
        got = selectors.group_coordinators(group=group, at=at)
        assert sorted(m.pk for m in got) == want
    assert [m.pk for m in selectors.group_coordinators(group=group)] == [coordinator_a.pk]
    # Within one request, a new term is seen at once by whoever asks next.
    seen: list[list[int]] = []

    def view(request: Any) -> Any:
        seen.append([m.pk for m in selectors.group_coordinators(group=group)])
        assert not selectors.is_own_group_coordinator(member_a)
        services.start_coordinator_term(group=group, member=member_a)
        seen.append([m.pk for m in selectors.group_coordinators(group=group)])
        assert selectors.is_own_group_coordinator(member_a)
        return None

    RequestCacheMiddleware(view)(RequestFactory().get("/"))
    assert seen[0] == [coordinator_a.pk]
    assert sorted(seen[1]) == sorted([coordinator_a.pk, member_a.pk])


def test_the_recent_transactions_are_the_orms_newest_with_their_entries(
    federation: Any, group_a: Any, group_b: Any, make_member: Any
) -> None:
    from veche.apps.core import keyring
    from veche.apps.fund import selectors, services
    from veche.apps.fund.models import Entry, FundTransaction
    from veche.apps.proposals.services import carry_group_position
    from veche.crypto import Keyring
    from veche.domain.consensus import Position

    ca = make_member(group_a, "coral", coordinator=True)
    cb = make_member(group_b, "bianca", coordinator=True)
    for i in range(selectors.RECENT + 2):
        services.contribute(
            actor=ca if i % 2 else cb,
            amount=100 * (i + 1),
            currency="EUR",
            memo=f"dues {i}" if i % 3 else "",
            idempotency_key=f"recent-{i}",
        )
    asked = services.request_money(
        actor=cb, amount=250, currency="EUR", purpose="Rent", idempotency_key="recent-ask"
    )
    for coordinator in (ca, cb):
        carry_group_position(row=asked.proposal, coordinator=coordinator, position=Position.AGREE)
    services.disburse(actor=cb, proposal_id=asked.proposal_id, idempotency_key="recent-pay")
    labels = {a["account"].pk: a["label"] for a in selectors.balances_table({})}

    lines = selectors.recent_transactions(labels)

    newest = list(FundTransaction.objects.select_related("decision").order_by("-seq"))
    newest = newest[: selectors.RECENT]
    assert [line.seq for line in lines] == [t.seq for t in newest]
    for line, t in zip(lines, newest, strict=True):
        entries = list(Entry.objects.filter(transaction=t).order_by("amount", "pk"))
        assert line.at == t.at
        assert line.kind == str(t.kind_label)
        assert line.memo == t.memo
        assert line.accounts == " → ".join(labels[e.account_id] for e in entries)
        moved = sorted({(e.currency, e.amount) for e in entries if e.amount > 0})
        assert line.amount == ", ".join(selectors.format_money(a, c) for c, a in moved)
        if t.decision is None:
            assert (line.decided_by, line.decision_seq) == ("", None)
        else:
            by = "group" if t.decision.group_id else "federation"
            assert (line.decided_by, line.decision_seq) == (by, t.decision.seq)
    assert lines[0].kind == str(FundTransaction.Kind.DISBURSEMENT.label)
    assert lines[0].decided_by == "federation"
    assert {line.memo for line in lines} >= {"dues 25", ""}
    # A memo opens only with the federation's key: without it, it is not shown.
    with keyring.using(Keyring()):
        shut = selectors.recent_transactions(labels)
    assert {line.memo for line in shut} == {"", keyring.UNREADABLE}


def test_an_accounts_balance_at_any_instant_is_what_the_orm_reads(coordinator_a: Any) -> None:
    from veche.apps.fund import selectors, services
    from veche.apps.fund.models import Account, Balance, Entry

    base = timezone.now() - dt.timedelta(days=10)
    posted = [
        services.contribute(actor=coordinator_a, amount=100 * i, currency=currency,
                            idempotency_key=f"balance-token-{i}", now=base + dt.timedelta(days=i))
        for i, currency in ((1, "EUR"), (2, "USD"), (3, "EUR"), (4, "EUR"))
    ]  # fmt: skip
    assert selectors.get_account("no-such-account") is None
    for account in Account.objects.filter(entries__transaction__in=posted).distinct():
        got_account = selectors.get_account(account.key)
        assert fields_of(got_account) == fields_of(account)
        for days in (0, 1, 2, 3, 3.5, 5, 20):
            at = base + dt.timedelta(days=days)
            want = {}
            for currency in Balance.objects.filter(account=account).values_list(
                "currency", flat=True
            ):
                last = (
                    Entry.objects.filter(account=account, currency=currency,
                                         transaction__at__lt=at)
                    .order_by("-transaction__seq", "-pk")
                    .values_list("balance_after", flat=True)
                    .first()
                )  # fmt: skip
                want[currency] = last or 0
            assert selectors.balance_before(account, at) == want, (account.key, days)


def test_a_statements_pages_are_the_orms_for_any_period(coordinator_a: Any) -> None:
    from veche.apps.fund import selectors, services
    from veche.apps.fund.models import Account

    base = timezone.now() - dt.timedelta(days=30)
    for i in range(12):
        services.contribute(actor=coordinator_a, amount=10 + i, currency="EUR",
                            idempotency_key=f"statement-token-{i}",
                            now=base + dt.timedelta(days=2 * i))  # fmt: skip
    fund = Account.objects.get(key="fund")
    for start_day, end_day in ((0, 40), (3, 9), (9, 3), (-5, 0), (23, 24)):
        start, end = base + dt.timedelta(days=start_day), base + dt.timedelta(days=end_day)
        for window in (slice(0, 5), slice(5, 10), slice(10, 15)):
            got = selectors.statement_pages(fund, start, end)[window]
            want = list(selectors.statement_lines(fund, start, end)[window])
            assert [fields_of(e) for e in got] == [fields_of(e) for e in want]
            assert [fields_of(e.transaction) for e in got] == [
                fields_of(e.transaction) for e in want
            ]


def test_people_named_on_a_page_are_read_in_batches_as_the_orm_reads_them(
    group_a: Any, make_member: Any
) -> None:
    from veche.apps.accounts.models import Member
    from veche.apps.proposals import selectors

    made = [make_member(group_a) for _ in range(35)]
    ids = [m.pk for m in made]
    for wanted in ([], ids[:1], ids[:32], ids[:33], [*ids, *ids[:5], -3, 10**6]):
        got = {m.pk: fields_of(m) for m in selectors.people_named(wanted)}
        want = {
            m.pk: fields_of(m)
            for m in Member.objects.filter(pk__in=wanted).only(*selectors.NAME_FIELDS)
        }
        assert got == want
        assert len(selectors.people_named(wanted)) == len(want)


def test_a_groups_members_are_named_with_its_electorate_as_the_orm_reads_them(
    group_a: Any, member_a: Any, coordinator_a: Any, member_b: Any, make_member: Any
) -> None:
    """A group's proposal page names its author and responders from the names read with
    the group's electorate: the same fields people_named reads, and nobody else's."""
    from veche.apps.accounts.models import Member
    from veche.apps.proposals import selectors

    gone = make_member(group_a)
    Member.objects.filter(pk=gone.pk).update(is_active=False, left_at=timezone.now())
    _el, named = selectors.electorate_named(group_id=group_a.pk)
    in_group = Member.objects.filter(group=group_a).filter(is_active=True) | Member.objects.filter(
        group=group_a, left_at__isnull=False
    )
    want = {str(m.pk): fields_of(m) for m in in_group.only(*selectors.NAME_FIELDS)}
    got = named.people([*want, str(member_b.pk), "-3"])
    assert {i: fields_of(m) for i, m in got.items()} == want
    assert str(member_b.pk) not in got  # another group's member is never named here
    assert got[str(member_a.pk)].pseudonym == member_a.pseudonym
    # Of every group (a federation's matter), no names are read.
    _el, everyone = selectors.electorate_named(group_id=None)
    assert everyone.people(want) == {}


def test_a_groups_proposal_page_names_its_responders_without_reading_them_again(
    member_a: Any, coordinator_a: Any, client_for: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from veche.apps.proposals import services
    from veche.domain.consensus import Position

    row = services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Paint the stairwell", body="Now."
    )
    services.respond(row=row, member=member_a, position=Position.AGREE, version=1)
    client = client_for(member_a)
    client.get(f"/proposals/{row.pk}/")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/proposals/{row.pk}/").content.decode()
    assert coordinator_a.pseudonym in page and member_a.pseudonym in page
    people_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "accounts_member"."id", "accounts_member"."pseudonym_ct"')
    ]
    assert people_reads == []


def test_a_proposal_is_replayed_from_its_events_read_with_its_electorate_as_the_orm_reads(
    member_a: Any, coordinator_a: Any, member_b: Any, coordinator_b: Any
) -> None:
    """One read gives a proposal's stored events (each field as the ORM reads it, in their
    order) and the electorate it is judged by, for a group's matter and a federation's."""
    from veche.apps.proposals import selectors, services
    from veche.apps.proposals.models import ProposalEvent
    from veche.domain.consensus import Position

    group = services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Paint", body="Now."
    )
    services.respond(row=group, member=member_a, position=Position.OBJECT, reason="Why?", version=1)
    services.respond(row=group, member=coordinator_a, position=Position.AGREE, version=1)
    federation = services.create_proposal(
        author=coordinator_a,
        kind_key="admit-group",
        title="Admit the dockers",
        body="They ask.",
        new_group_name="Dockers",
    )
    services.respond(row=federation, member=member_b, position=Position.AGREE, version=1)
    now = timezone.now()
    for row, group_id in ((group, member_a.group_id), (federation, None)):
        row.refresh_from_db()
        events, electorate, _named, waits = selectors.events_and_electorate(
            row, at=now, group_id=group_id
        )
        assert (waits is None) == (group_id is None)
        want = [fields_of(e) for e in ProposalEvent.objects.filter(proposal=row).order_by("seq")]
        assert [fields_of(e) for e in events] == want
        assert len(want) == (2 if row is group else 1) and isinstance(want[0]["data"], dict)
        assert electorate == selectors.electorate(at=now, group_id=group_id)
        loaded = selectors.load(row, now=now)
        assert [fields_of(e) for e in loaded.rows] == want
    # Another proposal's events never come with it.
    events, _el, _n, _w = selectors.events_and_electorate(group, at=now, group_id=member_a.group_id)
    assert {e.proposal_id for e in events} == {group.pk}


def test_a_groups_proposal_reads_whom_it_waits_for_with_its_events_as_the_orm_reads(
    member_a: Any, coordinator_a: Any, coordinator_b: Any, make_member: Any, client_for: Any
) -> None:
    """What a group's proposal waits for, read with its events, is what the ORM's query of
    the page reads: each wait of each active member of the group, reminded or not, and
    nothing of another proposal or another group. The page names them from that read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from veche.apps.accounts.models import Member
    from veche.apps.proposals import presenters, selectors, services
    from veche.apps.proposals.models import Awaiting
    from veche.domain.consensus import Position

    gone = make_member(member_a.group, "gone_soon")
    make_member(member_a.group, "still_to_answer")
    row = services.create_proposal(
        author=coordinator_a, kind_key="group-practice", title="Waiting", body="."
    )
    other = services.create_proposal(
        author=coordinator_b, kind_key="group-practice", title="Elsewhere", body="."
    )
    services.respond(row=row, member=member_a, position=Position.AGREE, version=1)
    Member.objects.filter(pk=gone.pk).update(is_active=False, left_at=timezone.now())
    services.remind(row=row, by=coordinator_a, now=timezone.now())
    assert Awaiting.objects.filter(proposal=other).exists()

    def orm(row: Any, group_id: int) -> list[tuple[int, str, Any]]:
        return [
            (w.member_id, w.wait, w.reminded_at)
            for w in selectors.not_yet_responded(row, group_id=group_id)
        ]

    for proposal, member in ((row, coordinator_a), (other, coordinator_b)):
        loaded = selectors.load(proposal, now=timezone.now())
        assert loaded.waits is not None
        assert sorted(loaded.waits) == sorted(orm(proposal, member.group_id))
        assert any(w.reminded_at for w in loaded.waits) == (proposal is row)
        assert gone.pk not in {w.member_id for w in loaded.waits}
        # Named as the query of the page names them, in its order.
        shown = presenters.not_yet_responded(proposal, member, timezone.now(), loaded)
        read = presenters.not_yet_responded(proposal, member, timezone.now())
        assert shown == read and shown["people"]

    client = client_for(member_a)
    client.get(f"/proposals/{row.pk}/")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/proposals/{row.pk}/").content.decode()
    assert coordinator_a.pseudonym in page
    waits_read_alone = [
        q for q in queries.captured_queries if q["sql"].startswith('SELECT "proposals_awaiting"')
    ]
    assert waits_read_alone == []


def _whoami(client: Any, path: str = "/inbox/") -> tuple[int, str]:
    response = client.get(path)
    return response.status_code, response.content.decode()


def test_a_members_session_is_read_with_the_member_in_one_query(
    member_a: Any, member_b: Any, client_for: Any
) -> None:
    """A member's request reads their session and themselves (group, key grants) at once,
    and is served as the member the session names, with the keys of that member."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(member_a)
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as queries:
        status, page = _whoami(client)
    assert status == 200 and member_a.pseudonym in page and member_b.pseudonym not in page
    reads = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in reads if q.startswith('SELECT "django_session"')]
    assert len([q for q in reads if '"accounts_keygrant"' in q]) == 1
    assert len([q for q in reads if '"django_session"' in q]) == 1


def test_a_session_is_never_served_as_a_member_it_does_not_name(
    member_a: Any, member_b: Any, client_for: Any
) -> None:
    """A MemberSession row that names another member (a row moved in the database, say)
    never makes the request that other member's: the session's own id decides, and the
    member it names is read by that id."""
    from veche.apps.accounts.models import MemberSession

    client = client_for(member_a)
    key = client.session.session_key
    MemberSession.objects.filter(session_key=key).update(member=member_b)
    status, page = _whoami(client)
    assert status == 200 and member_a.pseudonym in page and member_b.pseudonym not in page
    # With no MemberSession row at all, the session is read alone, as before.
    MemberSession.objects.filter(session_key=key).delete()
    status, page = _whoami(client)
    assert status == 200 and member_a.pseudonym in page


def test_a_gone_or_expired_session_is_no_session_though_its_member_row_remains(
    member_a: Any, client_for: Any
) -> None:
    """The session's row decides: expired, or deleted while its MemberSession row
    remains, it is no session, and the request is a visitor's (sent to log in)."""
    from veche.apps.accounts.models import MemberSession

    for end in ("expire", "delete"):
        client = client_for(member_a)
        key = client.session.session_key
        sessions = Session.objects.filter(session_key=key)
        if end == "expire":
            sessions.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
        else:
            sessions.delete()
        assert MemberSession.objects.filter(session_key=key).exists()
        response = client.get("/inbox/")
        assert response.status_code == 302 and "/login/" in response["Location"]
        assert member_a.pseudonym not in client.get("/login/").content.decode()


def test_a_member_read_with_a_session_never_outlives_its_request(member_a: Any) -> None:
    """What a request kept of its session is the request's alone: outside a request the
    session is read alone, and the backend reads the member itself."""
    from veche.apps.accounts.backends import SESSION_MEMBER, MemberBackend
    from veche.apps.accounts.models import MemberSession
    from veche.apps.accounts.sessions import SessionStore
    from veche.apps.core import requestcache

    store = SessionStore()
    store["_auth_user_id"] = str(member_a.pk)
    store.save()
    MemberSession.objects.create(session_key=store.session_key, member=member_a)
    assert SessionStore(store.session_key).load()["_auth_user_id"] == str(member_a.pk)
    assert not requestcache.active() and requestcache.take(SESSION_MEMBER) is None
    assert MemberBackend().get_user(member_a.pk).pk == member_a.pk
