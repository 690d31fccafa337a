"""A federation seeded with marker strings, for the compartment matrix.

Three groups, A ("Alpha"), B ("Beta") and C ("Gamma", dissolved at the end). Every
piece of text a group writes about its own matters carries a marker naming the group
(``MARKER-A-TITLE-...``, ``MARKER-B-REASON-...``) and every pseudonym starts with
``PSEUDO-<group>-``, so that a page shown to one group can be searched for any trace of
another. Texts written on federation proposals are federation-wide by design and carry
``FEDTEXT-`` markers instead (they may appear to everyone who is a member).

Everything is written through the services members use, with the clock passed in,
relative to the real ``now`` (pages settle proposals at the real time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

PASSPHRASE = "compartment matrix passphrase"
GROUP_NAMES = {"A": "Alpha", "B": "Beta", "C": "Gamma"}
PEOPLE = ["coord", "ann", "bob", "cat", "dan", "eve"]


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


@dataclass
class World:
    now: dt.datetime
    groups: dict[str, GroupWorld] = field(default_factory=dict)
    federation_proposals: dict[str, Any] = field(default_factory=dict)
    fund_requests: dict[str, Any] = field(default_factory=dict)
    keys: Any = None  # conftest's test_keys: members' unlocked private keys

    def __getitem__(self, key: str) -> GroupWorld:
        return self.groups[key]


def _seed_group(world: World, key: str, start: dt.datetime) -> None:
    from veche.apps.proposals import services as s
    from veche.domain.consensus import Position
    from veche.domain.proposals import Outcome, ReachedBy

    now = world.now
    h = dt.timedelta(hours=1)
    d = dt.timedelta(days=1)
    gw = world[key]
    m = gw.members

    def mk(kind: str, what: str) -> str:
        return marker(key, kind, what)

    # Adopted by consensus, with reasons and a comment.
    t = now - 20 * d
    row = s.create_proposal(
        author=m["ann"],
        kind_key="group-practice",
        title=mk("TITLE", "adopted"),
        body=mk("BODY", "adopted"),
        now=t,
    )
    for i, name in enumerate(PEOPLE):
        s.respond(
            row=row,
            member=m[name],
            position=Position.STAND_ASIDE if name == "eve" else Position.AGREE,
            reason=mk("REASON", f"adopted-{name}"),
            version=1,
            now=t + (i + 1) * h,
        )
    s.post_comment(author=m["bob"], body=mk("COMMENT", "adopted"), row=row, now=t + h)
    gw.proposals["adopted"] = row

    # Open, seeking consensus, amended once.
    t = now - 1 * d
    row = s.create_proposal(
        author=m["bob"],
        kind_key="group-practice",
        title=mk("TITLE", "open-v1"),
        body=mk("BODY", "open-v1"),
        now=t,
    )
    s.respond(
        row=row,
        member=m["cat"],
        position=Position.OBJECT,
        reason=mk("REASON", "open-objection"),
        version=1,
        now=t + h,
    )
    s.amend(
        row=row,
        actor=m["bob"],
        title=mk("TITLE", "open-v2"),
        body=mk("BODY", "open-v2"),
        now=t + 2 * h,
    )
    s.respond(
        row=row,
        member=m["cat"],
        position=Position.AGREE,
        reason=mk("REASON", "open-agree"),
        version=2,
        now=t + 3 * h,
    )
    s.post_comment(author=m["cat"], body=mk("COMMENT", "open"), row=row, now=t + 4 * h)
    gw.proposals["open"] = row

    # An urgent vote open now, between marked alternatives.
    t = now - 5 * h
    row = s.create_proposal(
        author=m["cat"],
        kind_key="group-practice",
        urgent=True,
        title=mk("TITLE", "vote"),
        body=mk("BODY", "vote"),
        options=[mk("OPTION", "one"), mk("OPTION", "two"), mk("OPTION", "three")],
        deadline=t + 2 * h,
        now=t,
    )
    s.respond(
        row=row,
        member=m["dan"],
        position=Position.BLOCK,
        reason=mk("REASON", "vote-block"),
        version=1,
        now=t + h,
    )
    s.cast_ballot(row=row, voter=m["cat"], ballot=[1, 0], now=t + 3 * h)
    gw.proposals["vote"] = row

    # A mandate in force now: one volunteer, who has recorded a decision under it.
    t = now - 10 * h
    row = s.create_proposal(
        author=m["dan"],
        kind_key="group-quick-response",
        urgent=True,
        title=mk("TITLE", "mandate"),
        body=mk("BODY", "mandate"),
        mandate_scope=[mk("SCOPE", "mandate")],
        deadline=t + 2 * h,
        now=t,
    )
    s.respond(
        row=row,
        member=m["bob"],
        position=Position.OBJECT,
        reason=mk("REASON", "mandate-objection"),
        version=1,
        now=t + h,
    )
    s.volunteer(row=row, member=m["eve"], now=t + 3 * h)
    loaded = s.settle(row, now=t + 9 * h)
    assert loaded.state.mandate is not None and loaded.state.mandate.holder, loaded.state
    assert loaded.state.mandate.holder == str(m["eve"].pk)
    gw.mandate_holder = m["eve"]
    s.record_mandate_decision(
        row=row,
        holder=m["eve"],
        matter=mk("SCOPE", "mandate"),
        text=mk("DECISION", "mandate"),
        now=t + 9 * h,
    )
    gw.proposals["mandate"] = row

    # Decided at a meeting, with notes, confirmed.
    t = now - 3 * d
    row = s.create_proposal(
        author=m["coord"],
        kind_key="group-practice",
        title=mk("TITLE", "meeting"),
        body=mk("BODY", "meeting"),
        now=t,
    )
    s.record_meeting(
        row=row,
        recorder=m["coord"],
        outcome=Outcome.ADOPTED,
        attendance=4,
        reached_by=ReachedBy.CONSENSUS,
        notes=mk("NOTES", "meeting"),
        now=t + 5 * h,
    )
    s.confirm_meeting(row=row, member=m["ann"], now=t + 6 * h)
    s.confirm_meeting(row=row, member=m["bob"], now=t + 7 * h)
    gw.proposals["meeting"] = row

    # Withdrawn.
    t = now - 6 * d
    row = s.create_proposal(
        author=m["cat"],
        kind_key="group-practice",
        title=mk("TITLE", "withdrawn"),
        body=mk("BODY", "withdrawn"),
        now=t,
    )
    s.withdraw(row=row, actor=m["cat"], now=t + 4 * h)
    gw.proposals["withdrawn"] = row

    # A draft of an ordinary member.
    gw.proposals["draft"] = s.create_proposal(
        author=m["ann"],
        kind_key="group-practice",
        title=mk("TITLE", "draft"),
        body=mk("BODY", "draft"),
        draft=True,
        now=now - 2 * h,
    )
    s.post_comment(author=m["coord"], group=gw.group, body=mk("THREAD", "group"), now=now - 3 * h)


def _seed_federation(world: World) -> None:
    """Federation proposals: every group responds; texts here are federation-wide."""
    from veche.apps.proposals import services as s
    from veche.domain.consensus import Position

    now = world.now
    h = dt.timedelta(hours=1)
    d = dt.timedelta(days=1)
    a, b, c = world["A"].members, world["B"].members, world["C"].members

    # Assembly mode, open: members of every group respond with reasons.
    t = now - 2 * d
    row = s.create_proposal(
        author=b["ann"],
        kind_key="common-policy",
        title="FEDTEXT-TITLE-policy",
        body="FEDTEXT-BODY-policy",
        now=t,
    )
    for i, (who, pos) in enumerate(
        [
            (b["ann"], Position.AGREE),
            (b["bob"], Position.OBJECT),
            (a["ann"], Position.OBJECT),
            (c["ann"], Position.AGREE),
        ]
    ):
        s.respond(
            row=row,
            member=who,
            position=pos,
            reason=f"FEDTEXT-REASON-{i}",
            version=1,
            now=t + (i + 1) * h,
        )
    s.post_comment(author=b["bob"], body="FEDTEXT-COMMENT-policy", row=row, now=t + 6 * h)
    s.post_comment(author=a["bob"], body="FEDTEXT-COMMENT-policy-a", row=row, now=t + 7 * h)
    world.federation_proposals["policy"] = row

    # Spokes mode, open: coordinators carry their groups' positions.
    t = now - 1 * d
    row = s.create_proposal(
        author=b["coord"],
        kind_key="admit-group",
        title="FEDTEXT-TITLE-admit",
        body="FEDTEXT-BODY-admit",
        new_group_name="Delta",
        now=t,
    )
    s.carry_group_position(
        row=row,
        coordinator=b["coord"],
        position=Position.AGREE,
        reason="FEDTEXT-CARRY-b",
        now=t + h,
    )
    s.respond(
        row=row,
        member=a["cat"],
        position=Position.OBJECT,
        reason="FEDTEXT-R",
        version=1,
        now=t + 2 * h,
    )
    world.federation_proposals["admit"] = row


def _seed_fund(world: World) -> None:
    """The common fund, if installed: contributions, a request for money, one for help.

    The fund is the federation's: its memos and requests are read by every group (as
    texts; never with members' names), so they carry ``FEDTEXT-`` markers.
    """
    import importlib.util

    if importlib.util.find_spec("veche.apps.fund") is None:
        return
    from veche.apps.fund import services as fund

    now = world.now
    h = dt.timedelta(hours=1)
    a, b = world["A"].members["coord"], world["B"].members["coord"]
    t = now - dt.timedelta(days=4)
    fund.contribute(
        actor=a,
        amount=5000,
        currency="EUR",
        memo="FEDTEXT-MEMO-a",
        idempotency_key=fund.new_token(),
        now=t,
    )
    fund.contribute(
        actor=b,
        amount=7000,
        currency="EUR",
        memo="FEDTEXT-MEMO-b",
        idempotency_key=fund.new_token(),
        now=t + h,
    )
    world.fund_requests["money"] = fund.request_money(
        actor=a,
        amount=1000,
        currency="EUR",
        purpose="FEDTEXT-PURPOSE-a",
        idempotency_key=fund.new_token(),
        now=t + 2 * h,
    )
    world.fund_requests["help"] = fund.request_help(
        actor=b, purpose="FEDTEXT-PURPOSE-b", idempotency_key=fund.new_token(), now=t + 3 * h
    )
    fund.answer_help(
        actor=a,
        request=world.fund_requests["help"],
        text="FEDTEXT-ANSWER-a",
        idempotency_key=fund.new_token(),
        now=t + 4 * h,
    )


def build_world(*, now: dt.datetime, keys: Any) -> World:
    """Create the federation, three marked groups, and dissolve C at the end.

    ``keys`` is conftest's ``test_keys``: it receives every group's and the federation's
    keys (it is the current keyring while the world is written) and every member's
    unlocked private key, for logging clients in (``conftest.log_in_with_keys``).
    """
    from django.contrib.auth.hashers import make_password

    from veche.apps.accounts.services import enrol_member
    from veche.apps.federation import services as org
    from veche.apps.proposals import services as s

    start = now - dt.timedelta(days=40)
    world = World(now=now)
    password = make_password(PASSPHRASE)
    _, first = org.create_federation(name="Matrix federation", first_group_name="Alpha", now=start)
    groups = {"A": first}
    groups["B"] = org.create_group(name="Beta", now=start)
    groups["C"] = org.create_group(name="Gamma", now=start)
    for group in groups.values():
        keys.add(org.create_founding_keys(group=group, now=start))
    for key, group in groups.items():
        gw = GroupWorld(key=key, group=group)
        for name in PEOPLE:
            member, private_key = enrol_member(
                group=group,
                pseudonym=pseudonym(key, name),
                keys=keys.keyring,
                passphrase=PASSPHRASE,
                password_hash=password,
                joined_at=start,
            )
            keys.private[member.pk] = private_key
            gw.members[name] = member
        org.start_coordinator_term(group=group, member=gw.members["coord"], now=start)
        world.groups[key] = gw
    for key in groups:
        _seed_group(world, key, start)
    _seed_federation(world)
    _seed_fund(world)
    s.settle_due(now=now)
    groups["C"].dissolved_at = now - dt.timedelta(minutes=5)
    groups["C"].save(update_fields=["dissolved_at"])
    world.keys = keys
    return world
