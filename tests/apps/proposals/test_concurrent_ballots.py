"""Sixty-four members cast their ballots at the same moment while others read the page.

Each voter posts through their own client and database connection, released together by
a barrier, while readers load the proposal's page over and over. A ballot is either
acknowledged (200, the page with its receipt) and stored once, or refused as busy (503:
"not saved, try again", which a member then does); never a 500 or a 400. In the end the
roll (who voted) counts as many voters as the board holds sealed ballots, and the
tellers' count as many again: 0 lost, 0 doubled. Tellers giving their shares at once,
or one teller twice at once, count once. Runs on SQLite and, with DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from veche.apps.proposals import selectors
from veche.apps.proposals import services as s
from veche.apps.proposals.models import DecisionRecord, ProposalEvent, SealedBallot, Teller
from veche.domain.errors import DomainError
from veche.domain.proposals import Phase

pytestmark = pytest.mark.django_db(transaction=True)

VOTERS = 64
READERS = 4


def test_sixty_four_simultaneous_ballots_are_each_counted_once(
    group_a, make_member, client_for, test_keys
):
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
            if response.status_code not in (200, 503):
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
    acknowledged = {i for i, status in statuses if status == 200}
    stored = set(
        ProposalEvent.objects.filter(proposal=row, type="ballot_cast").values_list(
            "actor_id", flat=True
        )
    )
    # Every acknowledged ballot is stored; a refused one is not (nothing half-stored).
    assert stored == {voters[i].pk for i in acknowledged}
    for i, status in statuses:
        if status == 503:  # the member sends it again, as the page asks
            assert clients[i].post(f"/proposals/{row.pk}/vote/", ballot(i)).status_code == 200
    roll = ProposalEvent.objects.filter(proposal=row, type="ballot_cast")
    assert roll.count() == VOTERS
    assert len(set(roll.values_list("actor_id", flat=True))) == VOTERS
    row.refresh_from_db()
    assert row.ballots_cast == VOTERS
    state = selectors.load(row).state
    assert state.vote is not None and state.vote.ballots_cast == VOTERS
    # The board holds exactly the roll: one sealed row per ballot, all of one length.
    board = SealedBallot.objects.filter(vote__proposal=row)
    assert board.count() == VOTERS
    assert len({len(bytes(c)) for c in board.values_list("ciphertext", flat=True)}) == 1
    # Closed by nobody; counted by two tellers at once (and one of them twice at once).
    later = timezone.now() + dt.timedelta(days=2)
    assert s.settle(row, now=later).state.phase is Phase.COUNTING
    seats = list(Teller.objects.filter(vote__proposal=row).order_by("index"))
    tellers = {m.pk: m for m in voters if m.pk in {t.member_id for t in seats}}
    results = _at_once(
        [
            (tellers[seats[0].member_id], test_keys.private[seats[0].member_id]),
            (tellers[seats[0].member_id], test_keys.private[seats[0].member_id]),
            (tellers[seats[1].member_id], test_keys.private[seats[1].member_id]),
        ],
        row,
        later,
    )
    assert results.count("error") == 0, results
    assert results.count(s.ShareResult.COUNTED) == 1
    assert Teller.objects.filter(vote__proposal=row).exclude(share=b"").count() == 2
    closed = selectors.load(row, now=later).state
    assert closed.vote is not None and closed.vote.result is not None
    assert closed.vote.result.cast == VOTERS
    assert DecisionRecord.objects.filter(proposal=row).count() == 1


def _at_once(calls, row, now):
    """Run ``give_share`` for each (teller, key) in its own thread and connection at once."""
    barrier = threading.Barrier(len(calls))
    results: list = []

    def give(teller, key) -> None:
        try:
            barrier.wait()
            for _attempt in range(20):
                try:
                    results.append(s.give_share(row=row, teller=teller, private_key=key, now=now))
                    return
                except DomainError as error:  # busy: the teller's next sign-in tries again
                    if "busy" not in str(error):
                        raise
        except Exception as error:  # every failure is the finding
            results.append("error")
            results.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
