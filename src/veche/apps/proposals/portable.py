"""A group's record to take away: its decision chains, and its content as a member reads it.

``veche export --group NAME FILE`` writes, as JSON Lines, one header line, then each chain
the member may read (the group's, then the federation's), each opened by a marker line
``{"chain": ..., "head": {"count", "digest"}}`` and followed by its records exactly as
``/decisions/<chain>.jsonl`` exports them; then the readable content, one
``{"content": ...}`` line per item: proposals (every version's title and text, the
alternatives, the mandate's matters, the decision it led to), the words that went with
what members did (reasons, decisions under a mandate, meeting notes), messages, and who a
coordinator removed. ``veche verify FILE`` checks the chains and skips the content,
which the chains do not cover (docs/decisions/0114-portable-records.md).

The content is decrypted with the member's own keys (the caller makes them the current
keyring) and named by the pages' rule: pseudonyms of the member's own group only; other
groups' members by their group's name, and their reasons unattributed, as on the
federation's pages. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from veche.apps.accounts.models import Member
from veche.apps.federation.models import Group
from veche.apps.federation.selectors import get_charter
from veche.apps.proposals import selectors
from veche.apps.proposals.models import (
    Comment,
    DecisionRecord,
    Proposal,
    ProposalEvent,
    ProposalVersion,
    chain_name,
)
from veche.domain import proposals as domain
from veche.domain.charter import Mode
from veche.domain.decisions_log import records_to_jsonl

# The format's version, in the header line: {"veche_export": VERSION, ...}.
VERSION = 1
# What each kind of event's words are, by the event's type. Open ballots are not
# exported: the tally in the decision is the vote's record.
WORDS = {
    domain.Responded.TYPE: "reason",
    domain.GroupPositionCarried.TYPE: "reason",
    domain.MandateDecisionRecorded.TYPE: "decision",
    domain.MeetingRecorded.TYPE: "notes",
}


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class _Names:
    """Who did something, by the pages' rule: a pseudonym within the member's own group,
    the group's name for anyone else (their pseudonyms are their group's to read)."""

    def __init__(self, member: Member) -> None:
        self.group_id = member.group_id
        self.groups = dict(Group.objects.values_list("pk", "name"))
        self.people: dict[int, Member] = {}

    def _person(self, person_id: int) -> Member:
        person = self.people.get(person_id)
        if person is None:
            person = self.people[person_id] = Member.objects.get(pk=person_id)
        return person

    def of(self, person_id: int) -> dict[str, str]:
        person = self._person(person_id)
        if person.group_id == self.group_id:
            return {"pseudonym": person.pseudonym}
        return {"group": self.groups.get(person.group_id, "?")}

    def is_own(self, person_id: int) -> bool:
        return self._person(person_id).group_id == self.group_id


def chains_for(member: Member) -> list[str]:
    """Return the chains a member reads: their group's, then the federation's."""
    return [chain_name(member.group_id), chain_name(None)]


def _chain_lines(chain: str) -> Iterator[str]:
    records = selectors.log_records(chain)
    digest = records[-1].digest if records else None
    yield _line({"chain": chain, "head": {"count": len(records), "digest": digest}})
    yield records_to_jsonl(records)


def _proposal(row: Proposal, names: _Names, kinds: dict[str, Any]) -> dict[str, Any]:
    kind = kinds.get(row.kind_key)
    record = DecisionRecord.objects.filter(proposal=row).first()
    versions = ProposalVersion.objects.filter(proposal=row).order_by("number")
    return {
        "content": "proposal",
        "proposal": row.pk,
        "chain": chain_name(None if row.federation_wide else row.group_id),
        "decision": {"seq": record.seq, "digest": record.digest} if record else None,
        "kind": row.kind_key,
        "kind_name": kind.name if kind else row.kind_key,
        "author": names.of(row.author_id),
        "created_at": _iso(row.created_at),
        "urgent": row.urgent,
        "deadline": _iso(row.deadline),
        "versions": [
            {
                "number": v.number,
                "title": v.title,
                "text": v.body,
                "created_at": _iso(v.created_at),
            }
            for v in versions
        ],
        "alternatives": list(row.options) if row.option_count else [],
        "mandate_matters": list(row.mandate_scope) if row.mandate_scope_count else [],
        "phase": row.phase,
        "outcome": row.outcome or None,
        "reached_by": row.reached_by or None,
        "closed_at": _iso(row.closed_at),
    }


def _words(row: Proposal, names: _Names, spokes: bool) -> Iterator[dict[str, Any]]:
    """Yield the words that went with the proposal's events, as its page shows them."""
    events = ProposalEvent.objects.filter(proposal=row, type__in=list(WORDS)).order_by("seq")
    for event in events:
        if not event.text_ct:
            continue
        own = names.is_own(event.actor_id)
        by: dict[str, str] | None = names.of(event.actor_id)
        if not own:
            if event.type == domain.Responded.TYPE and not spokes:
                by = None  # other groups' reasons are shown, never who gave them
            elif event.type != domain.MandateDecisionRecorded.TYPE:
                continue  # another group's internal business (spokes mode)
        yield {
            "content": WORDS[event.type],
            "proposal": row.pk,
            "event": event.seq,
            "type": event.type,
            "at": _iso(event.at),
            "by": by,
            "data": event.data,
            "text": event.text,
        }


def _messages(member: Member, names: _Names, proposals: list[Proposal]) -> Iterator[dict[str, Any]]:
    threads = Comment.objects.filter(
        Q(proposal__in=proposals) | Q(group_id=member.group_id, proposal__isnull=True)
    ).select_related("proposal")
    for comment in threads.order_by("created_at", "pk"):
        yield {
            "content": "message",
            "proposal": comment.proposal_id,
            "thread": f"proposal-{comment.proposal_id}" if comment.proposal_id else "group",
            "at": _iso(comment.created_at),
            "by": names.of(comment.author_id),
            "text": comment.body,
        }


def _removals(chain: str, names: _Names) -> Iterator[dict[str, Any]]:
    for record in DecisionRecord.objects.filter(chain=chain, kind="removal").order_by("seq"):
        removed = record.payload.get("member")
        yield {
            "content": "removal",
            "chain": chain,
            "decision": {"seq": record.seq, "digest": record.digest},
            "member": names.of(removed) if isinstance(removed, int) else None,
        }


def group_export(*, member: Member, now: dt.datetime) -> Iterator[str]:
    """Yield the member's group's export as JSON Lines (see the module docstring).

    Run with the member's keys as the current keyring: content they cannot open comes
    out as "[encrypted]", as on a page.
    """
    charter = get_charter()
    kinds = {k.key: k for k in charter.kinds} if charter else {}
    group = Group.objects.get(pk=member.group_id)
    chains = chains_for(member)
    yield _line(
        {
            "veche_export": VERSION,
            "group": group.name,
            "exported_at": now.isoformat(),
            "chains": chains,
        }
    )
    for chain in chains:
        yield from _chain_lines(chain)
    names = _Names(member)
    proposals = list(selectors.visible_proposals(member=member).order_by("created_at", "pk"))
    for row in proposals:
        yield _line(_proposal(row, names, kinds))
        kind = kinds.get(row.kind_key)
        spokes = bool(kind and kind.mode is Mode.SPOKES)
        for item in _words(row, names, spokes):
            yield _line(item)
    for item in _messages(member, names, proposals):
        yield _line(item)
    for item in _removals(chains[0], names):
        yield _line(item)
