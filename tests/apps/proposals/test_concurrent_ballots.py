"""Sixty-four members cast their ballots at the same moment while others read the page.

Each voter posts through their own client and database connection, released together by
a barrier, while readers load the proposal's page over and over. A ballot is either
acknowledged (302) and stored once, or refused as busy (503: "not saved, try again",
which a member then does); never a 500 or a 400. In the end the roll (who voted) counts
as many voters as the vote counts ballots: 0 lost, 0 doubled. Runs on SQLite and, with
DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from veche.apps.proposals import selectors
from veche.apps.proposals import services as s
from veche.apps.proposals.models import ProposalEvent

pytestmark = pytest.mark.django_db(transaction=True)

VOTERS = 64
READERS = 4


def test_sixty_four_simultaneous_ballots_are_each_counted_once(group_a, make_member, client_for):
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

    voters = [make_member(group_a, f"v{i:02d}") for i in range(VOTERS)]
    now = timezone.now()
    Member.objects.update(joined_at=now - dt.timedelta(days=2))
    Group.objects.update(created_at=now - dt.timedelta(days=2))
    row = s.create_proposal(
        author=voters[0], kind_key="group-practice", title="Which", body="Choose.",
        urgent=True, options=["north", "south", "east"],
        deadline=now - dt.timedelta(hours=1), now=now - dt.timedelta(hours=2),
    )  # fmt: skip
    s.settle_due(now=now)
    clients = [client_for(v) for v in voters]
    readers = clients[:READERS]
    barrier = threading.Barrier(VOTERS + READERS)
    statuses: list[int] = []
    reads: list[int] = []
    failures: list[str] = []
    voting = threading.Event()
    voting.set()

    def ballot(index: int) -> dict[str, str]:
        return {f"rank-{(index + k) % 3}": str(k + 1) for k in range(3)}

    def vote(index: int) -> None:
        try:
            barrier.wait()
            response = clients[index].post(f"/proposals/{row.pk}/vote/", ballot(index))
            statuses.append((index, response.status_code))
            if response.status_code not in (302, 503):
                failures.append(f"{response.status_code}: " + response.content.decode()[-600:])
        except Exception as error:  # every failure is the finding
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    def read(index: int) -> None:
        try:
            barrier.wait()
            while voting.is_set():
                reads.append(readers[index].get(f"/proposals/{row.pk}/").status_code)
        except Exception as error:
            failures.append(f"reader {type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(VOTERS)]
    watchers = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for thread in [*threads, *watchers]:
        thread.start()
    for thread in threads:
        thread.join()
    voting.clear()
    for thread in watchers:
        thread.join()

    assert failures == []
    assert len(statuses) == VOTERS
    assert reads and set(reads) == {200}
    acknowledged = {i for i, status in statuses if status == 302}
    stored = set(
        ProposalEvent.objects.filter(proposal=row, type="ballot_cast").values_list(
            "actor_id", flat=True
        )
    )
    # Every acknowledged ballot is stored; a refused one is not (nothing half-stored).
    assert stored == {voters[i].pk for i in acknowledged}
    for i, status in statuses:
        if status == 503:  # the member sends it again, as the page asks
            assert clients[i].post(f"/proposals/{row.pk}/vote/", ballot(i)).status_code == 302
    roll = ProposalEvent.objects.filter(proposal=row, type="ballot_cast")
    assert roll.count() == VOTERS
    assert len(set(roll.values_list("actor_id", flat=True))) == VOTERS
    row.refresh_from_db()
    assert row.ballots_cast == VOTERS
    state = selectors.load(row).state
    assert state.vote is not None and state.vote.ballots_cast == VOTERS
    # Counted at the close: every ballot, once.
    closed = s.settle(row, now=timezone.now() + dt.timedelta(days=2)).state
    assert closed.vote is not None and closed.vote.result is not None
    assert closed.vote.result.cast == VOTERS
