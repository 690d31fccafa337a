"""The demo federation: three groups and a month of their life, as a scenario.

Played by :func:`veche.scenario.build` (``veche demo``), it shows every part of the
process: consensus reached and blocked, an amendment, an urgent proposal that fell back
to a vote (counted) and one being voted on now, temporary coordinators (a mandate that
ran, one in force, one recalled, volunteers sought now, rotation at work), a decision
taken at a meeting on an open proposal, a meeting whose decisions were recorded on their
own (confirmed) and one awaiting confirmation, a withdrawal, a draft, a group admitted by
spokes, the common fund (contributions, a request decided and paid, one being decided,
help asked and answered), a charter amendment adopted (version 2, in "Our rules" with
what it changed) and a group's own rules adopted by the group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from veche import scenario
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

PASSPHRASE = "demo passphrase, not secret"  # noqa: S105 - printed for the demo
D = 24  # hours in a day

GROUPS = (
    GroupOf("river", "Riverside Tenants", ("olena", "marko", "ines", "tomas", "yuki")),
    GroupOf("bakers", "Bakers' Co-op", ("sasha", "amir", "lena", "pavel")),
    GroupOf("night", "Night Shift Union", ("dana", "kofi", "mira", "ivo")),
)


def _everyone_responds() -> tuple[Step, ...]:
    people = GROUPS[0].people
    return tuple(
        Step(
            "respond",
            f"river.{name}",
            i + 1,
            position="stand_aside" if name == "yuki" else "agree",
            text="I work Mondays, go ahead." if name == "yuki" else "",
        )
        for i, name in enumerate(people)
    )


def _all_agree(groups: tuple[GroupOf, ...], start: float) -> tuple[Step, ...]:
    """Return every member of ``groups`` agreeing, a few minutes apart from ``start`` hours."""
    people = [f"{g.key}.{p}" for g in groups for p in g.people]
    return tuple(
        Step("respond", who, start + i / 10, position="agree") for i, who in enumerate(people)
    )


def _ten_days_for_federation_matters(charter: Charter) -> Charter:
    """The demo's amendment: federation matters decided in ten days, not fourteen."""
    for key in ("common-policy", "admit-group"):
        kind = charter.kind(key)
        days = dt.timedelta(days=10)
        charter = with_kind(charter, replace(kind, consensus=replace(kind.consensus, period=days)))
    return charter


