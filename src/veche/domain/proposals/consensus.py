"""Consensus: members respond (or, in spokes mode, coordinators carry their groups'
positions) until everyone has agreed or the deadline comes.

At the deadline, :func:`close_consensus` adopts the proposal if quorum is met with no
standing block; otherwise an urgent proposal falls back to what its kind's charter says
(a vote, or a temporary coordinator), and any other closes not adopted.
"""

from __future__ import annotations

from datetime import datetime

from veche.domain.charter import MandateFallback, VoteFallback
from veche.domain.consensus import Position
from veche.domain.errors import InvalidEvent, NotEligible, _
from veche.domain.proposals import mandate, vote
from veche.domain.proposals.common import (
    Situation,
    close,
    consensus_count,
    own_group_coordinated,
    require_member,
    require_phase,
)
from veche.domain.proposals.events import GroupPositionCarried, Responded
from veche.domain.proposals.model import Fold, Outcome, Phase, ReachedBy, member_of

# --- guards ------------------------------------------------------------------------------------


def may_respond(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may respond now."""
    require_phase(s, Phase.CONSENSUS, doing=_("responding"))
    require_member(s, member, strict)


def may_carry(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may carry their group's position now (spokes mode)."""
    require_phase(s, Phase.CONSENSUS, doing=_("carrying a group's position"))
    if not s.proposal.spokes:
        raise InvalidEvent(_("only spokes-mode proposals take group positions"), field="group")
    if strict and own_group_coordinated(s, member) is None:
        raise NotEligible(
            _("only a coordinator of the group can carry its position"), field="group"
        )


# --- handlers ----------------------------------------------------------------------------------


def on_responded(fold: Fold, e: Responded, strict: bool) -> None:
    may_respond(fold, e.member, strict)
    if e.version != fold.version:
        raise InvalidEvent(
            _("the proposal was amended since; read the new version and respond again"),
            field="version",
        )
    fold.responses[e.member] = member_of(Position, e.position, "position")
    # Unanimity needs a response from every eligible member: until there are as many
    # responses, it is not counted (a replay would count again at each response).
    if (
        not fold.proposal.spokes
        and len(fold.responses) >= len(fold.eligible)
        and consensus_count(fold).unanimous
    ):
        close(fold, Outcome.ADOPTED, ReachedBy.CONSENSUS, e.at)


def on_carried(fold: Fold, e: GroupPositionCarried, strict: bool) -> None:
    may_carry(fold, e.coordinator, strict)
    if e.group not in fold.body_groups:
        raise NotEligible(_("that group is not part of this decision"), field="group")
    if strict and own_group_coordinated(fold, e.coordinator) != e.group:
        raise NotEligible(
            _("only a coordinator of the group can carry its position"), field="group"
        )
    fold.carried[e.group] = member_of(Position, e.position, "position")
    if consensus_count(fold).unanimous and len(fold.carried) == len(fold.body_groups):
        close(fold, Outcome.ADOPTED, ReachedBy.CONSENSUS, e.at)


# --- the deadline ------------------------------------------------------------------------------


def close_consensus(fold: Fold, at: datetime) -> None:
    """Close consensus at its deadline: adopt, fall back (urgent), or close not adopted."""
    counted = consensus_count(fold)
    # A meeting record that no one confirmed in time lapses with the phase it was for.
    fold.meeting = None
    if counted.reached:
        close(fold, Outcome.ADOPTED, ReachedBy.CONSENSUS, at)
        return
    fallback = fold.proposal.kind.fallback
    if not fold.proposal.urgent or fallback is None:
        close(fold, Outcome.NOT_ADOPTED, ReachedBy.CONSENSUS, at)
    elif isinstance(fallback, VoteFallback):
        vote.fall_back_to_vote(fold, fallback, at)
    elif isinstance(fallback, MandateFallback):
        mandate.seek_volunteers(fold, fallback, at)


def closes_at(fold: Fold) -> datetime | None:
    """Return when consensus closes."""
    return fold.consensus_closes_at
