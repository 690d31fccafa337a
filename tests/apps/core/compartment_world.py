"""A federation seeded with marker strings, for the compartment matrix.

Three groups, A ("Alpha"), B ("Beta") and C ("Gamma", dissolved at the end). Every
piece of text a group writes about its own matters carries a marker naming the group
(``MARKER-A-TITLE-...``, ``MARKER-B-REASON-...``) and every pseudonym starts with
``PSEUDO-<group>-``, so that a page shown to one group can be searched for any trace of
another. Texts written on federation proposals are federation-wide by design and carry
``FEDTEXT-`` markers instead (they may appear to everyone who is a member).

The world is a :class:`veche.scenario.Scenario`, played by the same builder as the
demo, through the services members use, with the clock passed in, relative to the real
``now``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from veche.domain.charter import Charter, GroupRule, GroupRules, with_kind
from veche.scenario import (
    Decided,
    FundStep,
    GroupOf,
    MeetingRecord,
    Message,
    Scenario,
    Step,
    Story,
)

PASSPHRASE = "compartment matrix passphrase"
GROUP_NAMES = {"A": "Alpha", "B": "Beta", "C": "Gamma"}
PEOPLE = ["coord", "ann", "bob", "cat", "dan", "eve"]
D = 24  # hours in a day
DAY = dt.timedelta(days=1)


def marker(group: str, kind: str, what: str) -> str:
    return f"MARKER-{group}-{kind}-{what}"


def pseudonym(group: str, name: str) -> str:
    return f"PSEUDO-{group}-{name}"


def forbidden_for(own: str | None) -> tuple[str, ...]:
    """Return the prefixes that must never appear on a page shown to a member of ``own``."""
    others = [g for g in GROUP_NAMES if g != own]
    return tuple(p for g in others for p in (f"MARKER-{g}-", f"PSEUDO-{g}-"))


@dataclass
class GroupWorld:
    key: str
    group: Any
    members: dict[str, Any] = field(default_factory=dict)
    proposals: dict[str, Any] = field(default_factory=dict)
    mandate_holder: Any = None
    # A meeting whose decisions were recorded on their own, one still awaiting confirmation.
    meeting: Any = None


@dataclass
class World:
    now: dt.datetime
    groups: dict[str, GroupWorld] = field(default_factory=dict)
    federation_proposals: dict[str, Any] = field(default_factory=dict)
    fund_requests: dict[str, Any] = field(default_factory=dict)
    keys: Any = None  # conftest's test_keys: members' unlocked private keys

    def __getitem__(self, key: str) -> GroupWorld:
        return self.groups[key]


def _group_stories(key: str) -> list[Story]:
    """One group's life, every text marked with the group: proposals in every state."""

    def mk(kind: str, what: str) -> str:
        return marker(key, kind, what)

    def who(name: str) -> str:
        return f"{key}.{name}"

    return [
        Story(
            f"{key}:adopted", "group-practice", who("ann"), mk("TITLE", "adopted"),
            mk("BODY", "adopted"), age=20 * D,
            steps=(
                *(
                    Step("respond", who(name), i + 1,
                         position="stand_aside" if name == "eve" else "agree",
                         text=mk("REASON", f"adopted-{name}"))
                    for i, name in enumerate(PEOPLE)
                ),
                Step("comment", who("bob"), 1, text=mk("COMMENT", "adopted")),
            ),
        ),
        Story(
            f"{key}:open", "group-practice", who("bob"), mk("TITLE", "open-v1"),
            mk("BODY", "open-v1"), age=1 * D,
            steps=(
                Step("respond", who("cat"), 1, position="object",
                     text=mk("REASON", "open-objection")),
                Step("amend", who("bob"), 2, title=mk("TITLE", "open-v2"),
                     text=mk("BODY", "open-v2")),
                Step("respond", who("cat"), 3, position="agree", text=mk("REASON", "open-agree")),
                Step("comment", who("cat"), 4, text=mk("COMMENT", "open")),
            ),
        ),
        Story(
            f"{key}:vote", "group-practice", who("cat"), mk("TITLE", "vote"), mk("BODY", "vote"),
            age=5, urgent=True, deadline=2,
            options=(mk("OPTION", "one"), mk("OPTION", "two"), mk("OPTION", "three")),
            steps=(
                Step("respond", who("dan"), 1, position="block", text=mk("REASON", "vote-block")),
                Step("vote", who("cat"), 3, ballot=[1, 0]),
            ),
        ),
        # A mandate in force now: one volunteer, who has recorded a decision under it.
        Story(
            f"{key}:mandate", "group-quick-response", who("dan"), mk("TITLE", "mandate"),
            mk("BODY", "mandate"), age=10, urgent=True, deadline=2,
            matters=(mk("SCOPE", "mandate"),),
            steps=(
                Step("respond", who("bob"), 1, position="object",
                     text=mk("REASON", "mandate-objection")),
                Step("volunteer", who("eve"), 3),
                Step("decide", "holder", 9, title=mk("SCOPE", "mandate"),
                     text=mk("DECISION", "mandate")),
            ),
        ),
        Story(
            f"{key}:meeting", "group-practice", who("coord"), mk("TITLE", "meeting"),
            mk("BODY", "meeting"), age=3 * D,
            steps=(
                Step("meeting", who("coord"), 5, attendance=4, text=mk("NOTES", "meeting")),
                Step("confirm", who("ann"), 6),
                Step("confirm", who("bob"), 7),
            ),
        ),
        Story(
            f"{key}:withdrawn", "group-practice", who("cat"), mk("TITLE", "withdrawn"),
            mk("BODY", "withdrawn"), age=6 * D, steps=(Step("withdraw", who("cat"), 4),),
        ),
        Story(
            f"{key}:draft", "group-practice", who("ann"), mk("TITLE", "draft"),
            mk("BODY", "draft"), age=2, draft=True,
        ),
        # The group's own rules, adopted by the group (shown on its members' rules page).
        Story(
            f"{key}:rules", "group-rules", who("ann"), mk("TITLE", "rules"), mk("BODY", "rules"),
            age=25 * D, group_rules=GroupRules({"group-practice": GroupRule(period=5 * DAY)}),
            steps=tuple(Step("respond", who(name), 1 + i / 10, position="agree")
                        for i, name in enumerate(PEOPLE)),
        ),
    ]  # fmt: skip