STORIES = (
    Story(
        "ten-days", "charter-amendment", "river.olena", "Federation matters in ten days",
        "Fourteen days is too long for common policy and for admitting a group: ten days "
        "give every group two meetings to form its view.",
        age=27 * D, amend=_ten_days_for_federation_matters,
        steps=_all_agree(GROUPS, 1),
    ),
    Story(
        "river-rules", "group-rules", "river.marko", "Five days for our practical matters",
        "We meet twice a week: five days are enough for how and when we do our work.",
        age=26 * D,
        group_rules=GroupRules({"group-practice": GroupRule(period=dt.timedelta(days=5))}),
        steps=_all_agree(GROUPS[:1], 1),
    ),
    Story(
        "meet-monday", "group-practice", "river.olena", "Meet on the first Monday",
        "We meet on the **first Monday** of each month at 19:00 in the laundry room.",
        age=20 * D,
        steps=(*_everyone_responds(),
               Step("comment", "river.marko", 1, text="Good: the laundry room is free then.")),
    ),
    Story(
        "press", "common-policy", "bakers.sasha", "Share one printing press",
        "All groups print their leaflets on the Bakers' press; each pays for its paper.",
        age=19 * D,
        steps=(
            Step("respond", "bakers.sasha", 1, position="agree"),
            Step("respond", "bakers.amir", 2, position="agree"),
            Step("respond", "river.olena", 3, position="agree"),
            Step("respond", "night.dana", 4, position="block",
                 text="Our leaflets must not be traceable to one shared press."),
            Step("respond", "night.kofi", 5, position="block",
                 text="Same concern: one press links every group's material."),
            Step("respond", "river.marko", 6, position="object", text="Who keeps the key?"),
        ),
    ),
    Story(
        "assembly-room", "group-practice", "river.marko", "Where to hold the tenants' assembly",
        "The landlord closed the laundry room. We need a room by Friday.",
        age=12 * D, urgent=True, deadline=6,
        options=("The library", "The school hall", "Yuki's flat"),
        steps=(
            Step("respond", "river.ines", 1, position="block",
                 text="Not the school hall: the caretaker reports to the landlord."),
            Step("vote", "river.olena", 7, ballot=[0, 2, 1]),
            Step("vote", "river.marko", 8, ballot=[1, 0]),
            Step("vote", "river.ines", 9, ballot=[0, 2]),
            Step("vote", "river.tomas", 10, ballot=[2, 0, 1]),
            Step("vote", "river.yuki", 11, ballot=[0, 1, 2]),
            # The vote closed at 30 h; two of its three tellers signed in since.
            Step("count", "tellers", 40),
        ),
    ),
    Story(
        "eviction", "group-quick-response", "river.tomas",
        "Answer the eviction notice at number 12",
        "A family got a notice; someone must speak for us with the housing office.",
        age=10 * D, urgent=True, deadline=2, matters=("Contact with the housing office",),
        steps=(
            Step("respond", "river.ines", 1, position="object", text="We need more facts first."),
            Step("volunteer", "river.olena", 3),
            Step("decide", "holder", 9, title="Contact with the housing office",
                 text="Asked the office for a two-week stay; granted."),
        ),
    ),
    Story(
        # Olena held the last mandate: rotation keeps her out of this one.
        "heating", "group-quick-response", "river.yuki", "Heating failure: talk to the repair firm",
        "The boiler failed in the cold. Someone must deal with the repair firm **today**.",
        age=10, urgent=True, deadline=2,
        matters=("Dealing with the repair firm", "Spending up to 200 from the kitty"),
        steps=(
            Step("respond", "river.marko", 1, position="object", text="Cheaper firms exist."),
            Step("volunteer", "river.ines", 3),
            Step("volunteer", "river.tomas", 3.2),
            Step("decide", "holder", 9, title="Dealing with the repair firm",
                 text="Booked the repair for tomorrow 8:00."),
        ),
    ),
    Story(
        "press-talk", "group-quick-response", "night.kofi", "Talk to the press about the strike",
        "Journalists are calling. One of us should answer them this week.",
        age=5 * D, urgent=True, deadline=2, matters=("Talking to the press",),
        steps=(
            Step("respond", "night.mira", 1, position="object", text="Agree on a message first."),
            Step("volunteer", "night.dana", 3),
            Step("decide", "holder", 9, title="Talking to the press",
                 text="Told the evening paper the strike starts Friday."),
            # The date was not agreed: two of four recall the temporary coordinator.
            Step("recall", "night.kofi", 20),
            Step("recall", "night.mira", 21),
        ),
    ),
    Story(
        "flour", "group-practice", "bakers.amir", "Which flour supplier for the winter",
        "Our supplier doubled prices. Choose one of three offers.",
        age=5, urgent=True, deadline=2,
        options=("Mill on the river", "Farmers' cooperative", "Wholesale market"),
        steps=(
            Step("respond", "bakers.lena", 1, position="block",
                 text="The wholesale market buys from the firm that broke our strike."),
            Step("vote", "bakers.amir", 3, ballot=[1, 0]),
            Step("vote", "bakers.pavel", 3, ballot=[0, 1, 2]),
        ),
    ),
    Story(
        "harbour", "admit-group", "night.dana", "Admit the Harbour Cleaners",
        "The harbour cleaners organised last spring and ask to join us.",
        age=2 * D, new_group="Harbour Cleaners",
        steps=(
            Step("carry", "night.dana", 1, position="agree"),
            Step("respond", "bakers.amir", 2, position="agree"),
            Step("respond", "river.marko", 3, position="object", text="Who vouches for them?"),
        ),
    ),
    Story(
        "minutes", "group-practice", "river.ines", "Rotate the minute-taker",
        "Each meeting, the next person in alphabetical order takes the minutes.",
        age=1 * D,
        steps=(
            Step("respond", "river.tomas", 1, position="object", text="Alphabetical puts me last."),
            Step("amend", "river.ines", 2, title="Rotate the minute-taker",
                 text="Each meeting, whoever took minutes least often takes them."),
            Step("respond", "river.tomas", 3, position="agree"),
            Step("respond", "river.olena", 4, position="agree"),
        ),
    ),
    Story(
        "solidarity", "group-practice", "night.kofi", "Night shift solidarity fund",
        "Each member puts 5 a month into a fund for members who lose shifts.",
        age=3 * D,
        steps=(
            Step("meeting", "night.kofi", 5, attendance=4, text="Agreed at the canteen meeting."),
            Step("confirm", "night.mira", 6),
            Step("confirm", "night.ivo", 7),
        ),
    ),
    Story(
        "vigil", "group-quick-response", "night.kofi", "Speak for the union at tonight's vigil",
        "The vigil is tonight; someone must speak for the union and agree the route.",
        age=3, urgent=True, deadline=1, matters=("Agreeing the route with the organisers",),
        steps=(Step("volunteer", "night.ivo", 1.5),),
    ),
    Story(
        "mondays", "group-practice", "bakers.lena", "Close the bakery on Mondays",
        "We could close on Mondays.", age=6 * D,
        steps=(Step("withdraw", "bakers.lena", 4),),
    ),
    Story(
        "strike-kitchen", "group-practice", "bakers.pavel", "Bake for the strike kitchen",
        "Draft: every Saturday we bake 40 loaves for the strike kitchen.", age=2, draft=True,
    ),
)  # fmt: skip

