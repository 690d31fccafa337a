"""A group records what an in-person meeting decided, without an online proposal first.

Through HTTP: the form, the meeting's page, confirmation by others present (and by nobody
who could not have been there), each decision landing in the group's log, a record that
lapses unconfirmed, and every bad day or attendance answered with a 400 and a message.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from proposal_steps import T0, at, counts, text

from veche.apps.accounts.models import Member
from veche.apps.federation.models import Group
from veche.apps.proposals.models import DecisionRecord, Meeting, Proposal

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
MEETING_DAY = (T0 - 3 * DAY).date().isoformat()  # 2030-01-04


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def crew(group_a, make_member, client_for):
    """Five members of Alpha, there for a month; the group a little longer."""
    members = [make_member(group_a, n) for n in ("ada", "ben", "cleo", "dmitri", "eve")]
    Member.objects.filter(group=group_a).update(joined_at=T0 - 30 * DAY)
    Group.objects.filter(pk=group_a.pk).update(created_at=T0 - 40 * DAY)
    return members, [client_for(m) for m in members]


def meeting_form(**overrides: str) -> dict[str, str]:
    data = {
        "held_on": MEETING_DAY,
        "attendance": "4",
        "notes": "Met in the laundry room.",
        "d0-kind": "group-practice",
        "d0-title": "Paint the stairwell",
        "d0-text": "We paint it green on Saturday.",
        "d0-outcome": "adopted",
        "d0-reached_by": "consensus",
        "d1-kind": "group-practice",
        "d1-title": "Buy a new lock",
        "d1-text": "Not now: too dear.",
        "d1-outcome": "not_adopted",
        "d1-reached_by": "vote",
    }
    for i in range(2, 5):
        data.update({f"d{i}-kind": "group-practice", f"d{i}-outcome": "adopted",
                     f"d{i}-reached_by": "consensus"})  # fmt: skip
    data.update(overrides)
    return data


def record(client, **overrides: str):
    return client.post("/meetings/new/", meeting_form(**overrides))


def recorded(client, **overrides: str) -> Meeting:
    response = record(client, **overrides)
    assert response.status_code == 302, text(response)
    return Meeting.objects.get(pk=int(response["Location"].strip("/").split("/")[-1]))


def test_a_meeting_is_recorded_confirmed_and_each_decision_lands_in_the_groups_log(crew):
    members, clients = crew
    form = clients[0].get("/meetings/new/")
    assert form.status_code == 200
    assert "Day of the meeting (UTC)" in text(form)
    meeting = recorded(clients[0])
    decisions = list(Proposal.objects.filter(meeting=meeting).order_by("pk"))
    assert len(decisions) == 2
    assert {d.phase for d in decisions} == {"confirming"}

    page = text(clients[1].get(f"/meetings/{meeting.pk}/"))
    assert 'Meeting of <time datetime="2030-01-04">Jan 4, 2030</time>' in page
    assert "4 members" in page
    assert "Met in the laundry room." in page
    assert "Paint the stairwell" in page and "Buy a new lock" in page
    assert "I was present: confirm the record" in page
    inbox = text(clients[1].get("/inbox/"))
    assert "Paint the stairwell" in inbox
    assert "A meeting record awaits confirmation" in inbox
    detail = text(clients[1].get(f"/proposals/{decisions[0].pk}/"))
    assert 'the meeting of <time datetime="2030-01-04">Jan 4, 2030</time>' in detail
    assert 'id="consensus-h"' not in detail  # nobody responds online to a meeting's decision

    own = clients[0].post(f"/meetings/{meeting.pk}/confirm/")
    assert own.status_code == 400
    assert "cannot confirm their own record" in text(own)
    assert clients[1].post(f"/meetings/{meeting.pk}/confirm/").status_code == 302
    assert clients[1].post(f"/meetings/{meeting.pk}/confirm/").status_code == 400
    assert clients[2].post(f"/meetings/{meeting.pk}/confirm/").status_code == 302

    records = {
        r.proposal_id: r.payload
        for r in DecisionRecord.objects.filter(chain=f"group-{members[0].group_id}")
    }
    first, second = (records[d.pk] for d in decisions)
    assert first["outcome"] == "adopted" and first["reached_by"] == "meeting"
    assert second["outcome"] == "not_adopted"
    assert first["tally"]["meeting"] == {
        "attendance": 4, "reached_by": "consensus", "confirmations": 3, "held_on": MEETING_DAY,
    }  # fmt: skip
    log = text(clients[3].get("/decisions/"))
    assert "Paint the stairwell" in log and "at an in-person meeting" in log
    done = text(clients[1].get(f"/meetings/{meeting.pk}/"))
    assert "I was present" not in done and "Adopted" in done


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"held_on": (T0 + DAY).date().isoformat()}, "in the future"),
        ({"held_on": (T0 - 41 * DAY).date().isoformat()}, "did not exist yet"),
        ({"held_on": "2030-13-45"}, "Enter a valid date"),
        ({"held_on": ""}, "This field is required"),
        ({"attendance": "6"}, "the group has 5 members"),
        ({"attendance": "2"}, "at least 3 attended"),
        ({"attendance": "-1"}, "greater than or equal to 1"),
        ({"attendance": "many"}, "Enter a whole number"),
        ({"d0-title": "", "d0-text": "", "d1-title": "", "d1-text": ""}, "at least one decision"),
        ({"d1-text": ""}, "This field is required"),
        ({"d0-kind": "common-policy"}, "Select a valid choice"),
    ],
)
def test_bad_days_attendance_and_decisions_get_a_400_with_a_message_and_store_nothing(
    crew, overrides, message
):
    _members, clients = crew
    before = counts()
    response = record(clients[0], **overrides)
    assert response.status_code == 400
    assert message in text(response)
    assert counts() == before
    assert not Meeting.objects.exists()
    assert "Paint the stairwell" in text(response) or overrides.get("d0-title") == ""


def test_attendance_is_capped_at_the_groups_size_on_the_day_of_the_meeting(crew):
    members, clients = crew
    Member.objects.filter(pk=members[4].pk).update(joined_at=T0 - DAY)  # eve joined later
    response = record(clients[0], attendance="5")
    assert response.status_code == 400
    assert "the group has 4 members" in text(response)
    meeting = recorded(clients[0], attendance="4")
    page = text(clients[4].get(f"/meetings/{meeting.pk}/"))
    assert "joined the group after that meeting" in page
    refused = clients[4].post(f"/meetings/{meeting.pk}/confirm/")
    assert refused.status_code == 400
    assert "joined the group after that meeting" in text(refused)


def test_a_meeting_quorum_is_the_kinds_consensus_quorum_of_the_group_that_day(
    group_a, make_member, client_for
):
    people = [make_member(group_a, f"p{i}") for i in range(10)]
    Member.objects.filter(group=group_a).update(joined_at=T0 - 30 * DAY)
    Group.objects.filter(pk=group_a.pk).update(created_at=T0 - 40 * DAY)
    client = client_for(people[0])
    response = record(client, attendance="4")
    assert response.status_code == 400
    assert "at least 5 members present" in text(response)


def test_an_unconfirmed_record_lapses_into_the_log_as_not_confirmed(crew, clock):
    _members, clients = crew
    meeting = recorded(clients[0])
    clients[1].post(f"/meetings/{meeting.pk}/confirm/")
    clock.move_to(at(days=7, minutes=1))  # the kind's consensus period
    page = text(clients[0].get(f"/meetings/{meeting.pk}/"))
    assert "Not confirmed by others present" in page
    outcomes = set(
        DecisionRecord.objects.filter(proposal__meeting=meeting).values_list(
            "payload__outcome", flat=True
        )
    )
    assert outcomes == {"unconfirmed"}


def test_another_groups_members_never_see_or_confirm_a_meeting(crew, member_b, client_for):
    _members, clients = crew
    meeting = recorded(clients[0])
    outsider = client_for(member_b)
    assert outsider.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert outsider.post(f"/meetings/{meeting.pk}/confirm/").status_code == 404
    decision = Proposal.objects.filter(meeting=meeting).first()
    assert outsider.get(f"/proposals/{decision.pk}/").status_code == 404


def test_a_record_on_an_open_proposal_keeps_the_meetings_day(crew):
    _members, clients = crew
    response = clients[0].post(
        "/proposals/new/", {"kind": "group-practice", "title": "Bins", "body": "Move them."}
    )
    pid = int(response["Location"].strip("/").split("/")[-1])
    future = clients[0].post(
        f"/proposals/{pid}/meeting/",
        {"outcome": "adopted", "reached_by": "consensus", "attendance": "4",
         "held_on": (T0 + DAY).date().isoformat()},
    )  # fmt: skip
    assert future.status_code == 400
    assert "in the future" in text(future)
    ok = clients[0].post(
        f"/proposals/{pid}/meeting/",
        {"outcome": "adopted", "reached_by": "consensus", "attendance": "4",
         "held_on": MEETING_DAY},
    )  # fmt: skip
    assert ok.status_code == 302
    assert 'on <time datetime="2030-01-04">Jan 4, 2030</time> recorded' in text(
        clients[1].get(f"/proposals/{pid}/")
    )