def _ten_days(charter: Charter) -> Charter:
    kind = charter.kind("common-policy")
    return with_kind(charter, replace(kind, consensus=replace(kind.consensus, period=10 * DAY)))


def _group_meeting(key: str) -> MeetingRecord:
    """A meeting of the group recorded on its own: one decision confirmed, one awaiting."""

    def mk(kind: str, what: str) -> str:
        return marker(key, kind, what)

    return MeetingRecord(
        f"{key}:standalone", f"{key}.coord", age=4 * D, held=1, attendance=4,
        notes=mk("NOTES", "standalone"),
        decisions=(
            Decided("group-practice", mk("TITLE", "standalone"), mk("BODY", "standalone")),
            Decided("remove-member", mk("TITLE", "standalone-removal"),
                    mk("BODY", "standalone-removal"), outcome="not_adopted", how="vote",
                    member=f"{key}.dan"),
        ),
        # Dan may not confirm his own removal's record: one decision is confirmed, the
        # other still awaits a second confirmation.
        steps=(Step("confirm", f"{key}.ann", 1), Step("confirm", f"{key}.dan", 2)),
    )  # fmt: skip


def _federation_stories() -> list[Story]:
    """Federation proposals: every group responds; texts here are federation-wide."""
    return [
        # A charter amendment adopted at its deadline: version 2 is in force.
        Story(
            "amend", "charter-amendment", "A.ann", "FEDTEXT-TITLE-amend", "FEDTEXT-BODY-amend",
            age=26 * D, amend=_ten_days,
            steps=tuple(Step("respond", f"{g}.{name}", 1 + i / 10, position="agree")
                        for i, (g, name) in enumerate((g, n) for g in "AB" for n in PEOPLE)),
        ),
        Story(
            "policy", "common-policy", "B.ann", "FEDTEXT-TITLE-policy", "FEDTEXT-BODY-policy",
            age=2 * D,
            steps=(
                Step("respond", "B.ann", 1, position="agree", text="FEDTEXT-REASON-0"),
                Step("respond", "B.bob", 2, position="object", text="FEDTEXT-REASON-1"),
                Step("respond", "A.ann", 3, position="object", text="FEDTEXT-REASON-2"),
                Step("respond", "C.ann", 4, position="agree", text="FEDTEXT-REASON-3"),
                Step("comment", "B.bob", 6, text="FEDTEXT-COMMENT-policy"),
                Step("comment", "A.bob", 7, text="FEDTEXT-COMMENT-policy-a"),
            ),
        ),
        Story(
            "admit", "admit-group", "B.coord", "FEDTEXT-TITLE-admit", "FEDTEXT-BODY-admit",
            age=1 * D, new_group="Delta",
            steps=(
                Step("carry", "B.coord", 1, position="agree", text="FEDTEXT-CARRY-b"),
                Step("respond", "A.cat", 2, position="object", text="FEDTEXT-R"),
            ),
        ),
    ]  # fmt: skip


