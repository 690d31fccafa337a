"""Membership changes after the fact never break a proposal's page or rewrite its history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from veche.apps.proposals import services as s
from veche.domain.consensus import Position

pytestmark = pytest.mark.django_db


def test_a_removed_mandate_holder_leaves_the_record_of_their_decisions_intact(
    group_a, make_member, coordinator_a, client_for, coordinators_remove_alone
):
    now = timezone.now()
    h = dt.timedelta(hours=1)
    members = [make_member(group_a, f"m{i}") for i in range(3)]
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

    Member.objects.update(joined_at=now - 100 * h)
    Group.objects.update(created_at=now - 100 * h)
    row = s.create_proposal(
        author=members[0], kind_key="group-quick-response", title="Quick", body="Now.",
        urgent=True, deadline=now - 20 * h, mandate_scope=["Talk to the press"],
        now=now - 21 * h,
    )  # fmt: skip
    s.respond(row=row, member=members[1], position=Position.BLOCK, reason="No.", version=1,
              now=now - 20.5 * h)  # fmt: skip
    s.volunteer(row=row, member=members[2], now=now - 19 * h)
    s.record_mandate_decision(row=row, holder=members[2], matter="Talk to the press",
                              text="Said nothing.", now=now - 10 * h)  # fmt: skip

    coordinator = client_for(coordinator_a)
    removed = coordinator.post(
        f"/groups/{group_a.pk}/members/{members[2].pk}/remove/", {"confirm": "yes"}
    )
    assert removed.status_code == 302
    page = coordinator.get(f"/proposals/{row.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Said nothing." in body
    assert "m2" in body  # the holder is named within the group, though gone
    for url in ("/proposals/", "/inbox/", "/decisions/"):
        assert coordinator.get(url).status_code == 200


def test_in_spokes_mode_other_groups_internal_responses_are_not_shown(
    group_a, group_b, make_member, client_for
):
    a1 = make_member(group_a, "alpha1")
    b1 = make_member(group_b, "beta1")
    row = s.create_proposal(
        author=a1, kind_key="admit-group", title="Admit the dockers", body="They ask.",
        new_group_name="Dockers",
    )  # fmt: skip
    s.respond(row=row, member=b1, position=Position.OBJECT, reason="SECRET-B-REASON", version=1)
    s.respond(row=row, member=a1, position=Position.AGREE, version=1)
    body = client_for(a1).get(f"/proposals/{row.pk}/").content.decode()
    assert "SECRET-B-REASON" not in body
    assert "Responses from other groups" not in body
    assert "alpha1" in body  # one's own group's deliberation is shown
    theirs = client_for(b1).get(f"/proposals/{row.pk}/").content.decode()
    assert "SECRET-B-REASON" in theirs
