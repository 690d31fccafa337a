"""What members read for the charter's data: decision kinds and voting methods.

The default charter's kind names are data stored with the federation, written in
English by ``veche.domain.charter.default_charter``. A kind whose stored name is still
the default name of its key is shown translated, with that name as the msgid; a kind
the federation renamed stays as the federation wrote it (its members wrote it in their
language). The names are listed here so that ``makemessages`` finds them; a test keeps
the list equal to the default charter's names.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy, gettext_noop

from veche.domain.charter import DecisionKind, default_charter
from veche.domain.voting import Method

DEFAULT_KIND_NAMES = (
    gettext_noop("How and when the group does its work"),
    gettext_noop("A quick response by the group to a fast-moving situation"),
    gettext_noop("Choosing the group's coordinator"),
    gettext_noop("Removing a member from the group"),
    gettext_noop("Common policy of the federation"),
    gettext_noop("Admitting a group to the federation"),
    gettext_noop("A disbursement from the common fund"),
    gettext_noop("Amending the charter"),
    gettext_noop("The group's own rules for its own matters"),
)

METHOD_LABELS = {
    Method.MAJORITY: gettext_lazy("simple majority"),
    Method.SUPERMAJORITY: gettext_lazy("supermajority"),
    Method.APPROVAL: gettext_lazy("approval"),
    Method.SCORE: gettext_lazy("score"),
    Method.IRV: gettext_lazy("instant-runoff"),
    Method.SCHULZE: gettext_lazy("Schulze (Condorcet)"),
}

_DEFAULT_NAMES = {kind.key: kind.name for kind in default_charter().kinds}


def kind_name(kind: DecisionKind) -> str:
    """Return the name members read for ``kind``: translated while it is the default one."""
    if _DEFAULT_NAMES.get(kind.key) == kind.name:
        return gettext(kind.name)
    return kind.name


def method_label(method: Method) -> str:
    """Return a voting method as members read it ("simple majority", "Schulze (Condorcet)")."""
    return str(METHOD_LABELS[method])
