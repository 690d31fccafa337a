"""A refused response, message or meeting record comes back with what was typed."""

from __future__ import annotations

import html

import pytest
from proposal_steps import action, counts, propose, respond, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(group_a, make_member, client_for):
    make_member(group_a, "ben")
    return client_for(make_member(group_a, "ada"))


def test_a_refused_response_keeps_its_position_and_reason(ada):
    pid = propose(ada, kind="group-practice", title="Meet on Tuesdays")
    before = counts()
    # Answering a version that is not the current one is refused by the rules.
    refused = respond(ada, pid, "object", "Ask the night shift first", version=7)
    assert refused.status_code == 400
    page = html.unescape(text(refused))
    assert ">Ask the night shift first</textarea>" in page
    assert 'value="object" checked' in page
    assert counts() == before


def test_a_refused_message_keeps_its_text(ada):
    pid = propose(ada, kind="group-practice", title="Meet on Tuesdays")
    long = "word " * 4001
    refused = action(ada, pid, "comment", {"body": long})
    assert refused.status_code == 400
    assert long.strip() in html.unescape(text(refused))


def test_a_refused_meeting_record_keeps_its_notes(ada, group_a, make_member, client_for):
    coral = client_for(make_member(group_a, "coral", coordinator=True))
    pid = propose(ada, kind="group-practice", title="Meet on Tuesdays")
    typed = {"outcome": "adopted", "reached_by": "consensus", "attendance": "0",
             "notes": "Canteen, 12 present"}  # fmt: skip
    refused = action(coral, pid, "meeting", typed)
    assert refused.status_code == 400
    page = html.unescape(text(refused))
    assert "Canteen, 12 present" in page and "<details open>" in page