# The fund is the federation's: its memos and requests are read by every group (as
# texts; never with members' names), so they carry FEDTEXT- markers.
FUND = (
    FundStep("contribute", "A.coord", 4 * D, amount=5000, text="FEDTEXT-MEMO-a"),
    FundStep("contribute", "B.coord", 4 * D - 1, amount=7000, text="FEDTEXT-MEMO-b"),
    FundStep("request_money", "A.coord", 4 * D - 2, key="money", amount=1000,
             text="FEDTEXT-PURPOSE-a"),
    FundStep("request_help", "B.coord", 4 * D - 3, key="help", text="FEDTEXT-PURPOSE-b"),
    FundStep("answer", "A.coord", 4 * D - 4, about="help", text="FEDTEXT-ANSWER-a"),
)  # fmt: skip


def scenario() -> Scenario:
    """Return the matrix's federation as a scenario: three marked groups, C dissolved."""
    return Scenario(
        federation="Matrix federation",
        groups=tuple(
            GroupOf(key, name, tuple(PEOPLE), tuple(pseudonym(key, p) for p in PEOPLE))
            for key, name in GROUP_NAMES.items()
        ),
        passphrase=PASSPHRASE,
        stories=tuple(
            [story for key in GROUP_NAMES for story in _group_stories(key)] + _federation_stories()
        ),
        meetings=tuple(_group_meeting(key) for key in GROUP_NAMES),
        messages=tuple(
            Message(key, f"{key}.coord", marker(key, "THREAD", "group"), 3) for key in GROUP_NAMES
        ),
        fund=FUND,
        dissolved=("C",),
    )


def build_world(*, now: dt.datetime, keys: Any) -> World:
    """Build the matrix's scenario (``veche.scenario``) and index what it made.

    ``keys`` is conftest's ``test_keys``: it receives every group's and the federation's
    keys and every member's unlocked private key, for logging clients in
    (``conftest.log_in_with_keys``).
    """
    from veche.scenario import build

    built = build(scenario(), now=now, keys=keys.keyring)
    keys.private.update(built.private_keys)
    world = World(now=now, keys=keys)
    for key in GROUP_NAMES:
        gw = GroupWorld(key=key, group=built.groups[key])
        gw.members = {name: built.people[f"{key}.{name}"] for name in PEOPLE}
        gw.proposals = {
            story.split(":", 1)[1]: row
            for story, row in built.proposals.items()
            if story.startswith(f"{key}:")
        }
        gw.mandate_holder = gw.members["eve"]
        gw.meeting = built.meetings[f"{key}:standalone"]
        world.groups[key] = gw
        gw.group.refresh_from_db()
    world.federation_proposals = {k: built.proposals[k] for k in ("policy", "admit", "amend")}
    world.fund_requests = dict(built.requests)
    return world
