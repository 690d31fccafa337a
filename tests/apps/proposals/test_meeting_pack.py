"""The meeting pack: a group's open proposals to print, with a form to bring back."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from proposal_steps import T0, action, at, propose, respond, text

from veche.apps.federation.selectors import get_federation
from veche.apps.proposals import meeting_pack

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def pack(client, group) -> str:
    response = client.get(f"/groups/{group.pk}/meeting-pack/")
    assert response.status_code == 200
    return text(response)


def test_the_pack_holds_the_groups_open_proposals_with_texts_alternatives_and_deadlines(
    group_a, group_b, make_member, client_for
):
    ada, ben, cleo = (make_member(group_a, n) for n in ("ada", "ben", "cleo"))
    a, b = client_for(ada), client_for(ben)
    slow = propose(
        b, kind="group-practice", title="Paint the stairwell", body="Paint it **green**.",
        deadline=at(days=7),
    )  # fmt: skip
    propose(
        b, kind="group-practice", title="Which day", urgent=True, deadline=at(hours=2),
        options=["Monday", "Friday"],
    )  # fmt: skip
    decided = propose(a, kind="group-practice", title="Already decided")
    for client in (a, b, client_for(cleo)):
        respond(client, decided, "agree")
    propose(a, kind="group-practice", title="Ada's draft", draft=True)
    propose(client_for(make_member(group_b, "bruno")), kind="group-practice", title="Beta's own")
    propose(b, kind="common-policy", title="Share the press", body="One press for all.")

    page = pack(a, group_a)

    assert "Meeting pack: Alpha" in page
    assert "Paint the stairwell" in page
    assert "Paint it <strong>green</strong>." in page  # Markdown rendered
    assert "Monday" in page and "Friday" in page  # the alternatives
    assert "Consensus closes" in page and "Jan 14, 2030, 09:00" in page  # the deadline
    # The urgent one closes first: first on the agenda.
    assert page.index("Which day") < page.index("Paint the stairwell")
    assert f'href="/proposals/{slow}/"' in page
    assert f"http://testserver/proposals/{slow}/" in page  # the address, for paper
    # What the site's meeting record asks for, in its own words.
    for label in (
        "What the meeting decided",
        "How it was reached",
        "How many members attended (a count, never names)",
        "Notes",
    ):
        assert label in page
    assert "Confirmed on the site by others present (2 needed)" in page
    # The federation's proposals, to discuss; not the closed, the drafts, other groups'.
    assert "Share the press" in page
    assert "Already decided" not in page
    assert "Ada&#x27;s draft" not in page and "Ada's draft" not in page
    assert "Beta&#x27;s own" not in page and "Beta's own" not in page


def test_the_pack_names_nobody(group_a, make_member, client_for):
    ada, ben = make_member(group_a, "ada"), make_member(group_a, "benedikt")
    pid = propose(client_for(ben), kind="group-practice", title="Fix the door")
    respond(client_for(ben), pid, "block", "Not without the landlord")
    page = pack(client_for(ada), group_a)
    main = page.split("<main", 1)[1]
    assert "Fix the door" in main
    assert "benedikt" not in main
    assert "Not without the landlord" not in main  # reasons are the site's, with names


def test_only_the_groups_own_members_reach_its_pack(
    client, group_a, group_b, make_member, client_for
):
    outsider = client_for(make_member(group_b, "bruno"))
    assert outsider.get(f"/groups/{group_a.pk}/meeting-pack/").status_code == 404
    assert outsider.get("/groups/987654/meeting-pack/").status_code == 404
    response = client.get(f"/groups/{group_a.pk}/meeting-pack/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    member = client_for(make_member(group_a, "ada"))
    assert member.post(f"/groups/{group_a.pk}/meeting-pack/").status_code == 405


def test_a_proposal_past_consensus_and_vote_gets_no_form_and_a_pending_record_says_so(
    group_a, make_member, client_for, clock
):
    people = [make_member(group_a, n) for n in ("ada", "ben", "cleo", "dan")]
    a, b = client_for(people[0]), client_for(people[1])
    mandate = propose(
        b, kind="group-quick-response", title="Answer the landlord", urgent=True,
        deadline=at(hours=4), mandate_scope=["the reply"],
    )  # fmt: skip
    recorded = propose(b, kind="group-practice", title="Fix the bell")
    response = b.post(
        f"/proposals/{recorded}/meeting/",
        {"outcome": "adopted", "reached_by": "consensus", "attendance": 4, "notes": ""},
    )
    assert response.status_code == 302
    open_one = propose(b, kind="group-practice", title="Open matter")
    clock.move_to(at(hours=4, minutes=1))
    action(a, mandate, "volunteer")

    page = pack(a, group_a)
    sheets = {
        title: page.split(f". {title}</h2>", 1)[1].split("</article>", 1)[0]
        for title in ("Answer the landlord", "Fix the bell", "Open matter")
    }
    assert "cannot record a decision" in sheets["Answer the landlord"]
    assert "What the meeting decided" not in sheets["Answer the landlord"]
    assert "already awaits confirmation" in sheets["Fix the bell"]
    assert "What the meeting decided" not in sheets["Fix the bell"]
    assert "What the meeting decided" in sheets["Open matter"]
    assert open_one


def test_a_long_list_is_capped_and_says_where_the_rest_are(
    group_a, make_member, client_for, monkeypatch
):
    monkeypatch.setattr(meeting_pack, "CAP", 2)
    ada = make_member(group_a, "ada")
    a = client_for(ada)
    for n in range(3):
        propose(a, kind="group-practice", title=f"Matter {n}", deadline=at(days=3 + n))
    page = pack(a, group_a)
    assert "Matter 0" in page and "Matter 1" in page
    assert "Matter 2" not in page
    assert "More than 2 proposals are open" in page


def test_the_pack_makes_the_same_queries_for_one_open_proposal_as_for_many(
    group_a, make_member, client_for
):
    ada, ben = make_member(group_a, "ada"), make_member(group_a, "ben")
    a = client_for(ada)
    url = f"/groups/{group_a.pk}/meeting-pack/"

    def queries() -> int:
        get_federation()  # read once per process (decision 0138), whichever page is first
        with CaptureQueriesContext(connection) as captured:
            assert a.get(url).status_code == 200
        return len(captured)

    propose(a, kind="group-practice", title="First", options=["x", "y"])
    propose(a, kind="common-policy", title="Federation first")
    one = queries()
    for n in range(6):
        pid = propose(a, kind="group-practice", title=f"More {n}", options=["x", "y"])
        respond(client_for(ben), pid, "agree")
        propose(a, kind="common-policy", title=f"Federation more {n}")
    assert queries() == one


def test_members_reach_the_pack_by_links_and_reading_it_writes_nothing(client):
    """The crawl (and so the no-GET-writes test) reaches the pack from the proposals list."""
    from django.utils import timezone
    from tests.apps.core.test_crawl import crawl
    from tests.conftest import log_in_with_keys

    from veche.apps.accounts.models import Member
    from veche.crypto import unlock
    from veche.demo import PASSPHRASE
    from veche.demo import build as build_demo

    with time_machine.travel(timezone.now(), tick=True):
        build_demo(now=timezone.now())
        member = Member.objects.get(pseudonym="marko")
        log_in_with_keys(client, member, unlock(member.key_record(), PASSPHRASE))
        with CaptureQueriesContext(connection) as captured:
            result = crawl(client, ["/proposals/"])
    url = f"/groups/{member.group_id}/meeting-pack/"
    assert result.pages.get(url) == 200
    assert result.problems == []
    writes = [
        q["sql"]
        for q in captured
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_a_proposal_whose_kind_the_charter_dropped_still_has_its_sheet(
    federation, group_a, make_member, client_for
):
    ada = make_member(group_a, "ada")
    a = client_for(ada)
    propose(a, kind="group-practice", title="Under the old rules")
    from django.utils import timezone

    from veche.apps.federation.selectors import get_charter
    from veche.apps.federation.services import put_charter
    from veche.domain.charter import Charter

    data = get_charter().to_dict()
    data["kinds"] = [k for k in data["kinds"] if k["key"] != "group-practice"]
    put_charter(charter=Charter.from_dict(data), at=timezone.now())
    page = pack(a, group_a)
    # Judged, and shown, under the version it was published under.
    assert "Under the old rules" in page
    assert "How and when the group does its work" in page
    assert "What the meeting decided" in page
