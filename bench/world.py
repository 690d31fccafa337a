"""The world the page benchmark (bench/pages.py) measures, built through veche's services.

Everything here goes through the public services members and operators use
(``proposals.services``, ``fund.services``, ``accounts.services.enrol_member``,
``federation.services``), with the clock passed in, as ``veche demo`` does: the world
can never hold a state the rules would not produce. When those services change, this
module is the one place to adapt; bump ``BUILDER_VERSION`` so cached worlds are rebuilt.

The world at size N (``build(size=N)``):

- one federation, 3 groups (28, 20 and 16 members: 64), a coordinator in each;
- N proposals: ``min(N, 50)`` open ones (all visible to the member the benchmark logs
  in as) and ``N - 50`` closed ones, a history spread over five years and over every
  group and the federation: adopted at meetings, not adopted at their deadline with
  a few responses, withdrawn, a few amended, ~1 % urgent with a temporary
  coordinator, ~0.5 % decided by a closed secret vote;
- the open 50: 8 urgent proposals in an open Schulze vote with some ballots, a
  mandate in force, the member's own draft, group and federation proposals seeking
  consensus with 0-6 responses each, and the *detail* proposal (amended once,
  responses with reasons, a thread of 20 messages);
- the fund: 30 transactions (20 contributions; 5 requests for money decided by the
  federation in spokes mode and paid; 5 transfers on group decisions, whose 10
  proposals are extra to N), plus one contribution per 10 proposals of history, so
  the ledger grows with the federation's age like the proposals do.

Call inside a configured Django (the caller sets VECHE_DATA_DIR / DATABASE_URL and runs
the migrations). Returns what the benchmark needs to find its pages, as plain JSON: the
member to log in as and their passphrase, the detail page's proposal id, the fund
account whose statement is measured, and counts. bench/pages.py maps these to URLs in
``pages_of()``; keep the keys when adapting.

Building costs what the services cost: about 25-35 minutes for 10,000 proposals on the
shared 2-core machine (once; bench/pages.py caches worlds).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

# Bump when what ``build`` creates changes: cached worlds are keyed by it.
BUILDER_VERSION = 3

OPEN = 50
OPEN_VOTES = 8
THREAD = 20
FUND_BASE_CONTRIBUTIONS = 20
FUND_REQUESTS = 5
FUND_TRANSFERS = 5
HISTORY_PER_CONTRIBUTION = 10
GROUPS = {"Riverside Tenants": 28, "Bakers' Co-op": 20, "Night Shift Union": 16}
PASSPHRASE = "bench passphrase, not secret"  # noqa: S105 - a throwaway bench world
MEMBER = "bencher"  # the member the benchmark logs in as: group A, not a coordinator
YEARS = 5

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def build(
    *, size: int, now: dt.datetime, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    """Create the world of ``size`` proposals in the (empty, migrated) database; describe it."""
    from veche.apps.core import keyring
    from veche.crypto import Keyring

    # The builder plays every member in turn, so it holds every key while it builds.
    keys = Keyring()
    with keyring.using(keys):
        return _Builder(size=size, now=now, keys=keys, progress=progress).run()


class _Builder:
    def __init__(
        self, *, size: int, now: dt.datetime, keys: Any, progress: Callable[[str], None]
    ) -> None:
        from veche.apps.fund import services as fund

        self.size = size
        self.now = now
        self.keys = keys
        self.progress = progress
        self.rng = random.Random(8)  # issue 8: the same world every time
        self.fund = fund
        self.groups: list[Any] = []
        self.members: dict[int, list[Any]] = {}  # group pk -> members, coordinator first
        self.history = max(0, size - OPEN)
        self.start = now - YEARS * 365 * D

    # --- people -----------------------------------------------------------------------

    def people(self) -> None:
        from django.contrib.auth.hashers import make_password

        from veche.apps.accounts.services import enrol_member
        from veche.apps.federation import services as org

        names = list(GROUPS)
        joined = self.start - D
        _, first = org.create_federation(
            name="Bench federation", first_group_name=names[0], now=joined
        )
        self.groups = [first] + [org.create_group(name=n, now=joined) for n in names[1:]]
        for group in self.groups:
            for key_id, key in org.create_founding_keys(group=group, now=joined).items():
                self.keys.add(key_id, key)
        password = make_password(PASSPHRASE)  # Argon2 at production cost, once
        for g, (group, count) in enumerate(zip(self.groups, GROUPS.values(), strict=True)):
            people = []
            for i in range(count):
                pseudonym = MEMBER if (g == 0 and i == 1) else f"m{g}-{i:02d}"
                member, _private = enrol_member(
                    group=group, pseudonym=pseudonym, keys=self.keys, passphrase=PASSPHRASE,
                    password_hash=password, joined_at=joined,
                )  # fmt: skip
                people.append(member)
            org.start_coordinator_term(group=group, member=people[0], now=joined)
            self.members[group.pk] = people

    def everyone(self) -> list[Any]:
        return [m for people in self.members.values() for m in people]

    def others(self, group: Any | None, n: int, *, but: Any = None) -> list[Any]:
        """Return ``n`` distinct members of ``group`` (or anyone), never ``but``."""
        pool = self.members[group.pk] if group is not None else self.everyone()
        pool = [m for m in pool if m != but]
        return self.rng.sample(pool, min(n, len(pool)))

    # --- proposals --------------------------------------------------------------------

    def text(self, i: int) -> tuple[str, str]:
        title = f"Proposal {i}: {self.rng.choice(TOPICS)}"
        body = " ".join(self.rng.choice(SENTENCES) for _ in range(self.rng.randint(3, 8)))
        return title, body

    def respond_some(self, row: Any, group: Any | None, n: int, at: dt.datetime, **kw: Any) -> None:
        from veche.apps.proposals import services as s
        from veche.domain.consensus import Position

        but = kw.get("but")
        version = kw.get("version", 1)
        for j, member in enumerate(self.others(group, n, but=but)):
            position = self.rng.choice(
                [Position.AGREE, Position.AGREE, Position.OBJECT, Position.STAND_ASIDE,
                 Position.BLOCK]
            )  # fmt: skip
            reason = "" if position is Position.AGREE else self.rng.choice(REASONS)
            s.respond(
                row=row, member=member, position=position, reason=reason, version=version,
                now=at + (j + 1) * dt.timedelta(minutes=7),
            )  # fmt: skip

    def closed_one(self, i: int, t: dt.datetime) -> None:
        """One proposal of the federation's history, closed by ``t`` + 15 days."""
        from veche.apps.proposals import services as s
        from veche.domain.errors import NotEligible
        from veche.domain.proposals import Outcome, ReachedBy

        roll = self.rng.random()
        title, body = self.text(i)
        if roll < 0.01:
            # Urgent, for a temporary coordinator: some get one, some find no volunteer.
            group = self.rng.choice(self.groups)
            author = self.others(group, 1)[0]
            row = s.create_proposal(
                author=author, kind_key="group-quick-response", urgent=True, title=title,
                body=body, mandate_scope=["Talking to the landlord"], deadline=t + 2 * H, now=t,
            )  # fmt: skip
            if self.rng.random() < 0.5:
                for k, m in enumerate(self.others(group, 2)):
                    try:
                        s.volunteer(row=row, member=m, now=t + 3 * H + k * H)
                    except NotEligible:
                        continue  # rotation: whoever held the last mandate sits this one out
                loaded = s.settle(row, now=t + 9 * H)
                holder = loaded.state.mandate.holder if loaded.state.mandate else None
                if holder:
                    who = next(m for m in self.members[group.pk] if str(m.pk) == holder)
                    s.record_mandate_decision(
                        row=row, holder=who, matter="Talking to the landlord",
                        text="Agreed a repair date.", now=t + 10 * H,
                    )  # fmt: skip
            s.settle(row, now=t + 5 * D)
            return
        if roll < 0.015:
            # Urgent, decided by a secret Schulze vote after consensus failed.
            group = self.rng.choice(self.groups)
            author = self.others(group, 1)[0]
            row = s.create_proposal(
                author=author, kind_key="group-practice", urgent=True, title=title, body=body,
                options=["Monday", "Wednesday", "Saturday"], deadline=t + 2 * H, now=t,
            )  # fmt: skip
            for k, m in enumerate(self.others(group, self.rng.randint(3, 7))):
                ballot = self.rng.sample([0, 1, 2], self.rng.randint(1, 3))
                s.cast_ballot(row=row, voter=m, ballot=ballot, now=t + 3 * H + k * H)
            s.settle(row, now=t + 2 * D)
            return
        federation = roll > 0.75
        group = None if federation else self.rng.choices(self.groups, weights=[45, 30, 25])[0]
        home = group if group is not None else self.rng.choice(self.groups)
        author = self.others(home, 1)[0]
        kind = "common-policy" if federation else "group-practice"
        row = s.create_proposal(author=author, kind_key=kind, title=title, body=body, now=t)
        how = self.rng.random()
        if self.rng.random() < 0.1:
            s.amend(row=row, actor=author, title=title, body=body + " (amended)", now=t + H)
            version = 2
        else:
            version = 1
        if not federation and how < 0.45:
            size = len(self.members[home.pk])
            recorder, *confirmers = self.others(home, 3)
            s.record_meeting(
                row=row, recorder=recorder, outcome=Outcome.ADOPTED, attendance=size - 2,
                reached_by=ReachedBy.CONSENSUS, notes="Agreed at the monthly meeting.",
                now=t + 2 * D,
            )  # fmt: skip
            for k, m in enumerate(confirmers):
                s.confirm_meeting(row=row, member=m, now=t + 2 * D + (k + 1) * H)
        elif how < 0.75:
            self.respond_some(row, group, self.rng.randint(1, 4), t + 2 * H, version=version)
            s.settle(row, now=t + 15 * D)  # not adopted at its deadline: quorum missed
        else:
            self.respond_some(row, group, self.rng.randint(0, 2), t + 2 * H, version=version)
            s.withdraw(row=row, actor=author, now=t + 3 * D)

    def run_history(self) -> None:
        from django.db import transaction

        if not self.history:
            return
        # History runs from five years ago to 90 days ago (its last contribution 16 days
        # later); the fund's recent block (from 50 days ago) and the open proposals follow.
        span = (self.now - 90 * D) - self.start
        step = span / self.history
        coordinators = [self.members[g.pk][0] for g in self.groups]
        chunk = 250
        for first in range(0, self.history, chunk):
            with transaction.atomic():
                for i in range(first, min(first + chunk, self.history)):
                    t = self.start + i * step
                    self.closed_one(i, t)
                    if i % HISTORY_PER_CONTRIBUTION == HISTORY_PER_CONTRIBUTION - 1:
                        self.contribute(coordinators[i % 3], t + 16 * D)
            self.progress(f"  history: {min(first + chunk, self.history)}/{self.history}")

    # --- the fund ---------------------------------------------------------------------

    def contribute(self, coordinator: Any, at: dt.datetime) -> None:
        amount = self.rng.randint(20, 400) * 100
        memo = self.rng.choice(["", "", "monthly dues", "benefit concert", "bake sale"])
        self.fund.contribute(
            actor=coordinator, amount=amount, currency="EUR", memo=memo,
            idempotency_key=self.fund.new_token(), now=at,
        )  # fmt: skip

    def run_fund(self) -> None:
        from veche.apps.proposals import services as s
        from veche.domain.consensus import Position
        from veche.domain.proposals import Outcome, ReachedBy

        t = self.now - 50 * D
        coordinators = [self.members[g.pk][0] for g in self.groups]
        for i in range(FUND_BASE_CONTRIBUTIONS * 3 // 5):
            self.contribute(coordinators[i % 3], t + i * H)
        t += D
        for i in range(FUND_REQUESTS):
            asker = coordinators[i % 3]
            request = self.fund.request_money(
                actor=asker, amount=self.rng.randint(30, 90) * 100, currency="EUR",
                purpose=self.rng.choice(REASONS), idempotency_key=self.fund.new_token(),
                now=t + i * D,
            )  # fmt: skip
            for k, coordinator in enumerate(coordinators):
                s.carry_group_position(
                    row=request.proposal, coordinator=coordinator, position=Position.AGREE,
                    now=t + i * D + (k + 1) * H,
                )  # fmt: skip
            self.fund.disburse(
                actor=coordinators[(i + 1) % 3], proposal_id=request.proposal.pk,
                idempotency_key=self.fund.new_token(), now=t + i * D + 6 * H,
            )  # fmt: skip
        t += (FUND_REQUESTS + 1) * D
        for i in range(FUND_TRANSFERS):
            giver, receiver = self.groups[i % 3], self.groups[(i + 1) % 3]
            people = self.members[giver.pk]
            row = s.create_proposal(
                author=people[2], kind_key="group-practice",
                title=f"Lend {receiver.name} for their rent", body="They asked; we can.",
                now=t + i * D,
            )  # fmt: skip
            s.record_meeting(
                row=row, recorder=people[2], outcome=Outcome.ADOPTED, attendance=len(people) - 1,
                reached_by=ReachedBy.CONSENSUS, notes="", now=t + i * D + H,
            )  # fmt: skip
            for k, m in enumerate(people[3:5]):
                s.confirm_meeting(row=row, member=m, now=t + i * D + (k + 2) * H)
            self.fund.transfer(
                actor=people[0], to_group_id=receiver.pk, amount=self.rng.randint(5, 20) * 100,
                currency="EUR", proposal_id=row.pk, memo="rent",
                idempotency_key=self.fund.new_token(), now=t + i * D + 4 * H,
            )  # fmt: skip
        t += (FUND_TRANSFERS + 1) * D
        for i in range(FUND_BASE_CONTRIBUTIONS - FUND_BASE_CONTRIBUTIONS * 3 // 5):
            self.contribute(coordinators[i % 3], t + i * H)

    # --- the open proposals -------------------------------------------------------------

    def run_open(self) -> int:
        """Create the open proposals; return the detail page's proposal id."""
        from django.utils import timezone

        from veche.apps.proposals import services as s
        from veche.domain.consensus import Position
        from veche.domain.errors import NotEligible

        # Taken afresh: building the history may have taken minutes, and the open
        # proposals' deadlines count from when the world is ready.
        now = timezone.now()
        a = self.groups[0]
        people_a = self.members[a.pk]
        me = people_a[1]
        count = min(self.size, OPEN)
        made = 0

        # The detail page: amended once, responses with reasons, a thread of 20 messages.
        t = now - 2 * D
        author = people_a[3]
        row = s.create_proposal(
            author=author, kind_key="group-practice", title="Rotate who keeps the minutes",
            body="\n\n".join(self.rng.choice(SENTENCES) for _ in range(12)), now=t,
        )  # fmt: skip
        self.respond_some(row, a, 3, t + H, but=me)
        s.amend(
            row=row, actor=author, title="Rotate who keeps the minutes",
            body="Whoever took minutes least often takes them next.", now=t + 3 * H,
        )  # fmt: skip
        self.respond_some(row, a, 6, t + 4 * H, but=me, version=2)
        for k in range(THREAD):
            s.post_comment(
                author=self.others(a, 1)[0], body=self.rng.choice(SENTENCES), row=row,
                now=t + 5 * H + k * dt.timedelta(minutes=20),
            )  # fmt: skip
        detail = row.pk
        made += 1

        # Open Schulze votes: consensus failed at the deadline half an hour ago.
        for i in range(min(OPEN_VOTES, count - made)):
            t = now - 2 * H - i * dt.timedelta(minutes=5)
            title, body = self.text(10_000_000 + i)
            row = s.create_proposal(
                author=self.others(a, 1, but=me)[0], kind_key="group-practice", urgent=True,
                title=title, body=body, options=["The library", "The school hall", "A flat"],
                deadline=t + 90 * dt.timedelta(minutes=1), now=t,
            )  # fmt: skip
            for k, m in enumerate(self.others(a, self.rng.randint(2, 5), but=me)):
                ballot = self.rng.sample([0, 1, 2], self.rng.randint(1, 3))
                s.cast_ballot(
                    row=row, voter=m, ballot=ballot,
                    now=now - 20 * dt.timedelta(minutes=1) + k * dt.timedelta(minutes=1),
                )  # fmt: skip
            made += 1

        # A temporary coordinator's mandate in force (drawn by lot an hour ago).
        if made < count:
            t = now - 8 * H
            row = s.create_proposal(
                author=people_a[4], kind_key="group-quick-response", urgent=True,
                title="The boiler: deal with the repair firm", body="It failed in the cold.",
                mandate_scope=["Dealing with the repair firm"], deadline=t + H, now=t,
            )  # fmt: skip
            for k, m in enumerate(self.others(a, 2, but=me)):
                try:
                    s.volunteer(row=row, member=m, now=t + 2 * H + k * H)
                except NotEligible:
                    continue  # rotation: whoever held the last mandate sits this one out
            loaded = s.settle(row, now=now - 30 * dt.timedelta(minutes=1))
            holder = loaded.state.mandate.holder if loaded.state.mandate else None
            if holder:
                who = next(m for m in people_a if str(m.pk) == holder)
                s.record_mandate_decision(
                    row=row, holder=who, matter="Dealing with the repair firm",
                    text="Booked the repair for tomorrow.", now=now - 20 * dt.timedelta(minutes=1),
                )  # fmt: skip
            made += 1

        # The member's own draft.
        if made < count:
            s.create_proposal(
                author=me, kind_key="group-practice", title="Draft: a reading group",
                body="Once a month, a book.", draft=True, now=now - 3 * H,
            )  # fmt: skip
            made += 1

        # The rest seek consensus: 3 of 5 the group's, 2 of 5 the federation's.
        i = 0
        while made < count:
            federation = i % 5 >= 3
            # At most 4 days 6 hours old: every deadline (7 days at least) is days away.
            t = now - (1 + (i % 4)) * D - (i % 7) * H
            title, body = self.text(20_000_000 + i)
            group = None if federation else a
            row = s.create_proposal(
                author=self.others(group, 1, but=me)[0],
                kind_key="common-policy" if federation else "group-practice",
                title=title, body=body, now=t,
            )  # fmt: skip
            # The member has answered some; most still wait for them (the inbox).
            self.respond_some(row, group, self.rng.randint(0, 6), t + H, but=me)
            if i % 4 == 0:
                s.respond(row=row, member=me, position=Position.AGREE, version=1, now=t + 8 * H)
            made += 1
            i += 1
        return detail

    # --- all of it ----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        from django.db import transaction

        from veche.apps.fund.selectors import FUND_KEY
        from veche.apps.proposals.models import DecisionRecord, Proposal

        self.progress(f"  people: {sum(GROUPS.values())} members in {len(GROUPS)} groups")
        with transaction.atomic():
            self.people()
        self.run_history()
        self.progress("  fund")
        with transaction.atomic():
            self.run_fund()
        self.progress("  open proposals")
        with transaction.atomic():
            detail = self.run_open()
        a = self.groups[0]
        from veche.apps.fund.models import FundTransaction

        return {
            "size": self.size,
            "builder_version": BUILDER_VERSION,
            "member": MEMBER,
            "passphrase": PASSPHRASE,
            "detail": detail,
            "statement": FUND_KEY,
            "proposals": Proposal.objects.count(),
            "open": Proposal.objects.filter(closed_at__isnull=True).count(),
            "visible_to_member": Proposal.objects.filter(federation_wide=True).count()
            + Proposal.objects.filter(federation_wide=False, group=a).count(),
            "decisions": DecisionRecord.objects.count(),
            "fund_transactions": FundTransaction.objects.count(),
        }


TOPICS = [
    "meet on the first Monday",
    "share the printing press",
    "rotate the minute-taker",
    "a hardship fund for lost shifts",
    "answer the landlord's letter",
    "a rota for the food bank",
    "join the march on the 12th",
    "repaint the common room",
    "a childcare rota for meetings",
    "translate the leaflets",
]
SENTENCES = [
    "We meet at 19:00 in the laundry room.",
    "Each group keeps its own minutes and shares the decisions.",
    "The **landlord** has not answered our letter of the 3rd.",
    "Whoever can take a shift writes their name on the rota.",
    "Costs are split by the number of members in each group.",
    "We ask the other groups for advice before we decide.",
    "Nobody speaks to the press for the federation without a mandate.",
    "The bakery lends its oven on Saturdays.",
]
REASONS = [
    "Not before we have asked the tenants at number 12.",
    "I cannot make Mondays, but go ahead.",
    "This would make our leaflets traceable.",
    "Who pays for the paper?",
    "Rent for the office this winter.",
]
