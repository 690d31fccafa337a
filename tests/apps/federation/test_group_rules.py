"""A group adopts its own rules for its own matters, within the bounds the charter sets."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import replace
from fractions import Fraction

import pytest
from charter_steps import everyone_agrees

from veche.apps.federation.models import GroupRulesVersion
from veche.apps.federation.selectors import get_charter, group_rules_in_force
from veche.apps.federation.services import put_charter
from veche.apps.proposals import selectors
from veche.apps.proposals import services as s
from veche.apps.proposals.models import DecisionRecord, Proposal
from veche.domain.charter import GroupRule, GroupRules, with_kind

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 5, 6, 9, 0, tzinfo=dt.UTC)
JOINED = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def alpha(federation, group_a, make_member):
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

    made = [make_member(group_a, "ada"), make_member(group_a, "coral", coordinator=True)]
    Member.objects.update(joined_at=JOINED)
    Group.objects.update(created_at=JOINED)
    return made


@pytest.fixture
def beta(group_b, make_member):
    from veche.apps.accounts.models import Member

    made = [make_member(group_b, "bruno")]
    Member.objects.filter(pk__in=[m.pk for m in made]).update(joined_at=JOINED)
    return made


def _post(period: str = "3", quorum: str = "", unit: str = "days") -> dict[str, str]:
    charter = get_charter()
    index = [k.key for k in charter.kinds].index("group-practice")
    return {
        "title": "Three days are enough",
        "body": "We meet often.",
        f"r{index}-period_0": period,
        f"r{index}-period_1": unit,
        f"r{index}-quorum": quorum,
    }


def test_a_group_adopts_its_own_consensus_period_and_its_later_proposals_follow_it(
    alpha, beta, client_for
):
    ada = alpha[0]
    client = client_for(ada)
    page = html.unescape(client.get("/proposals/new/group-rules/").content.decode())
    assert "From 1 day to 14 days; empty: the charter's, 7 days." in page
    response = client.post("/proposals/new/group-rules/", _post("3"))
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Proposal.objects.get(kind_key="group-rules")
    assert not row.federation_wide
    body = html.unescape(client.get(f"/proposals/{row.pk}/").content.decode())
    assert "What these rules change for the group" in body
    assert "consensus period: the charter's → 3 days" in body
    everyone_agrees(row, alpha, dt.datetime.now(dt.UTC))
    version = group_rules_in_force(group_id=ada.group_id)
    assert version is not None and version.number == 1
    assert version.rules == {"kinds": {"group-practice": {"period_seconds": 3 * 86400}}}
    record = DecisionRecord.objects.get(proposal=row)
    assert record.chain == f"group-{ada.group_id}"
    assert record.payload["effect"]["version"] == 1
    assert version.decision_seq == record.seq
    # Alpha's next group practice takes 3 days; Beta's, and the federation's, do not change.
    mine = s.create_proposal(author=ada, kind_key="group-practice", title="Ours", body="x",
                             now=T0)  # fmt: skip
    theirs = s.create_proposal(author=beta[0], kind_key="group-practice", title="Theirs",
                               body="x", now=T0)  # fmt: skip
    assert mine.group_rules_version == version
    assert mine.due_at == T0 + 3 * DAY
    assert theirs.due_at == T0 + 7 * DAY
    assert selectors.load(mine, now=T0).kind.consensus.period == 3 * DAY


def test_only_the_group_s_own_members_see_its_rules(alpha, beta, client_for):
    GroupRulesVersion.objects.create(
        group_id=alpha[0].group_id, number=1, digest="0" * 64, in_force_from=T0,
        rules={"kinds": {"group-practice": {"period_seconds": 3 * 86400}}},
    )  # fmt: skip
    mine = html.unescape(client_for(alpha[0]).get("/federation/rules/").content.decode())
    assert "Version 1 of your group's own rules" in mine
    assert "consensus period 3 days (the charter's: 7 days)" in mine
    theirs = html.unescape(client_for(beta[0]).get("/federation/rules/").content.decode())
    assert "Your group follows the charter as it is." in theirs
    assert "3 days (the charter's" not in theirs


@pytest.mark.parametrize(
    ("period", "quorum", "unit", "message"),
    [
        ("1", "", "hours", "outside the bounds the charter sets for groups"),
        ("30", "", "days", "outside the bounds the charter sets for groups"),
        ("", "10%", "days", "outside the bounds the charter sets for groups"),
        ("", "3/2", "days", "outside the bounds the charter sets for groups"),
        ("", "lots", "days", "Write a share as a fraction"),
        ("", "", "days", "these are the group's own rules already"),
    ],
)
def test_rules_outside_the_bounds_are_refused_beside_the_field(
    alpha, client_for, period, quorum, unit, message
):
    response = client_for(alpha[0]).post("/proposals/new/group-rules/", _post(period, quorum, unit))
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Proposal.objects.exists()


def test_rules_the_federation_put_out_of_bounds_since_give_way_to_the_charter(alpha):
    ada = alpha[0]
    GroupRulesVersion.objects.create(
        group_id=ada.group_id, number=1, digest="0" * 64, in_force_from=T0,
        rules={"kinds": {"group-practice": {"period_seconds": 2 * 86400, "quorum": "2/5"}}},
    )  # fmt: skip
    charter = get_charter()
    practice = charter.kind("group-practice")
    narrower = replace(practice.group_bounds, min_period=3 * DAY)
    put_charter(charter=with_kind(charter, replace(practice, group_bounds=narrower)), at=T0)
    row = s.create_proposal(author=ada, kind_key="group-practice", title="x", body="x", now=T0)
    consensus = selectors.load(row, now=T0).kind.consensus
    assert consensus.period == 7 * DAY
    assert consensus.quorum == Fraction(2, 5)


def test_group_rules_adopted_after_the_federation_narrowed_the_bounds_are_not_applied(alpha):
    ada = alpha[0]
    row = s.create_proposal(
        author=ada, kind_key="group-rules", title="Two days", body="x",
        group_rules=GroupRules({"group-practice": GroupRule(period=2 * DAY)}), now=T0,
    )  # fmt: skip
    charter = get_charter()
    practice = charter.kind("group-practice")
    narrower = replace(practice.group_bounds, min_period=3 * DAY)
    put_charter(charter=with_kind(charter, replace(practice, group_bounds=narrower)), at=T0)
    everyone_agrees(row, alpha, T0 + dt.timedelta(minutes=1))
    assert group_rules_in_force(group_id=ada.group_id) is None
    record = DecisionRecord.objects.get(proposal=row)
    assert record.payload["effect"] == {
        "power": "group_rules",
        "applied": False,
        "why": "out_of_bounds",
    }


def test_a_charter_without_room_for_groups_says_so(alpha, client_for):
    charter = get_charter()
    closed = replace(charter, kinds=tuple(replace(k, group_bounds=None) for k in charter.kinds))
    put_charter(charter=closed, at=T0)
    client = client_for(alpha[0])
    page = html.unescape(client.get("/proposals/new/group-rules/").content.decode())
    assert "leaves no room for a group's own rules" in page
    assert client.post("/proposals/new/group-rules/", {"title": "x"}).status_code == 400
