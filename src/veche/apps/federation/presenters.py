"""What the "Our rules" page shows: the charter in force in words, a group's own rules, history.

Only the member's own group's rules are shown (compartments): other groups' rules are
their own business, like their members.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from veche.apps.federation import selectors, wording
from veche.apps.federation.models import CharterVersion, GroupRulesVersion
from veche.domain.charter import (
    Charter,
    GroupRules,
    Scope,
    apply_group_rules,
    changes,
    rules_changes,
)


def charter_kinds(charter: Charter) -> list[dict[str, Any]]:
    """Return every kind of the charter as a name, a scope badge and sentences."""
    return [
        {
            "key": kind.key,
            "name": wording.kind_name(kind),
            "group": kind.scope is Scope.GROUP,
            "lines": wording.kind_lines(kind),
        }
        for kind in charter.kinds
    ]


def _version_row(version: CharterVersion, before: CharterVersion | None) -> dict[str, Any]:
    charter = selectors.charter_of(version)
    found = [] if before is None else changes(selectors.charter_of(before), charter)
    previous = selectors.charter_of(before) if before is not None else None
    return {
        "number": version.number,
        "in_force_from": version.in_force_from,
        "digest": version.digest,
        "proposal_id": version.proposal_id,
        "decision_seq": version.decision_seq,
        "founding": before is None,
        "changes": wording.change_lines(found, previous, charter),
    }


def charter_history(versions: Iterable[CharterVersion]) -> list[dict[str, Any]]:
    """Return a page of charter versions (newest first), each with what it changed."""
    versions = list(versions)
    if not versions:
        return []
    numbers = [v.number for v in versions]
    earlier = {v.number: v for v in CharterVersion.objects.filter(number=min(numbers) - 1)}
    by_number = {v.number: v for v in versions} | earlier
    return [_version_row(v, by_number.get(v.number - 1)) for v in versions]


def _rules_lines(charter: Charter, rules: GroupRules) -> list[dict[str, Any]]:
    """Return a group's own rules as lines: the kind, its own value, the charter's, in force."""
    own = apply_group_rules(charter, rules)
    lines = []
    for kind in charter.kinds:
        rule = rules.kinds.get(kind.key)
        if rule is None:
            continue
        mine = own.kind(kind.key).consensus
        parts = []
        if rule.period is not None:
            parts.append(
                {
                    "what": _("consensus period"),
                    "value": wording.duration(rule.period),
                    "charter": wording.duration(kind.consensus.period),
                    "in_force": mine.period == rule.period,
                }
            )
        if rule.quorum is not None:
            parts.append(
                {
                    "what": _("consensus quorum"),
                    "value": wording.share(rule.quorum),
                    "charter": wording.share(kind.consensus.quorum),
                    "in_force": mine.quorum == rule.quorum,
                }
            )
        lines.append({"name": wording.kind_name(kind), "parts": parts})
    return lines


def group_rules(group_id: int, charter: Charter) -> dict[str, Any]:
    """Return a group's own rules in force and their history (its members only)."""
    versions: list[GroupRulesVersion] = list(selectors.group_rules_versions(group_id=group_id)[:20])
    in_force = versions[0] if versions else None
    history = []
    for i, version in enumerate(versions):
        before = versions[i + 1] if i + 1 < len(versions) else None
        found = rules_changes(selectors.rules_of(before), selectors.rules_of(version))
        history.append(
            {
                "number": version.number,
                "in_force_from": version.in_force_from,
                "proposal_id": version.proposal_id,
                "decision_seq": version.decision_seq,
                "changes": wording.change_lines(found, charter),
            }
        )
    return {
        "version": in_force,
        "lines": _rules_lines(charter, selectors.rules_of(in_force)),
        "history": history,
        "open_kinds": [
            wording.kind_name(k)
            for k in charter.kinds
            if k.scope is Scope.GROUP and k.group_bounds is not None
        ],
    }