# Decisions taken face to face and recorded without an online proposal first.
MEETINGS = (
    MeetingRecord(
        "bakers-assembly", "bakers.sasha", age=6 * D, held=1, attendance=4,
        notes="Quarterly assembly in the back room of the bakery; everyone came.",
        decisions=(
            Decided("group-practice", "Open at 6:00 from November to March",
                    "In winter the bakery opens at **6:00**, so night-shift workers get "
                    "bread on their way home."),
            Decided("group-practice", "Lend the delivery bike to the Night Shift Union",
                    "Not agreed: the bike is needed every morning.", outcome="not_adopted",
                    how="vote"),
        ),
        steps=(Step("confirm", "bakers.amir", 3), Step("confirm", "bakers.lena", 20)),
    ),
    # Recorded this morning: one member present has confirmed, a second is awaited.
    MeetingRecord(
        "river-stairwell", "river.olena", age=6, attendance=4,
        notes="Met on the landing after the heating broke; Tomas took notes.",
        decisions=(
            Decided("group-practice", "Keep a list of flats without heating",
                    "We note every flat without heating, to show the housing office."),
        ),
        steps=(Step("confirm", "river.marko", 1),),
    ),
)  # fmt: skip

MESSAGES = (
    Message("bakers", "bakers.sasha", "Reminder: the oven is being serviced on Thursday.", 3),
)

FUND = (
    FundStep("contribute", "river.olena", 25 * D, amount=30_000, text="Dues, first quarter"),
    FundStep("contribute", "bakers.sasha", 24 * D, amount=15_000, text="From the bake sale"),
    FundStep("contribute", "night.dana", 20 * D, amount=20_000, text="Dues"),
    FundStep(
        "request_money", "night.dana", 15 * D, key="bail", amount=12_000,
        text="Bail for two members arrested at the picket.",
        carried_by=("night.dana", "river.olena", "bakers.sasha"),
    ),
    FundStep("disburse", "bakers.sasha", 14 * D, about="bail"),
    FundStep("contribute", "river.olena", 10 * D, amount=10_000, text="Dues"),
    FundStep("request_help", "river.olena", 8 * D, key="complaint",
             text="How do we file a collective complaint against the landlord?"),
    FundStep("answer", "night.dana", 7 * D, about="complaint",
             text="We did one last year: gather signatures first, then go to the inspectorate."),
    FundStep("request_money", "bakers.sasha", 1 * D, key="oven", amount=8_000,
             text="A new thermostat for the shared oven."),
)  # fmt: skip

DEMO = Scenario(
    federation="Demo federation",
    groups=GROUPS,
    passphrase=PASSPHRASE,
    stories=STORIES,
    meetings=MEETINGS,
    messages=MESSAGES,
    fund=FUND,
    founded=30,
)


def logins() -> dict[str, list[str]]:
    """Return group name -> pseudonyms (the first coordinates the group)."""
    return {g.name: [g.pseudonym(p) for p in g.people] for g in GROUPS}


def build(*, now: dt.datetime, keys: Any = None) -> dict[str, list[str]]:
    """Create the demo federation; return group name -> pseudonyms (first: coordinator).

    ``keys`` (a Keyring) receives every key the demo makes, for tests that read it all;
    otherwise the keys leave with the builder, sealed to the members' key pairs only.
    """
    scenario.build(DEMO, now=now, keys=keys)
    return logins()
