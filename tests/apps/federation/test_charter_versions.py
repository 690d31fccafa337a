"""The charter in versions: amended by decision, each proposal judged under its own version.

Everything goes through the services members use, or through HTTP with the test client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json

import pytest
import time_machine
from charter_steps import amendment, everyone_agrees, field_name

from veche.apps.federation.models import CharterVersion
from veche.apps.federation.selectors import charter_in_force, get_charter
from veche.apps.proposals import selectors
from veche.apps.proposals import services as s
from veche.apps.proposals.models import DecisionRecord, Proposal
from veche.domain import proposals as domain
from veche.domain.charter import (
    Charter,
    MandateFallback,
    Selection,
    default_charter,
    digest,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 5, 6, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
# Before T0 and before the real now (the pages run at the real now).
JOINED = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def people(federation, group_a, group_b, make_member):
    """Two groups of two: every member of the federation, all joined before T0."""
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import Group

    made = [
        make_member(group_a, "ada"),
        make_member(group_a, "coral", coordinator=True),
        make_member(group_b, "bruno"),
        make_member(group_b, "bianca", coordinator=True),
    ]
    Member.objects.update(joined_at=JOINED)
    Group.objects.update(created_at=JOINED)
    for member in made:
        member.refresh_from_db()
    return made


def _lot_to_vote_and_a_week_for_policy(base: Charter) -> Charter:
    from dataclasses import replace

    from veche.domain.charter import with_kind

    quick = base.kind("group-quick-response")
    assert isinstance(quick.fallback, MandateFallback)
    charter = with_kind(
        base,
        replace(
            quick,
            fallback=replace(quick.fallback, selection=Selection.VOTE),
            consensus=replace(quick.consensus, period=DAY),
        ),
    )
    policy = charter.kind("common-policy")
    return with_kind(charter, replace(policy, consensus=replace(policy.consensus, period=7 * DAY)))


def _adopt(people, charter: Charter, at: dt.datetime) -> Proposal:
    row = s.create_proposal(
        author=people[0], kind_key="charter-amendment", title="Amend", body="Why.",
        charter=charter, now=at,
    )  # fmt: skip
    everyone_agrees(row, people, at + dt.timedelta(minutes=1))
    row.refresh_from_db()
    return row


# --- versions ---------------------------------------------------------------------------------


def test_the_founding_charter_is_version_1_in_force_from_the_founding(federation):
    version = charter_in_force()
    assert version is not None
    assert version.number == 1
    assert version.in_force_from == federation.created_at
    assert version.proposal_id is None
    assert version.digest == digest(default_charter())
    assert get_charter() == default_charter()


def test_an_adopted_amendment_is_a_new_version_named_in_the_federation_s_decision_log(people):
    proposed = _lot_to_vote_and_a_week_for_policy(default_charter())
    row = _adopt(people, proposed, T0)
    assert row.outcome == domain.Outcome.ADOPTED.value
    version = charter_in_force()
    assert version.number == 2
    assert version.proposal_id == row.pk
    assert version.in_force_from == row.closed_at
    assert Charter.from_dict(version.charter) == proposed == get_charter()
    record = DecisionRecord.objects.get(proposal=row)
    assert record.chain == "federation"
    assert record.payload["effect"] == {
        "power": "amend_charter",
        "applied": True,
        "version": 2,
        "digest": digest(proposed),
    }
    assert (version.decision_seq, version.decision_digest) == (record.seq, record.digest)
    # The digest is the SHA-256 of the version's canonical JSON, checkable offline.
    text = json.dumps(version.charter, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == version.digest


def test_a_proposal_opened_before_an_amendment_is_judged_under_its_own_version(people):
    ada = people[0]
    before = s.create_proposal(
        author=ada, kind_key="group-quick-response", title="Before", body="Quick.",
        urgent=True, mandate_scope=["Talking to the press"], now=T0,
    )  # fmt: skip
    _adopt(people, _lot_to_vote_and_a_week_for_policy(get_charter()), T0 + dt.timedelta(hours=1))
    after = s.create_proposal(
        author=ada, kind_key="group-quick-response", title="After", body="Quick.",
        urgent=True, mandate_scope=["Talking to the press"], now=T0 + dt.timedelta(hours=2),
    )  # fmt: skip
    before.refresh_from_db()
    assert before.charter_version.number == 1
    assert after.charter_version.number == 2
    old, new = selectors.load(before, now=T0 + 3 * DAY), selectors.load(after, now=T0 + 3 * DAY)
    assert old.kind.consensus.period == 2 * DAY
    assert new.kind.consensus.period == DAY
    assert old.kind.fallback.selection is Selection.LOT
    assert new.kind.fallback.selection is Selection.VOTE
    # Its stored deadline and summary did not move either.
    assert before.due_at == T0 + 2 * DAY
    assert after.due_at == T0 + dt.timedelta(hours=2) + DAY


def test_a_draft_waits_under_the_version_in_force_and_is_bound_when_published(people):
    ada = people[0]
    draft = s.create_proposal(
        author=ada, kind_key="common-policy", title="Draft", body="Later.", draft=True, now=T0
    )
    assert draft.charter_version.number == 1
    _adopt(people, _lot_to_vote_and_a_week_for_policy(get_charter()), T0 + dt.timedelta(hours=1))
    s.publish(row=draft, actor=ada, now=T0 + dt.timedelta(hours=2))
    draft.refresh_from_db()
    assert draft.charter_version.number == 2
    assert draft.due_at == T0 + dt.timedelta(hours=2) + 7 * DAY


def test_a_draft_of_a_kind_the_charter_dropped_cannot_be_published_and_says_why(people, client_for):
    from dataclasses import replace

    ada = people[0]
    draft = s.create_proposal(
        author=ada, kind_key="common-policy", title="Draft", body="Later.", draft=True, now=T0
    )
    base = get_charter()
    without = replace(base, kinds=tuple(k for k in base.kinds if k.key != "common-policy"))
    _adopt(people, without, T0 + dt.timedelta(hours=1))
    response = client_for(ada).post(f"/proposals/{draft.pk}/publish/")
    assert response.status_code == 400
    assert "the charter has no decision kind" in html.unescape(response.content.decode())
    draft.refresh_from_db()
    assert draft.phase == "draft"
    assert draft.charter_version.number == 1


def test_an_amendment_adopted_after_another_came_into_force_is_not_applied(people, client_for):
    ada = people[0]
    base = get_charter()
    first = s.create_proposal(
        author=ada, kind_key="charter-amendment", title="First", body="One.",
        charter=_lot_to_vote_and_a_week_for_policy(base), now=T0,
    )  # fmt: skip
    from dataclasses import replace

    second = s.create_proposal(
        author=ada, kind_key="charter-amendment", title="Second", body="Two.",
        charter=replace(base, discussion_retention_days=30), now=T0,
    )  # fmt: skip
    everyone_agrees(first, people, T0 + dt.timedelta(minutes=1))
    everyone_agrees(second, people, T0 + dt.timedelta(minutes=2))
    assert charter_in_force().number == 2
    assert get_charter().discussion_retention_days == 365  # the second did not undo the first
    record = DecisionRecord.objects.get(proposal=second)
    assert record.payload["effect"] == {
        "power": "amend_charter",
        "applied": False,
        "why": "charter_changed",
    }
    body = html.unescape(client_for(ada).get(f"/proposals/{second.pk}/").content.decode())
    assert "Not put in force: another amendment came into force" in body
    assert "no longer the version in force" in body


def test_settling_an_amendment_needs_no_key(people):
    """The proposed charter is structure in clear: `veche settle` (no keys) applies it."""
    from veche.apps.core import keyring
    from veche.crypto import Keyring

    ada = people[0]
    row = s.create_proposal(
        author=ada, kind_key="charter-amendment", title="Amend", body="Why.",
        charter=_lot_to_vote_and_a_week_for_policy(get_charter()), now=T0,
    )  # fmt: skip
    s.respond(row=row, member=people[1], position="agree", version=1,
              now=T0 + dt.timedelta(hours=1))  # fmt: skip
    s.respond(row=row, member=people[2], position="agree", version=1,
              now=T0 + dt.timedelta(hours=1))  # fmt: skip
    with keyring.using(Keyring()):
        assert s.settle_due(now=T0 + 30 * DAY, scopes=frozenset()) == 1
    assert charter_in_force().number == 2


# --- the amendment form ------------------------------------------------------------------------


def test_the_amendment_form_shows_every_kind_s_parameters_filled_with_the_charter(
    people, client_for
):
    body = html.unescape(client_for(people[0]).get("/proposals/new/charter/").content.decode())
    charter = get_charter()
    for kind in charter.kinds:
        assert kind.name in body
    quick = field_name(charter, "group-quick-response", "mandate_selection")
    assert f'name="{quick}"' in body
    assert f'name="{field_name(charter, "common-policy", "period")}_0"' in body
    assert 'name="f-small_amounts"' in body
    assert "<script" not in body


def test_an_amendment_from_the_form_shows_its_changes_in_plain_words_before_anyone_responds(
    people, client_for
):
    ada = people[0]
    base = get_charter()
    data = amendment(
        **{
            field_name(base, "common-policy", "period"): (7, "days"),
            field_name(base, "group-quick-response", "mandate_selection"): "vote",
        }
    )
    client = client_for(ada)
    response = client.post("/proposals/new/charter/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = Proposal.objects.get(kind_key="charter-amendment")
    assert row.responded_count == 0
    body = html.unescape(client_for(people[2]).get(f"/proposals/{row.pk}/").content.decode())
    assert "What this amendment changes" in body
    assert "Common policy of the federation</strong>: consensus period: 14 days → 7 days" in body
    assert "temporary coordinator: chosen by: lot among volunteers → vote among volunteers" in body
    assert "Compared with version 1 of the charter" in body
    proposed = Charter.from_dict(row.effect["charter"])
    assert proposed.kind("common-policy").consensus.period == 7 * DAY


def test_the_amendment_form_sets_a_secret_vote_s_tellers_and_how_many_count(people, client_for):
    base = get_charter()
    data = amendment(
        **{
            field_name(base, "common-policy", "vote_tellers"): "5",
            field_name(base, "common-policy", "vote_tellers_needed"): "3",
        }
    )
    response = client_for(people[0]).post("/proposals/new/charter/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = Proposal.objects.get(kind_key="charter-amendment")
    fallback = Charter.from_dict(row.effect["charter"]).kind("common-policy").fallback
    assert (fallback.tellers, fallback.tellers_needed) == (5, 3)
    body = html.unescape(client_for(people[2]).get(f"/proposals/{row.pk}/").content.decode())
    assert "secret vote: tellers drawn by lot: 3 → 5" in body


def test_the_generic_form_does_not_offer_kinds_that_carry_rules(people, client_for):
    client = client_for(people[0])
    body = client.get("/proposals/new/").content.decode()
    assert 'value="charter-amendment"' not in body
    assert 'value="group-rules"' not in body
    assert 'href="/proposals/new/charter/"' in client.get("/federation/rules/").content.decode()
    response = client.post(
        "/proposals/new/", {"kind": "charter-amendment", "title": "X", "body": "Y"}
    )
    assert response.status_code == 400
    with pytest.raises(Exception, match="use the amendment form"):
        s.create_proposal(
            author=people[0], kind_key="charter-amendment", title="X", body="Y", now=T0
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({("common-policy", "quorum"): "0"}, "quorum must be more than 0 and at most 1"),
        ({("common-policy", "quorum"): "most"}, "Write a share as a fraction such as 2/3"),
        ({("common-policy", "period"): ("x", "days")}, "Enter a whole number"),
        ({("common-policy", "period"): (10**8, "days")}, ""),
        ({("common-policy", "fallback"): "none"}, "needs a fallback"),
        ({("common-policy", "vote_method"): "dictator"}, "Select a valid choice"),
        ({("group-practice", "vote_method"): "majority"}, "simple majority means more than half"),
        (
            {("group-practice", "bounds_min_period"): (10, "days")},
            "include the charter's own period",
        ),
        ({("common-policy", "min_period"): (30, "days")}, "the shortest deadline must be"),
        ({("common-policy", "blocks"): "0"}, "greater than or equal to 1"),
        ({("common-policy", "vote_tellers"): "16"}, "less than or equal to 15"),
        (
            {("common-policy", "vote_tellers_needed"): "4"},
            "the tellers needed to count must be at least 1 and at most the tellers",
        ),
        ({("common-policy", "name"): ""}, "This field is required"),
        ({}, "the proposed charter is the same as the charter in force"),
    ],
)
def test_a_bad_charter_from_the_form_is_refused_with_the_field_and_the_reason(
    people, client_for, changes, message
):
    from veche.apps.proposals.models import Proposal

    base = get_charter()
    data = amendment(**{field_name(base, key, name): v for (key, name), v in changes.items()})
    if ("group-practice", "vote_method") in changes:
        data[field_name(base, "group-practice", "vote_threshold")] = "2/3"
    response = client_for(people[0]).post("/proposals/new/charter/", data)
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert message in body
    assert 'class="errorlist' in body
    assert not Proposal.objects.exists()


def test_the_form_keeps_what_was_typed_when_it_refuses(people, client_for):
    base = get_charter()
    data = amendment(**{field_name(base, "common-policy", "quorum"): "0"})
    data["title"] = "Keep my title"
    body = client_for(people[0]).post("/proposals/new/charter/", data).content.decode()
    assert 'value="Keep my title"' in body
    # The refused kind opens; the others stay closed.
    assert body.count('<details class="charter-kind" open>') == 1


# --- the same, as JSON -------------------------------------------------------------------------


def _json_post(text: str) -> dict[str, str]:
    return {"as": "json", "title": "As JSON", "body": "Why.", "charter_json": text}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: "{not json", "This is not valid JSON (line 1, column 2)."),
        (lambda d: "[1, 2]", "charter: the charter is not in the expected shape"),
        (lambda d: "null", "charter: the charter is not in the expected shape"),
        (
            lambda d: json.dumps({**d, "kinds": "none"}),
            "kinds: the decision kinds must be a list",
        ),
        (
            lambda d: json.dumps(
                {
                    **d,
                    "kinds": [
                        {**k, "power": None} if k["power"] == "amend_charter" else k
                        for k in d["kinds"]
                    ],
                }
            ),
            "kinds: the charter must keep a kind of decision that amends it",
        ),
        (
            lambda d: json.dumps(
                {
                    **d,
                    "kinds": [
                        {**k, "consensus": {**k["consensus"], "quorum": "3/2"}} for k in d["kinds"]
                    ],
                }
            ),
            "kinds.group-practice.consensus.quorum: quorum must be more than 0 and at most 1",
        ),
        (
            lambda d: json.dumps({"kinds": [{"key": "x"}]}),
            "consensus: the field consensus is missing",
        ),
        (lambda d: json.dumps(d), "the proposed charter is the same as the charter in force"),
    ],
)
def test_a_bad_charter_as_json_is_refused_with_the_path_and_the_reason(
    people, client_for, mutate, message
):
    data = get_charter().to_dict()
    response = client_for(people[0]).post("/proposals/new/charter/", _json_post(mutate(data)))
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Proposal.objects.exists()


def test_an_amendment_as_json_may_add_a_kind(people, client_for):
    data = get_charter().to_dict()
    extra = {**data["kinds"][0], "key": "group-garden", "name": "The group's garden"}
    extra.pop("power", None)
    data["kinds"].append(extra)
    client = client_for(people[0])
    page = client.get("/proposals/new/charter/?as=json").content.decode()
    assert "charter_json" in page
    response = client.post("/proposals/new/charter/", _json_post(json.dumps(data)))
    assert response.status_code == 302
    row = Proposal.objects.get()
    body = html.unescape(client.get(f"/proposals/{row.pk}/").content.decode())
    assert "The group's garden</strong>: a new kind of decision" in body


# --- our rules -----------------------------------------------------------------------------


def test_our_rules_show_the_charter_in_words_and_every_version_with_what_it_changed(
    people, client_for
):
    row = _adopt(people, _lot_to_vote_and_a_week_for_policy(get_charter()), T0)
    client = client_for(people[2])
    body = html.unescape(client.get("/federation/rules/").content.decode())
    assert "The charter in force is version 2" in body
    assert "1 block stops it." in body and "2 blocks stop it." in body
    assert "block(s)" not in body
    assert "a temporary coordinator is then chosen among them by a vote, open for 6 hours" in body
    assert "chosen among them by lot" not in body
    assert "vote by Schulze (Condorcet)" in body
    assert "Discussions may be deleted after 365 days" in body
    assert "The founding charter." in body
    assert f'href="/proposals/{row.pk}/"' in body
    assert "consensus period: 14 days → 7 days" in body
    record = DecisionRecord.objects.get(proposal=row)
    assert f"record #{record.seq} of the federation's decision log" in body
    # Each version as its canonical JSON, whose SHA-256 is the digest the log names.
    export = client.get("/federation/rules/charter-2.json")
    assert export.status_code == 200
    assert hashlib.sha256(export.content).hexdigest() == record.payload["effect"]["digest"]
    assert client.get("/federation/rules/charter-3.json").status_code == 404
    assert 'href="/federation/rules/"' in client.get("/inbox/").content.decode()


def test_our_rules_are_for_members_only(client, federation):
    assert client.get("/federation/rules/").status_code == 302
    assert client.get("/federation/rules/charter-1.json").status_code == 302


def test_a_version_put_in_force_without_a_decision_says_so(people, client_for):
    from dataclasses import replace

    from veche.apps.federation.services import put_charter

    put_charter(charter=replace(get_charter(), show_coordinators=True), at=T0)
    body = html.unescape(client_for(people[0]).get("/federation/rules/").content.decode())
    assert "Put in force by the operator, not by a decision." in body
    assert "coordinators named on federation pages: no → yes" in body


def test_the_history_is_paged(people, client_for):
    from dataclasses import replace

    from veche.apps.federation.services import put_charter

    for days in range(2, 14):
        put_charter(charter=replace(get_charter(), discussion_retention_days=days), at=T0)
    client = client_for(people[0])
    first = html.unescape(client.get("/federation/rules/").content.decode())
    assert "Version 13" in first and "The founding charter." not in first
    second = html.unescape(client.get("/federation/rules/?page=2").content.decode())
    assert "The founding charter." in second
    assert "discussions kept: 365 days → 2 days" in second


def test_the_charter_changes_while_a_time_passes_and_old_proposals_keep_their_clock(people):
    """Settling at a later instant still uses the bound version (reads replay, never rebind)."""
    ada = people[0]
    with time_machine.travel(T0, tick=False):
        old = s.create_proposal(author=ada, kind_key="common-policy", title="Old", body="x")
        _adopt(people, _lot_to_vote_and_a_week_for_policy(get_charter()), T0)
    s.settle_due(now=T0 + 8 * DAY)
    old.refresh_from_db()
    assert old.closed_at is None  # 14 days under version 1, not 7
    s.settle_due(now=T0 + 15 * DAY)
    old.refresh_from_db()
    assert old.closed_at == T0 + 14 * DAY
    assert CharterVersion.objects.count() == 2


def test_the_demo_has_a_charter_amendment_adopted_and_a_group_s_own_rules(client):
    from django.utils import timezone
    from tests.conftest import log_in_with_keys

    from veche.apps.accounts.models import Member
    from veche.crypto import unlock
    from veche.demo import PASSPHRASE as DEMO_PASSPHRASE
    from veche.demo import build as build_demo

    build_demo(now=timezone.now())
    version = charter_in_force()
    assert version.number == 2
    amendment = Proposal.objects.get(pk=version.proposal_id)
    assert amendment.outcome == "adopted"
    assert get_charter().kind("common-policy").consensus.period == 10 * DAY
    marko = Member.objects.get(pseudonym="marko")
    log_in_with_keys(client, marko, unlock(marko.key_record(), DEMO_PASSPHRASE))
    body = html.unescape(client.get("/federation/rules/").content.decode())
    assert "The charter in force is version 2" in body
    assert "Common policy of the federation</strong>: consensus period: 14 days → 10 days" in body
    assert "Version 1 of your group's own rules" in body
    assert "consensus period 5 days (the charter's: 7 days)" in body
