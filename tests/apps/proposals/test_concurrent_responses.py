"""Members responding at the same moment are all recorded, in order, none refused."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection

from veche.apps.proposals import services as s
from veche.apps.proposals.models import ProposalEvent
from veche.domain.consensus import Position

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_responses_are_all_recorded(group_a, make_member):
    members = [make_member(group_a, f"r{i}") for i in range(8)]
    author = make_member(group_a, "author")
    row = s.create_proposal(author=author, kind_key="group-practice", title="T", body="B")
    barrier = threading.Barrier(len(members))
    failures: list[str] = []

    def respond(member) -> None:
        try:
            barrier.wait()
            s.respond(row=row, member=member, position=Position.AGREE, version=1)
        except Exception as error:  # every failure is the finding
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=respond, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    events = list(ProposalEvent.objects.filter(proposal=row).order_by("seq"))
    assert len(events) == len(members)
    assert [e.seq for e in events] == list(range(len(members)))
    assert all(a.at <= b.at for a, b in itertools.pairwise(events))
