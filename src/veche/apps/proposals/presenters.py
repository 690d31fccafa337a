"""What pages show: a proposal's state turned into plain values for templates.

Compartmentalisation of names happens here, in one place: a member is shown the
pseudonyms of their own group only. Other groups' members appear as counts, or as
"a member of <group>" (group names are public within the federation).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from veche.apps.accounts.models import Member
from veche.apps.core.errors import translated
from veche.apps.core.labels import METHOD_LABELS, kind_name
from veche.apps.core.templating import blank, url
from veche.apps.federation import wording
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import (
    charter_in_force,
    charter_of,
    get_charter,
    group_rules_in_force,
    rules_of,
)
from veche.apps.proposals import counting, forms, markdown, selectors
from veche.apps.proposals.models import (
    Awaiting,
    Comment,
    DecisionRecord,
    Meeting,
    Proposal,
    chain_name,
)
from veche.domain import proposals as domain
from veche.domain.charter import Charter, GroupRules, Power, Scope, changes, rules_changes
from veche.domain.consensus import Position
from veche.domain.decisions_log import (
    ChainError,
    Head,
    Problem,
    ProblemKind,
    Record,
    VerifyReport,
    self_consistent,
    verify,
    verify_since,
)
from veche.domain.errors import InvalidCharter

PHASE_LABELS = {
    domain.Phase.DRAFT: gettext_lazy("Draft"),
    domain.Phase.CONSENSUS: gettext_lazy("Seeking consensus"),
    domain.Phase.VOTE: gettext_lazy("Urgent vote"),
    domain.Phase.VOLUNTEERING: gettext_lazy("Volunteers for a temporary coordinator"),
    domain.Phase.SELECTION_VOTE: gettext_lazy("Choosing a temporary coordinator"),
    domain.Phase.MANDATE: gettext_lazy("Under a mandate"),
    domain.Phase.CONFIRMING: gettext_lazy("Decided at a meeting: awaiting confirmation"),
    domain.Phase.COUNTING: gettext_lazy("Secret vote closed: waiting for its tellers"),
    domain.Phase.CLOSED: gettext_lazy("Closed"),
}
OUTCOME_LABELS = {
    domain.Outcome.ADOPTED: gettext_lazy("Adopted"),
    domain.Outcome.NOT_ADOPTED: gettext_lazy("Not adopted"),
    domain.Outcome.WITHDRAWN: gettext_lazy("Withdrawn"),
    domain.Outcome.DECIDED: gettext_lazy("Decided"),
    domain.Outcome.MANDATE_EXPIRED: gettext_lazy("Mandate expired without a decision"),
    domain.Outcome.RECALLED: gettext_lazy("Temporary coordinator recalled"),
    domain.Outcome.UNCONFIRMED: gettext_lazy("Not confirmed by others present"),
}
REACHED_LABELS = {
    domain.ReachedBy.CONSENSUS: gettext_lazy("by consensus"),
    domain.ReachedBy.VOTE: gettext_lazy("by vote"),
    domain.ReachedBy.MANDATE: gettext_lazy("by a temporary coordinator's mandate"),
    domain.ReachedBy.MEETING: gettext_lazy("at an in-person meeting"),
    domain.ReachedBy.WITHDRAWAL: gettext_lazy("by withdrawal"),
}
# The outcome already says how these ended: "recalled by a temporary coordinator's
# mandate" is what the members did not do.
_OUTCOME_SAYS_HOW = {domain.Outcome.RECALLED, domain.Outcome.MANDATE_EXPIRED}


def reached_label(outcome: domain.Outcome, reached_by: domain.ReachedBy) -> Any:
    """Return how a decision was reached, or "" where its outcome already says it (a lazy
    label, translated where it is shown: once per language on a page of fifty)."""
    return "" if outcome in _OUTCOME_SAYS_HOW else REACHED_LABELS[reached_by]


STEP_LABELS = {
    domain.Step.PUBLISH: gettext_lazy("Waiting for its author to publish it"),
    domain.Step.CONSENSUS_CLOSES: gettext_lazy("Consensus closes"),
    domain.Step.VOTE_CLOSES: gettext_lazy("The vote closes"),
    domain.Step.VOLUNTEERING_CLOSES: gettext_lazy("Volunteering closes"),
    domain.Step.SELECTION_CLOSES: gettext_lazy("The choice of coordinator closes"),
    domain.Step.MANDATE_EXPIRES: gettext_lazy("The mandate expires"),
    domain.Step.CONFIRMATION_CLOSES: gettext_lazy("Confirmation closes"),
}


class Who:
    """Who is who on one page: members and group names, each read once, when first needed."""

    def __init__(self, loaded: selectors.Loaded) -> None:
        st = loaded.state
        ids = {*st.responses, str(loaded.row.author_id)}
        if st.mandate is not None:
            ids |= {*st.mandate.volunteers, *st.mandate.candidates}
            if st.mandate.holder:
                ids.add(st.mandate.holder)
        self._ids = ids
        # A group's members came with its electorate (selectors.electorate_named).
        self._named = loaded.named
        self._people: dict[str, Member] | None = None
        self._groups: dict[str, str] | None = None

    def person(self, member_id: str) -> Member | None:
        if self._people is None or member_id not in self._ids:
            self._ids.add(member_id)
            self._people = self._read()
        return self._people.get(member_id)

    def people(self) -> dict[str, Member]:
        if self._people is None:
            self._people = self._read()
        return self._people

    def _read(self) -> dict[str, Member]:
        """Return everyone asked for, reading only those not named with the electorate."""
        found = self._named.people(self._ids)
        missing = self._ids - found.keys()
        return {**found, **_names(missing)} if missing else found

    def group(self, group_id: object) -> str:
        if self._groups is None:
            self._groups = _group_names()
        return self._groups.get(str(group_id), "?")


def _who(loaded: selectors.Loaded) -> Who:
    cached = getattr(loaded, "_who", None)
    if cached is None:
        cached = Who(loaded)
        loaded._who = cached  # type: ignore[attr-defined]
    return cached


def _names(ids: Iterable[str]) -> dict[str, Member]:
    return {str(m.pk): m for m in selectors.people_named(int(i) for i in ids)}


def _group_names() -> dict[str, str]:
    return {str(pk): name for pk, name in Group.objects.values_list("pk", "name")}


def _holder_label(holder: str, member: Member, loaded: selectors.Loaded) -> str:
    """Return how the temporary coordinator is named to this member."""
    who = _who(loaded)
    person = who.person(holder)
    if person is None:
        return _("a former member")
    if person.group_id == member.group_id or loaded.charter.show_coordinators:
        return person.pseudonym
    return _("a member of %(group)s") % {"group": who.group(person.group_id)}


def _title(row: Proposal) -> str:
    return selectors.current_version(row).title


# What comes next in each open phase, as a page says it.
PHASE_STEPS = {
    domain.Phase.DRAFT: domain.Step.PUBLISH,
    domain.Phase.CONSENSUS: domain.Step.CONSENSUS_CLOSES,
    domain.Phase.VOTE: domain.Step.VOTE_CLOSES,
    domain.Phase.VOLUNTEERING: domain.Step.VOLUNTEERING_CLOSES,
    domain.Phase.SELECTION_VOTE: domain.Step.SELECTION_CLOSES,
    domain.Phase.MANDATE: domain.Step.MANDATE_EXPIRES,
    domain.Phase.CONFIRMING: domain.Step.CONFIRMATION_CLOSES,
}


def list_items(rows: Iterable[Proposal]) -> list[dict[str, Any]]:
    """Return lines for a page of the proposals list, from stored summaries (no replay).

    ``rows`` come from ``selectors.proposal_lines``, which says of each whether something
    waits for its member there (``awaits``).
    """
    charter = get_charter()
    names = {k.key: kind_name(k) for k in charter.kinds} if charter else {}
    items = []
    for row in rows:
        phase = domain.Phase(row.phase)
        step = PHASE_STEPS.get(phase)
        outcome = domain.Outcome(row.outcome) if row.outcome else None
        items.append(
            {
                "row": row,
                "url": url("proposals:detail", row.pk),
                "title": _title(row),
                "kind": names.get(row.kind_key, row.kind_key),
                "phase": PHASE_LABELS[phase],
                "next": {"label": STEP_LABELS[step], "at": row.due_at} if step else None,
                "awaits": row.awaits,
                "federation": row.federation_wide,
                "urgent": row.urgent,
                "outcome": OUTCOME_LABELS[outcome] if outcome else None,
                "responded": row.responded_count,
                "eligible": row.eligible_count,
            }
        )
    return items


WAIT_LABELS = {
    domain.Wait.PUBLISH: gettext_lazy("Your draft is not published yet"),
    domain.Wait.RESPOND: gettext_lazy("Your response is awaited"),
    domain.Wait.RESPOND_AGAIN: gettext_lazy("Amended: respond to the new version"),
    domain.Wait.VOTE: gettext_lazy("A vote is open: cast your ballot"),
    domain.Wait.VOLUNTEER: gettext_lazy("Volunteers are sought for a temporary coordinator"),
    domain.Wait.HOLD_MANDATE: gettext_lazy("You hold a mandate in force"),
    domain.Wait.MANDATE_IN_FORCE: gettext_lazy("A mandate is in force"),
    domain.Wait.CONFIRM_MEETING: gettext_lazy(
        "A meeting record awaits confirmation by those present"
    ),
    domain.Wait.CARRY: gettext_lazy("Carry your group's position (you coordinate it)"),
    domain.Wait.COUNT: gettext_lazy(
        "You are a teller of this secret vote: it is counted when enough tellers have signed in"
    ),
}


def inbox_items(waits: Iterable[Awaiting], now: dt.datetime) -> list[dict[str, Any]]:
    """Return a page of the inbox: one item per proposal, with what waits there."""
    items: dict[int, dict[str, Any]] = {}
    charter = get_charter()
    kinds = {k.key: k for k in charter.kinds} if charter else {}
    for wait in waits:
        row = wait.proposal
        item = items.get(row.pk)
        if item is None:
            deadline = row.due_at
            item = items[row.pk] = {
                "row": row,
                "url": url("proposals:detail", row.pk),
                "title": _title(row),
                "reasons": [],
                "deadline": deadline,
                "soon": deadline is not None and deadline - now <= dt.timedelta(hours=24),
                "phase": PHASE_LABELS[domain.Phase(row.phase)],
                "to_fund": row.kind_key in kinds
                and kinds[row.kind_key].power in (Power.DISBURSE, Power.DISBURSE_SMALL),
                "reminded_at": None,
            }
        item["reasons"].append(WAIT_LABELS[domain.Wait(wait.wait)])
        if wait.reminded_at is not None and (
            item["reminded_at"] is None or wait.reminded_at > item["reminded_at"]
        ):
            item["reminded_at"] = wait.reminded_at
    return list(items.values())


def _next(st: domain.ProposalState) -> dict[str, Any] | None:
    if st.next is None:
        return None
    return {"label": STEP_LABELS[st.next.step], "at": st.next.at}


def detail(
    loaded: selectors.Loaded,
    member: Member,
    now: dt.datetime,
    thread_page: Any = None,
    *,
    pending: bool = True,
) -> dict[str, Any]:
    """Return the context of the proposal page (without ``pending``: not whom it awaits)."""
    row, st = loaded.row, loaded.state
    me = str(member.pk)
    version = selectors.current_version(row)
    kind = loaded.kind
    spokes = loaded.proposal.spokes
    may = domain.actions(st, me)
    context: dict[str, Any] = {
        "may": {action.value: True for action in may},
        "row": row,
        "version": version,
        "body_html": version.body_html,
        "kind": kind,
        "kind_name": kind_name(kind),
        "state": st,
        "phase_label": PHASE_LABELS[st.phase],
        "next": _next(st),
        "federation": kind.scope is Scope.FEDERATION,
        "spokes": spokes,
        "is_author": row.author_id == member.pk,
        "author_label": _author_label(loaded, member),
        "my_response": st.responses.get(me),
        "can_respond": domain.Action.RESPOND in may,
        "can_carry": domain.Action.CARRY in may,
        "position_labels": forms.POSITION_LABELS,
        # What the response and carry forms offer; the forms themselves are written out
        # in the template (a form would be built on every view for its choices alone).
        "position_choices": forms.ResponseForm.base_fields["position"].choices,  # type: ignore[attr-defined]
        "comment_form": blank(forms.CommentForm),
        "responses": _responses(loaded, member),
        "counts": [
            (forms.POSITION_LABELS[p], st.consensus.by_position.get(p, 0)) for p in Position
        ],
        "thread": thread(thread_page.object_list, member) if thread_page else [],
        "page": thread_page,
        "options": list(row.options),
        # What adopting it does, said before anyone responds.
        "admits_group": row.admit_group_name or str(row.effect.get("admit_group", ""))
        if kind.power is Power.ADMIT_GROUP
        else "",
    }
    if spokes:
        who = _who(loaded)
        context["group_positions"] = [
            (who.group(g), forms.POSITION_LABELS[p] if p else None)
            for g, p in st.group_positions.items()
        ]
    context.update(_vote_context(loaded, member))
    context.update(_mandate_context(loaded, member))
    context.update(_meeting_context(loaded, member))
    if context["can_record_meeting"]:
        context["meeting_form"] = blank(forms.MeetingForm)
    context.update(_rules_change_context(loaded))
    if pending:
        context["pending"] = not_yet_responded(row, member, now, loaded)
    context["from_meeting"] = row.meeting if row.meeting_id is not None else None
    context["concerns_label"] = _concerns_label(loaded, member)
    if st.decision is not None:
        context["decision"] = {
            "outcome": OUTCOME_LABELS[st.decision.outcome],
            "outcome_key": st.decision.outcome.value,
            "reached_by": reached_label(st.decision.outcome, st.decision.reached_by),
            "at": st.decision.at,
            "version": st.decision.version,
        }
        record = DecisionRecord.objects.filter(proposal=row).first() if row.closed_at else None
        context["decision_record"] = record
        effect = (record.payload.get("effect") or {}) if record else {}
        admitted = effect.get("power") == Power.ADMIT_GROUP.value or "admit_group" in effect
        if "rules_change" in context and effect:
            context["rules_change"].update(
                applied=bool(effect.get("applied")),
                new_version=effect.get("version"),
                why=WHY_NOT_APPLIED.get(str(effect.get("why")), ""),
            )
        context["can_issue_invitation"] = bool(
            context["is_author"]
            and effect.get("applied")
            and admitted
            and not row.invitation_issued
        )
    return context


def _author_label(loaded: selectors.Loaded, viewer: Member) -> str:
    who = _who(loaded)
    author = who.person(str(loaded.row.author_id))
    if author is None:
        return _("a former member")
    if author.group_id == viewer.group_id:
        return author.pseudonym
    return _("a member of %(group)s") % {"group": who.group(author.group_id)}


WHY_NOT_APPLIED = {
    "charter_changed": gettext_lazy(
        "Not put in force: another amendment came into force after this one was proposed. "
        "It may be proposed again against the charter in force."
    ),
    "invalid": gettext_lazy("Not put in force: the charter it carries is not valid any more."),
    "rules_changed": gettext_lazy(
        "Not put in force: the group's own rules changed after this proposal was made."
    ),
    "out_of_bounds": gettext_lazy(
        "Not put in force: the charter in force no longer allows these rules."
    ),
}


def _rules_change_context(loaded: selectors.Loaded) -> dict[str, Any]:
    """Return what a proposal that carries rules changes, in words, against what it is bound to.

    An amendment is compared with the charter version it is bound to (the one in force
    when it was published: what members weigh it against); a group's own rules with the
    group's rules then. Shown from the start, before anyone responds.
    """
    row, power = loaded.row, loaded.kind.power
    if power is Power.AMEND_CHARTER:
        base = charter_of(row.charter_version)
        in_force = charter_in_force()
        context: dict[str, Any] = {
            "charter": True,
            "base_number": row.charter_version.number,
            "still_in_force": in_force is not None and in_force.pk == row.charter_version_id,
        }
        try:
            proposed = Charter.from_dict(row.effect.get("charter") or {})
        except InvalidCharter as error:
            return {"rules_change": {**context, "unreadable": translated(error)}}
        found = changes(base, proposed)
        context["changes"] = wording.change_lines(found, base, proposed)
        return {"rules_change": context}
    if power is Power.GROUP_RULES:
        base = charter_of(row.charter_version)
        in_force_rules = group_rules_in_force(group_id=row.group_id)
        before = rules_of(row.group_rules_version)
        context = {
            "charter": False,
            "base_number": row.group_rules_version.number if row.group_rules_version else 0,
            "still_in_force": (in_force_rules.pk if in_force_rules else None)
            == row.group_rules_version_id,
        }
        try:
            proposed_rules = GroupRules.from_dict(row.effect.get("group_rules") or {})
        except InvalidCharter as error:
            return {"rules_change": {**context, "unreadable": translated(error)}}
        found = rules_changes(before, proposed_rules)
        context["changes"] = wording.change_lines(found, base)
        return {"rules_change": context}
    return {}


# What the proposal waits for, said of someone else.
PENDING_LABELS = {
    domain.Wait.RESPOND: gettext_lazy("response"),
    domain.Wait.RESPOND_AGAIN: gettext_lazy("response to the new version"),
    domain.Wait.VOTE: gettext_lazy("ballot"),
    domain.Wait.CARRY: gettext_lazy("the group's position, as coordinator"),
}


def _waiting(
    row: Proposal, member: Member, loaded: selectors.Loaded | None
) -> list[tuple[selectors.Waiting, Member]]:
    """Return what the proposal waits for from the member's group, each with whom, as
    :func:`selectors.not_yet_responded` orders it (by the member's name key, then wait).

    A group's proposal, replayed for its page, read them with its events, and its
    members' names with its electorate (``loaded``): nothing more is read unless a
    member waited for is missing there. Any other (a federation's matter): one query.
    """
    if loaded is None or loaded.waits is None or loaded.row.group_id != member.group_id:
        return [
            (selectors.Waiting(w.member_id, w.wait, w.reminded_at), w.member)
            for w in selectors.waiting_in_group(row, group_id=member.group_id)
        ]
    ids = {str(w.member_id) for w in loaded.waits}
    people = loaded.named.people(ids)
    people.update(_names(ids - people.keys()))
    found = [(w, people[str(w.member_id)]) for w in loaded.waits if str(w.member_id) in people]
    found.sort(key=lambda pair: (pair[1].pseudonym_key, pair[0].wait))
    return found


def not_yet_responded(
    row: Proposal, member: Member, now: dt.datetime, loaded: selectors.Loaded | None = None
) -> dict[str, Any]:
    """Return who in the member's own group the proposal still waits for, and reminders.

    Never another group's members: compartments hold here as everywhere (the query
    itself is limited to the viewer's group; ``loaded``'s waits are of the proposal's
    group, used only when that is the viewer's).
    """
    people: dict[int, dict[str, Any]] = {}
    if row.closed_at is not None or member.group_id is None:
        return {"people": [], "can_remind": False}
    # Each label translated once for the page, not once for each member it names.
    said: dict[str, str] = {}
    for waiting, person in _waiting(row, member, loaded):
        entry = people.get(waiting.member_id)
        if entry is None:  # each person named once, however many things wait for them
            entry = people[waiting.member_id] = {
                "name": person.pseudonym,
                "me": waiting.member_id == member.pk,
                "what": [],
                "reminded_at": None,
            }
        label = said.get(waiting.wait)
        if label is None:
            label = said[waiting.wait] = str(PENDING_LABELS[domain.Wait(waiting.wait)])
        entry["what"].append(label)
        if waiting.reminded_at is not None and (
            entry["reminded_at"] is None or waiting.reminded_at > entry["reminded_at"]
        ):
            entry["reminded_at"] = waiting.reminded_at
    listed = sorted(people.values(), key=lambda p: p["name"].casefold())
    fresh = now - selectors.REMIND_EVERY
    for entry in listed:
        entry["remindable"] = not entry["me"] and (
            entry["reminded_at"] is None or entry["reminded_at"] <= fresh
        )
    return {"people": listed, "can_remind": any(e["remindable"] for e in listed)}


def _person_label(person: Member, viewer: Member, names: dict[str, str] | None = None) -> str:
    if person.group_id == viewer.group_id:
        return person.pseudonym
    names = _group_names() if names is None else names
    return _("a member of %(group)s") % {"group": names.get(str(person.group_id), "?")}


def _concerns_label(loaded: selectors.Loaded, member: Member) -> str | None:
    """Return whom a removal names, as the viewer may see them (None: not a removal)."""
    named = loaded.proposal.concerns
    if named is None:
        return None
    person = _names([named]).get(named)
    if person is None:
        return _("a former member")
    return _person_label(person, member)


def _responses(loaded: selectors.Loaded, member: Member) -> dict[str, Any]:
    """Return responses named for the member's own group, counted for other groups.

    In spokes mode each group deliberates on its own and speaks through the position its
    coordinator carries: another group's members' responses and reasons are its internal
    business, so they are not shown at all (the groups' positions are).
    """
    st = loaded.state
    spokes = loaded.proposal.spokes
    reasons = selectors.reasons(loaded, st.version)
    people = _who(loaded).people()
    mine, others = [], Counter[str]()
    for member_id, position in st.responses.items():
        person = people.get(member_id)
        if person is not None and person.group_id == member.group_id:
            mine.append(
                {
                    "name": person.pseudonym,
                    "position": forms.POSITION_LABELS[position],
                    "position_key": position.value,
                    "reason": reasons.get(member_id, ""),
                }
            )
        elif not spokes:
            others[position.value] += 1
    mine.sort(key=lambda r: r["name"].casefold())
    return {
        "mine": mine,
        "others": [(forms.POSITION_LABELS[Position(p)], n) for p, n in sorted(others.items())],
        "other_reasons": [
            reasons[m]
            for m in st.responses
            if not spokes
            and m in reasons
            and reasons[m]
            and (people.get(m) is None or people[m].group_id != member.group_id)
        ],
    }


def _vote_context(loaded: selectors.Loaded, member: Member) -> dict[str, Any]:
    st = loaded.state
    vote = st.vote
    if vote is None:
        return {}
    me = str(member.pk)
    spec = vote.spec
    open_ = st.phase in (domain.Phase.VOTE, domain.Phase.SELECTION_VOTE)
    # The domain numbers alternatives; their words are content, decrypted here.
    if len(spec.options) == 2 and not loaded.row.option_count:
        options = [_("adopt"), _("do not adopt")]
    else:
        options = [*loaded.row.options, _("none of these")]
    if st.mandate is not None:
        # A vote on a mandate proposal is always the choice among volunteers: its
        # options are member ids, named for this member as everywhere else.
        options = [_holder_label(o, member, loaded) for o in spec.options]
    spokes_vote = st.phase is domain.Phase.VOTE and loaded.proposal.spokes
    voter_key = str(member.group_id) if spokes_vote else me
    may_vote = domain.Action.VOTE in domain.actions(st, me)
    return {
        "vote": {
            "method": spec.method.value,
            "method_label": METHOD_LABELS[spec.method],
            "options": list(enumerate(options)),
            "ranks": list(range(1, len(options) + 1)),
            "scores": list(range(0, spec.max_score + 1)),
            "opens_at": vote.opens_at,
            "closes_at": vote.closes_at,
            "secret": vote.secret and not spokes_vote,
            "cast": vote.ballots_cast,
            "eligible": vote.eligible,
            "open": open_,
            "selection": st.phase is domain.Phase.SELECTION_VOTE,
            "selection_done": st.mandate is not None and not open_,
            # A vote ends at its close, or sooner if the proposal closed otherwise.
            "ended_at": min(vote.closes_at, st.at) if not open_ else None,
            "spokes": spokes_vote,
            "may_vote": may_vote,
            "has_voted": voter_key in vote.voters,
            "result": _result(vote.result, options) if vote.result is not None else None,
            **_tellers_context(loaded, member),
        }
    }


def _tellers_context(loaded: selectors.Loaded, member: Member) -> dict[str, Any]:
    """Return where a secret vote's count stands, for the page (empty: open ballots)."""
    st = loaded.state
    if st.vote is None or not st.vote.counted_by_tellers:
        return {}
    found = counting.progress(loaded.row, loaded.kind)
    if found is None:
        return {"by_tellers": True, "counting": False}
    return {
        "by_tellers": True,
        "counting": st.phase is domain.Phase.COUNTING,
        "tellers": found.tellers,
        "needed": found.needed,
        "given": found.given,
        "i_tell": member.pk in found.teller_ids,
        "i_gave": member.pk in found.given_ids,
        "board": st.vote.result is not None and st.vote.ballots_cast > 0 and found.given > 0,
    }


def _result(result: Any, labels: list[str]) -> dict[str, Any]:
    """Return a tally's outcome and audit trail as readable tables."""
    data = result.to_dict()
    audit = data["audit"]
    out: dict[str, Any] = {
        "winner": labels[result.winner] if result.winner is not None else None,
        "adopted": result.adopted,
        "quorum_met": result.quorum_met,
        "cast": result.cast,
        "abstained": result.abstained,
        "eligible": result.eligible,
        "counts": list(zip(labels, data["counts"], strict=False)),
        "tie_break": data.get("tie_break"),
        "kind": data.get("audit_kind"),
    }
    if "rounds" in audit:
        out["rounds"] = [
            {"number": i + 1, "counts": list(zip(labels, counts, strict=False))}
            for i, counts in enumerate(audit["rounds"])
        ]
        out["round_headers"] = list(range(1, len(audit["rounds"]) + 1))
        out["round_rows"] = [
            (label, [r[i] for r in audit["rounds"]]) for i, label in enumerate(labels)
        ]
        out["eliminated"] = [labels[i] for i in audit["eliminated"]]
    if "pairwise" in audit:
        out["pairwise"] = [(labels[i], row) for i, row in enumerate(audit["pairwise"])]
        out["strongest"] = [(labels[i], row) for i, row in enumerate(audit["strongest_paths"])]
        out["labels"] = labels
        out["ranking"] = [[labels[i] for i in tier] for tier in audit["ranking"]]
    return out


def _mandate_context(loaded: selectors.Loaded, member: Member) -> dict[str, Any]:
    st = loaded.state
    m = st.mandate
    if m is None:
        return {}
    me = str(member.pk)
    decisions = [
        {"matter": _matter_label(loaded.row, e.data.get("matter")), "text": e.text, "at": e.at}
        for e in selectors.mandate_decision_texts(loaded)
    ]
    return {
        "mandate": {
            "volunteering": st.phase is domain.Phase.VOLUNTEERING,
            "choosing": st.phase is domain.Phase.SELECTION_VOTE,
            "volunteering_closes_at": m.volunteering_closes_at,
            "volunteers": len(m.volunteers),
            "i_volunteered": me in m.volunteers,
            "can_volunteer": domain.why_not(st, me, domain.Action.VOLUNTEER) is None,
            # Why a member of the body may not volunteer (rotation), said before they try.
            "rotation_bars": st.phase is domain.Phase.VOLUNTEERING
            and me in st.eligible
            and me not in m.volunteers
            and domain.why_not(st, me, domain.Action.VOLUNTEER) is not None,
            "candidates": len(m.candidates),
            "holder": _holder_label(m.holder, member, loaded) if m.holder else None,
            "i_hold": m.holder == me and st.phase is domain.Phase.MANDATE,
            "chosen_by_lot": m.lot is not None,
            "lot_seed": m.lot.seed_hex if m.lot else None,
            "starts_at": m.starts_at,
            "expires_at": m.expires_at,
            "in_force": st.phase is domain.Phase.MANDATE,
            "scope": list(loaded.row.mandate_scope),
            "decisions": decisions,
            "recall_supporters": len(m.recall_supporters),
            "recall_needed": m.recall_needed,
            "i_support_recall": me in m.recall_supporters,
            "recalled_at": m.recalled_at,
            "decision_form": forms.MandateDecisionForm(scope=tuple(loaded.row.mandate_scope)),
            "no_one_chosen": _why_no_one_was_chosen(st),
            "chosen_by_vote": m.holder is not None and m.lot is None,
        }
    }


def _why_no_one_was_chosen(st: domain.ProposalState) -> str | None:
    """Return why volunteering ended without a temporary coordinator (None if one was chosen).

    The domain keeps who volunteered, who could be chosen and whom rotation left out.
    """
    m = st.mandate
    if m is None or m.holder is not None or st.phase is domain.Phase.VOLUNTEERING:
        return None
    if st.decision is None or st.decision.reached_by is not domain.ReachedBy.MANDATE:
        return None
    if not m.volunteers:
        return _("No eligible volunteer: nobody volunteered before volunteering closed.")
    if m.excluded and len(m.excluded) == len(m.volunteers):
        return ngettext(
            "No eligible volunteer: the one volunteer held an earlier mandate, and the "
            "charter's rotation rule bars them this time.",
            "No eligible volunteer: all %(n)d volunteers held earlier mandates, and the "
            "charter's rotation rule bars them this time.",
            len(m.volunteers),
        ) % {"n": len(m.volunteers)}
    return ngettext(
        "No eligible volunteer: of %(n)d volunteer, %(barred)d was barred by the rotation "
        "rule and the others had left the group.",
        "No eligible volunteer: of %(n)d volunteers, %(barred)d were barred by the "
        "rotation rule and the others had left the group.",
        len(m.volunteers),
    ) % {"n": len(m.volunteers), "barred": len(m.excluded)}


def _matter_label(row: Proposal, matter: str | None) -> str:
    labels = row.mandate_scope
    if matter is not None and matter.isdigit() and int(matter) < len(labels):
        return labels[int(matter)]
    return matter or ""


def _meeting_context(loaded: selectors.Loaded, member: Member) -> dict[str, Any]:
    st = loaded.state
    me = str(member.pk)
    record = selectors.meeting_record(loaded)
    context: dict[str, Any] = {
        "can_record_meeting": domain.Action.RECORD_MEETING in domain.actions(st, me)
    }
    if st.meeting is not None or (
        st.decision is not None and st.decision.reached_by is domain.ReachedBy.MEETING
    ):
        meeting = st.meeting
        notes = record.text if record else ""
        if not notes and loaded.row.meeting_id is not None:
            notes = loaded.row.meeting.notes
        context["meeting"] = {
            "outcome": OUTCOME_LABELS[meeting.outcome] if meeting else None,
            "attendance": meeting.attendance if meeting else None,
            "reached_by": REACHED_LABELS[meeting.reached_by] if meeting else None,
            "held_on": meeting.held_on if meeting else None,
            "confirmations": len(meeting.confirmations) if meeting else 0,
            "needed": meeting.needed if meeting else 0,
            "notes": notes,
            "can_confirm": domain.why_not(st, me, domain.Action.CONFIRM_MEETING) is None,
            # Why this member may not confirm (joined later, recorded it), said up front.
            "why_not_confirm": _why_not_confirm(st, me),
        }
    return context


def _why_not_confirm(st: domain.ProposalState, me: str) -> str | None:
    """Return why a member of the body may not confirm an open record (None: they may)."""
    if st.meeting is None or not st.is_open or me not in st.eligible:
        return None
    refusal = domain.why_not(st, me, domain.Action.CONFIRM_MEETING)
    return capfirst(translated(refusal)) if refusal is not None else None


def meeting_page(meeting: Meeting, member: Member, now: dt.datetime) -> dict[str, Any]:
    """Return the context of a meeting's page: what it decided, and who may confirm.

    Each decision is its own proposal (replayed here: a meeting records a handful), so
    what a member may do is what the domain says of each.
    """
    me = str(member.pk)
    charter = get_charter()
    names = {k.key: kind_name(k) for k in charter.kinds} if charter else {}
    decisions: list[dict[str, Any]] = []
    may_confirm, why_not = False, None
    for row in selectors.meeting_decisions(meeting):
        loaded = selectors.load(row, now=now)
        st = loaded.state
        record = st.meeting
        outcome = st.decision.outcome if st.decision is not None else None
        decisions.append(
            {
                "row": row,
                "url": url("proposals:detail", row.pk),
                "title": _title(row),
                "kind": names.get(row.kind_key, row.kind_key),
                "decided": OUTCOME_LABELS[record.outcome] if record else None,
                "how": REACHED_LABELS[record.reached_by] if record else None,
                "confirmations": len(record.confirmations) if record else 0,
                "needed": record.needed if record else 0,
                "open": st.is_open,
                "status": PHASE_LABELS[st.phase] if outcome is None else OUTCOME_LABELS[outcome],
                "outcome_key": outcome.value if outcome is not None else "",
                "until": st.next.at if st.next is not None else None,
                "concerns": _concerns_label(loaded, member),
            }
        )
        if st.is_open:
            refusal = domain.why_not(st, me, domain.Action.CONFIRM_MEETING)
            if refusal is None:
                may_confirm = True
            elif why_not is None:
                why_not = capfirst(translated(refusal))
    return {
        "meeting": meeting,
        "recorder": meeting.recorder.pseudonym,
        "notes_html": markdown.render(meeting.notes) if meeting.notes_ct else "",
        "decisions": decisions,
        "may_confirm": may_confirm,
        "why_not_confirm": None if may_confirm else why_not,
        "awaiting": any(d["open"] for d in decisions),
    }


def thread(comments: Iterable[Comment], member: Member) -> list[dict[str, Any]]:
    """Return a thread's messages, authors named only within the member's own group."""
    comments = list(comments)
    names = _group_names() if any(c.author.group_id != member.group_id for c in comments) else {}
    # Each author named once, however many of the page's messages are theirs.
    labels: dict[int, str] = {}
    for c in comments:
        if c.author_id not in labels:
            labels[c.author_id] = _person_label(c.author, member, names)
    return [{"author": labels[c.author_id], "at": c.created_at, "html": c.html} for c in comments]


class DecisionRow(NamedTuple):
    """One row of a decision log, checked against its digest.

    A tuple, so that the log's template unpacks each row's fields once instead of
    looking each up (fifty rows, eleven fields).
    """

    intact: bool
    chain: str
    seq: int
    title: str
    # The proposal the row links to (None: no proposal).
    proposal: int | None
    # None only for a record changed so that its date cannot be read (not intact).
    at: dt.datetime | None
    digest: str
    digest_short: str
    federation: bool
    outcome: Any
    reached_by: Any
    # The proposal's page ("" when no proposal).
    url: str


class _Read(NamedTuple):
    """What a record's stored columns say, apart from its title and its links."""

    intact: bool
    at: dt.datetime | None
    outcome: Any
    reached_by: Any


# What each record read lately says, by its stored columns (decision 0141). A pure
# function of those columns: a record changed in the database is another key and is
# checked afresh, so keeping the answer changes none. Nothing here was decrypted: titles,
# and the member a removal names, are read on each view.
_read: dict[tuple[int, str, str, str, str], _Read] = {}
_READ_HELD = 4096


def _reading(line: selectors.LogLine) -> _Read:
    key = (line.seq, line.kind, line.payload_text, line.prev_digest, line.digest)
    found = _read.get(key)
    if found is None:
        found = _read_afresh(line)
        if len(_read) >= _READ_HELD:
            _read.clear()
        _read[key] = found
    return found


def _read_afresh(line: selectors.LogLine) -> _Read:
    """Check a record against its digest and read what its row shows. A payload changed
    in the database may lack what a row shows: the row then shows what it can, as
    tampered (a record made by veche has it all)."""
    try:
        intact = self_consistent(line.record)
    except ChainError:  # not a JSON object: not a record at all
        intact = False
    p = line.payload if isinstance(line.payload, dict) else {}
    try:
        at = dt.datetime.fromisoformat(p["at"])
    except (KeyError, TypeError, ValueError):
        at, intact = None, False
    outcome: Any = line.kind
    how: Any = ""
    if line.kind == "decision":
        try:
            reached = domain.Outcome(p["outcome"])
            how = reached_label(reached, domain.ReachedBy(p["reached_by"]))
        except (KeyError, TypeError, ValueError):
            outcome, intact = "", False
        else:
            outcome = OUTCOME_LABELS.get(reached, p["outcome"])
    elif line.kind == "removal":
        outcome = _("Member removed; the group's keys were renewed")
    return _Read(intact=intact, at=at, outcome=outcome, reached_by=how)


def decision_rows(records: Iterable[selectors.LogLine]) -> list[DecisionRow]:
    """Return the decision log's records as table rows, each checked against its digest."""
    records = list(records)
    # The members removals name, read together (a page of removals is one query).
    removed = _removed_members(r.payload for r in records if r.kind == "removal")
    rows = []
    for r in records:
        read = _reading(r)
        title, proposal = "", r.proposal_id
        if r.kind == "decision":
            title = r.title
        elif r.kind == "removal":
            title, proposal = _removal(r.payload, proposal, removed)
        rows.append(
            DecisionRow(
                intact=read.intact,
                chain=r.chain,
                seq=r.seq,
                title=title,
                proposal=proposal,
                at=read.at,
                digest=r.digest,
                # What truncatechars(17) printed, without its Unicode-aware truncation.
                digest_short=f"{r.digest[:16]}…" if len(r.digest) > 17 else r.digest,
                federation=r.group_id is None,
                outcome=read.outcome,
                reached_by=read.reached_by,
                url=url("proposals:detail", proposal) if proposal else "",
            )
        )
    return rows


def _removed_member(payload: Any) -> int | None:
    member = payload.get("member") if isinstance(payload, dict) else None
    return member if isinstance(member, int) else None


def _removed_members(payloads: Iterable[Any]) -> dict[int, Member]:
    ids = {m for m in map(_removed_member, payloads) if m is not None}
    return {m.pk: m for m in selectors.people_named(ids)} if ids else {}


def _removal(
    payload: Any, proposal: int | None, removed: dict[int, Member]
) -> tuple[str, int | None]:
    """Return a removal's title, and the decision it carried out if any; ``removed``: the
    members removals name, by id."""
    p = payload if isinstance(payload, dict) else {}
    member_id = _removed_member(p)
    member = removed.get(member_id) if member_id is not None else None
    name = member.pseudonym if member else _("a member")
    if isinstance(p.get("decision"), int):
        return _("By the group's decision, %(name)s left the group") % {"name": name}, p["decision"]
    return _("A coordinator removed %(name)s from the group") % {"name": name}, proposal


# Records a page checks beyond the chain's checkpoint: a chain whose check lags far behind
# (never checked in full, or appended to while its last record was not what the check saw)
# costs a page this many, not its whole length. As many as a page shows: checking a link
# costs about what rendering a row does.
CHAIN_WINDOW = 50


def _records(lines: list[selectors.LogLine]) -> tuple[list[Record], tuple[Problem, ...]]:
    """Return the lines as the domain's records, and a problem for each that is not a
    record at all (a payload changed in the database into something not a JSON object,
    which the domain refuses to hold)."""
    records, problems = [], []
    for position, line in enumerate(lines):
        try:
            records.append(line.record)
        except ChainError:
            detail = _("its payload is not a JSON object")
            problems.append(Problem(ProblemKind.ALTERED, position, line.seq, str(detail)))
    return records, tuple(problems)


def chain_status(chain: str, newest: list[selectors.LogLine] | None = None) -> dict[str, Any]:
    """Return whether a decision chain verifies: from its checkpoint to its end.

    The checkpoint is where the last full check (``veche verify``) ended, moved on with
    each append while the chain stayed intact (decision 0137): usually the chain's last
    record, which the page checks is still what was verified. When more than
    :data:`CHAIN_WINDOW` records follow the checkpoint, the page checks the last
    ``CHAIN_WINDOW`` of them as a continuation of the record before them, and says which
    records it left to ``veche verify``. ``newest`` are the chain's newest stored records,
    oldest first, as the page read them (None: not read); what they miss is read here.
    """
    checked = selectors.checkpoint(chain)
    checked_seq = -1 if checked is None else checked.seq
    # The newest record (None: an empty chain).
    tip = (newest[-1].seq if newest else None) if newest is not None else selectors.last_seq(chain)
    unchecked = None
    window = tip is not None and tip - checked_seq > CHAIN_WINDOW
    # The first record to read: the one the window continues, or the checked one.
    first = (tip - CHAIN_WINDOW) if window else max(checked_seq, 0)  # type: ignore[operator]
    if newest and newest[0].seq <= first:
        # Made into domain records only from the first one checked: usually one.
        lines = [r for r in newest if r.seq >= first]
    elif tip is None:
        lines = []
    else:
        lines = selectors.log_lines(chain, after=first - 1)
    records, unreadable = _records(lines)
    if window:
        # The record just before the window anchors it; those before it wait for a full check.
        anchor, records = lines[0], records[1:]
        unchecked = {"first": checked_seq + 2, "last": anchor.seq + 1}
    if unreadable:
        report = VerifyReport(unreadable)
    elif window:
        report = verify(records, after=Head(count=anchor.seq + 1, digest=anchor.digest))
    elif checked is None:
        report = verify(records)
    else:
        report = verify_since(records, selectors.head_of(checked))  # type: ignore[arg-type]
    full = checked is not None and checked.checked_at is not None
    full_count = checked.checked_seq + 1 if full else 0  # type: ignore[union-attr, operator]
    return {
        "name": chain,
        "is_group": chain != chain_name(None),
        "count": tip + 1 if tip is not None else 0,
        "ok": report.ok,
        "problems": report.problems,
        "head": lines[-1].digest if lines else None,
        "checked_at": checked.checked_at if full else None,  # type: ignore[union-attr]
        "checked_count": full_count,
        # Records checked one by one as they were appended, after the last full check.
        "appended": (
            {"first": full_count + 1, "last": checked_seq + 1}
            if checked is not None and checked_seq + 1 > full_count
            else None
        ),
        "unchecked": unchecked,
    }
