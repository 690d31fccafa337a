"""What happens at a proposal's deadline, and when, in words members read.

Every figure comes from the charter's decision kind (its consensus rule and fallback),
never from a constant here, and every sentence from :mod:`veche.apps.federation.wording`
(the rules page says the same words): an amended charter changes what these pages say.
Two uses: the new-proposal form shows, for every kind before anything is submitted, how
long consensus may take, the shortest deadline an author may set, and what an urgent
proposal falls back to; a proposal's page says what will happen at its own deadline,
with the instants (docs/decisions/0098).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from veche.apps.federation import wording
from veche.domain import proposals as domain
from veche.domain.charter import Charter, MandateFallback, VoteFallback


def kind_rules(charter: Charter) -> list[dict[str, Any]]:
    """Return, for every kind, what the new-proposal form shows before submitting."""
    return [
        {
            "key": kind.key,
            "name": wording.kind_name(kind),
            "who": wording.who_decides(kind),
            "consensus": wording.consensus_words(kind),
            "shortest": wording.duration(kind.consensus.min_period),
            "urgent": kind.urgent_allowed and kind.fallback is not None,
            "fallback": wording.urgency_words(kind),
        }
        for kind in charter.kinds
    ]


def rotation(loaded: Any) -> str | None:
    """Return the rotation rule a proposal's mandate follows (None: it has no mandate)."""
    fallback = loaded.kind.fallback
    return wording.rotation_words(fallback) if isinstance(fallback, MandateFallback) else None


def at_deadline(loaded: Any) -> dict[str, Any] | None:
    """Return what happens at an open proposal's consensus deadline, and when.

    None once consensus is over (what happens next is then the phase's own business)
    and for a meeting's record.
    """
    st = loaded.state
    kind = loaded.kind
    if st.phase not in (domain.Phase.DRAFT, domain.Phase.CONSENSUS) or loaded.proposal.from_meeting:
        return None
    deadline = st.consensus_closes_at
    urgent = loaded.proposal.urgent
    fallback = kind.fallback if urgent else None
    result: dict[str, Any] = {"deadline": deadline, "urgent": urgent, "sentences": []}
    if fallback is None:
        result["headline"] = _("Without consensus by the deadline, the proposal is not adopted.")
        return result
    result["sentences"] = wording.urgency_words(kind)
    if isinstance(fallback, VoteFallback):
        result["headline"] = _("Without consensus by the deadline, it goes to a vote.")
        if deadline is not None:
            result["vote_closes_at"] = deadline + fallback.period
    else:
        result["headline"] = _(
            "Without consensus by the deadline, a temporary coordinator is chosen."
        )
        if deadline is not None:
            result["volunteering_closes_at"] = deadline + fallback.volunteer_period
        # The matters a coordinator could decide, shown before anyone volunteers.
        result["scope"] = list(loaded.row.mandate_scope)
    return result
