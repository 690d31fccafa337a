"""The inbox: what waits for a member, deadlines within a day flagged, newest first."""

from __future__ import annotations

import pytest
import time_machine
from proposal_steps import T0, action, at, propose, respond, text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def items(client):
    """Return the inbox's items as (title, item html), in page order."""
    response = client.get("/inbox/")
    assert response.status_code == 200
    chunks = text(response).split('<li class="inbox-item')[1:]
    return [(chunk.split("</a>")[0].rsplit(">", 1)[1], chunk) for chunk in chunks]


def test_inbox_lists_what_waits_for_me_newest_first_with_soon_deadlines_flagged(
    group_a, group_b, make_member, client_for, clock
):
    ada, ben, cleo, dmitri = (make_member(group_a, n) for n in ("ada", "ben", "cleo", "dmitri"))
    a, b, c, d = (client_for(m) for m in (ada, ben, cleo, dmitri))
    outsider = client_for(make_member(group_b, "bertolucci"))

    propose(d, kind="group-practice", title="Slow matter", deadline=at(days=7))
    clock.move_to(at(hours=1))
    vote_pid = propose(
        d,
        kind="group-practice",
        title="Which day",
        urgent=True,
        deadline=at(hours=2),
        options=["Monday", "Friday"],
    )
    respond(b, vote_pid, "block", "Ask the night shift")
    clock.move_to(at(hours=3))
    mandate = propose(
        d,
        kind="group-quick-response",
        title="Answer the landlord",
        urgent=True,
        deadline=at(hours=4),
        mandate_scope=["the reply"],
    )
    clock.move_to(at(hours=4, minutes=1))
    action(c, mandate, "volunteer")
    clock.move_to(at(hours=10, minutes=5))
    propose(d, kind="group-practice", title="Soon matter", deadline=at(hours=20))
    answered = propose(d, kind="group-practice", title="Answered matter", deadline=at(days=6))
    respond(a, answered, "agree")
    propose(outsider, kind="group-practice", title="Beta matter")

    clock.move_to(at(hours=10, minutes=10))
    got = items(a)
    titles = [t for t, _ in got]
    assert titles == ["Soon matter", "Answer the landlord", "Which day", "Slow matter"]
    by_title = dict(got)
    assert "Your response is awaited" in by_title["Soon matter"]
    assert "A mandate is in force" in by_title["Answer the landlord"]
    assert "A vote is open: cast your ballot" in by_title["Which day"]
    assert "Your response is awaited" in by_title["Slow matter"]
    for soon in ("Soon matter", "Which day"):
        assert by_title[soon].startswith(' soon"') and "Within 24 hours" in by_title[soon]
    for later in ("Slow matter", "Answer the landlord"):
        assert not by_title[later].startswith(' soon"') and "Within 24 hours" not in by_title[later]

    assert "You hold a mandate in force" in dict(items(c))["Answer the landlord"]
    # Once I have voted, the vote no longer waits for me.
    assert action(a, vote_pid, "vote", {"rank-0": "1"}).status_code == 200  # its receipt
    assert "Which day" not in [t for t, _ in items(a)]
    assert [t for t, _ in items(outsider)] == ["Beta matter"]


def test_an_empty_inbox_says_nothing_waits(member_a, client_for):
    assert "Nothing waits for you." in text(client_for(member_a).get("/inbox/"))
