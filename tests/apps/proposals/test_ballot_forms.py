"""Every voting method of the engine has a working ballot form, with JavaScript off.

The charter's urgent fallback for group practice is switched to each method in turn;
three members cast ballots through the plain HTML controls; at the close the page shows
the winner the engine computes for those same ballots.
"""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from proposal_steps import T0, at, page, propose, respond, text

from veche.domain.charter import VoteFallback, with_kind
from veche.domain.voting import Method

pytestmark = pytest.mark.django_db

OPTIONS = ["Library", "School hall", "Park"]

# Per method: each voter's form fields, and the winner those ballots give. No case needs
# the lot (each proposal draws its own seed), so every winner is certain.
CASES = {
    Method.MAJORITY: (
        [{"choice": "1"}, {"choice": "1"}, {"choice": "0"}],
        "School hall",
    ),
    Method.SUPERMAJORITY: (
        [{"choice": "2"}, {"choice": "2"}, {"choice": "2"}],
        "Park",
    ),
    Method.APPROVAL: (
        [{"approve": ["0", "2"]}, {"approve": ["2"]}, {"approve": ["1", "2"]}],
        "Park",
    ),
    Method.SCORE: (
        [
            {"score-0": "5", "score-1": "1", "score-2": "0", "score-3": "0"},
            {"score-0": "4", "score-1": "5", "score-2": "0", "score-3": "0"},
            {"score-0": "5", "score-1": "0", "score-2": "2", "score-3": "0"},
        ],
        "Library",
    ),
    Method.IRV: (
        # A majority of first preferences: no elimination, so no lot, decides it.
        [{"rank-0": "1", "rank-2": "2"}, {"rank-0": "1"}, {"rank-1": "1", "rank-0": "2"}],
        "Library",
    ),
    Method.SCHULZE: (
        [{"rank-1": "1", "rank-2": "2"}, {"rank-1": "1"}, {"rank-2": "1", "rank-1": "2"}],
        "School hall",
    ),
}

FORM_CONTROL = {
    Method.MAJORITY: 'name="choice"',
    Method.SUPERMAJORITY: 'name="choice"',
    Method.APPROVAL: 'type="checkbox" name="approve"',
    Method.SCORE: 'name="score-0"',
    Method.IRV: 'name="rank-0"',
    Method.SCHULZE: 'name="rank-0"',
}


def _use_method(method: Method) -> None:

    from veche.apps.federation.selectors import get_charter
    from veche.apps.federation.services import put_charter

    charter = get_charter()
    kind = charter.kind("group-practice")
    threshold = {Method.SUPERMAJORITY: "2/3"}.get(method)
    # Instant-runoff is open-ballot only (decision 0062); every other method is secret.
    secret = method is not Method.IRV
    fallback = VoteFallback(method=method, quorum=kind.fallback.quorum, secret=secret)  # type: ignore[union-attr]
    if threshold:
        from fractions import Fraction

        fallback = VoteFallback(method=method, threshold=Fraction(threshold), secret=secret)
    from dataclasses import replace

    put_charter(
        charter=with_kind(charter, replace(kind, fallback=fallback)),
        at=T0 - dt.timedelta(days=1),
    )


@pytest.mark.parametrize("method", list(CASES), ids=lambda m: m.value)
def test_each_method_has_a_ballot_form_that_decides_the_vote(
    method, group_a, make_member, client_for
):
    _use_method(method)
    ballots, winner = CASES[method]
    with time_machine.travel(T0, tick=False) as clock:
        members = [make_member(group_a, f"voter{i}") for i in range(3)]
        clients = [client_for(m) for m in members]
        pid = propose(
            clients[0], kind="group-practice", title=f"Where to meet ({method.value})",
            urgent=True, deadline=at(hours=2), options=OPTIONS,
        )  # fmt: skip
        assert respond(clients[1], pid, "block", "Not yet.").status_code == 302
        clock.move_to(at(hours=2, minutes=1))
        body = page(clients[0], pid)
        assert FORM_CONTROL[method] in body
        for client, fields in zip(clients, ballots, strict=True):
            response = client.post(f"/proposals/{pid}/vote/", fields)
            if method is Method.IRV:
                assert response.status_code == 302, text(response)
            else:
                # A secret ballot's confirmation shows its receipt, once.
                assert response.status_code == 200, text(response)
                assert "Your receipt" in text(response)
        clock.move_to(at(days=2))
        if method is not Method.IRV:
            # Three voters, three tellers, two needed: the vote waits, then is counted.
            assert "tellers have signed in" in page(clients[2], pid)
            for client in clients[:2]:
                assert client.post(f"/proposals/{pid}/count/").status_code == 302
        body = html.unescape(page(clients[2], pid))
    assert f"Winner: <strong>{winner}</strong>" in body
    assert "Adopted" in body and "by vote" in body
