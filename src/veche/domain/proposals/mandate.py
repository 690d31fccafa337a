"""The temporary coordinator: volunteering, the choice (lot or vote), the mandate, recall.

:func:`seek_volunteers` is what happens to an urgent proposal of a kind whose charter
falls back to a temporary coordinator when consensus has not been reached at its
deadline. Rotation is enforced, not advised: the previous holder may not volunteer, and
the choice is made only among the volunteers the charter's rotation allows.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from veche.domain.charter import MandateFallback, Selection
from veche.domain.consensus import needed_for
from veche.domain.errors import InvalidEvent, MandateError, NotEligible, _
from veche.domain.mandates import Lot, draw_lot, eligible_volunteers
from veche.domain.proposals.common import (
    Situation,
    close,
    instant,
    require_member,
    require_phase,
)
from veche.domain.proposals.events import (
    MandateDecisionRecorded,
    RecallSupported,
    Volunteered,
)
from veche.domain.proposals.model import (
    Fold,
    MandateDecision,
    MandateState,
    Outcome,
    Phase,
    ReachedBy,
    VoteState,
)
from veche.domain.proposals.vote import count_ballots, counted_by_tellers, goes_to_tellers, seed
from veche.domain.voting import Method, TallyResult, VoteSpec


def _fallback(s: Situation) -> MandateFallback:
    fallback = s.proposal.kind.fallback
    assert isinstance(fallback, MandateFallback)  # noqa: S101 - only mandate kinds get here
    return fallback


# --- volunteering ---------------------------------------------------------------------------


def seek_volunteers(fold: Fold, fallback: MandateFallback, at: datetime) -> None:
    """Open volunteering at the consensus deadline, for the charter's volunteering period."""
    fold.phase = Phase.VOLUNTEERING
    fold.mandate = MandateState(
        volunteering_closes_at=at + fallback.volunteer_period,
        volunteers=(),
        recall_needed=needed_for(len(fold.eligible), fallback.recall_share),
    )


def rotation_bars(s: Situation, member: str) -> bool:
    """Return whether the rotation rule bars ``member`` from this mandate now.

    The holder of the body's last mandate may not serve again; the stricter rule
    (nobody twice until every volunteer has served) depends on who else volunteers and
    is applied when the choice is made.
    """
    holders = s.context.holders_before(instant(s))
    return bool(holders) and holders[-1] == member


def may_volunteer(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may come forward as temporary coordinator now."""
    require_phase(s, Phase.VOLUNTEERING, doing=_("volunteering"))
    assert s.mandate is not None  # noqa: S101 - volunteering always carries a mandate
    require_member(s, member, strict)
    if member in s.mandate.volunteers:
        raise InvalidEvent(_("you have already volunteered"), field="member")
    if strict and rotation_bars(s, member):
        raise NotEligible(
            _(
                "you held this body's last mandate: the charter rotates temporary "
                "coordinators, so someone else serves this time"
            ),
            field="member",
        )


def on_volunteered(fold: Fold, e: Volunteered, strict: bool) -> None:
    may_volunteer(fold, e.member, strict)
    assert fold.mandate is not None  # noqa: S101 - checked by the guard
    fold.mandate = replace(fold.mandate, volunteers=(*fold.mandate.volunteers, e.member))


def close_volunteering(fold: Fold, at: datetime) -> None:
    """Choose among the volunteers the rotation allows: by lot, or open a vote among them."""
    assert fold.mandate is not None  # noqa: S101 - volunteering always carries a mandate
    fallback = _fallback(fold)
    present = [v for v in fold.mandate.volunteers if v in fold.eligible]
    holders = fold.context.holders_before(at)
    candidates = eligible_volunteers(present, holders, fallback.rotation)
    excluded = tuple(sorted(set(present) - set(candidates)))
    fold.mandate = replace(fold.mandate, candidates=candidates, excluded=excluded)
    if not candidates:
        close(fold, Outcome.NOT_ADOPTED, ReachedBy.MANDATE, at)
    elif len(candidates) == 1 or fallback.selection is Selection.LOT:
        lot = draw_lot(candidates, seed(fold, b"lot"))
        start_mandate(fold, lot.chosen, lot, at)
    else:
        fold.phase = Phase.SELECTION_VOTE
        fold.ballots = []
        fold.vote = VoteState(
            spec=VoteSpec(method=Method.APPROVAL, options=candidates),
            opens_at=at,
            closes_at=at + fallback.selection_period,
            secret=True,
            voters=frozenset(),
            ballots_cast=0,
            eligible=len(fold.eligible),
            counted_by_tellers=counted_by_tellers(fold.proposal, None),
        )


def close_selection_vote(fold: Fold, at: datetime) -> None:
    """Close the vote among volunteers: the winner holds the mandate (no ballots: a lot)."""
    assert fold.vote is not None and fold.mandate is not None  # noqa: S101 - selection vote
    if goes_to_tellers(fold):
        return
    choose_by_result(fold, count_ballots(fold), at)


def choose_by_result(fold: Fold, result: TallyResult, at: datetime) -> None:
    """Give the mandate to the vote's winner among volunteers (no winner: a lot)."""
    assert fold.vote is not None and fold.mandate is not None  # noqa: S101 - selection vote
    fold.vote = replace(fold.vote, result=result)
    if result.winner is not None:
        holder: str = fold.vote.spec.options[result.winner]
        start_mandate(fold, holder, None, at)
    else:
        lot = draw_lot(fold.mandate.candidates, seed(fold, b"lot"))
        start_mandate(fold, lot.chosen, lot, at)


def start_mandate(fold: Fold, holder: str, lot: Lot | None, at: datetime) -> None:
    """Give ``holder`` the mandate from ``at`` for the charter's length."""
    assert fold.mandate is not None  # noqa: S101 - only called within a mandate fallback
    fold.phase = Phase.MANDATE
    fold.mandate = replace(
        fold.mandate,
        holder=holder,
        lot=lot,
        starts_at=at,
        expires_at=at + _fallback(fold).length,
    )


# --- the mandate in force ---------------------------------------------------------------------


def may_decide(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may record a decision under the mandate now."""
    if s.phase is not Phase.MANDATE:
        m = s.mandate
        if m is not None and m.expires_at is not None:
            if m.recalled_at is not None:
                raise MandateError(_("the temporary coordinator was recalled"), field="at")
            if instant(s) >= m.expires_at:
                raise MandateError(
                    _("the mandate expired at %(expires)s"),
                    params={"expires": m.expires_at.isoformat()},
                    field="at",
                )
        raise MandateError(_("there is no mandate in force on this proposal"), field="at")
    assert s.mandate is not None  # noqa: S101 - the mandate phase always carries one
    if member != s.mandate.holder:
        raise NotEligible(_("only the temporary coordinator decides under the mandate"))
    # A holder who has left the body since being chosen no longer speaks for it.
    require_member(s, member, strict)


def on_mandate_decision(fold: Fold, e: MandateDecisionRecorded, strict: bool) -> None:
    may_decide(fold, e.holder, strict)
    assert fold.mandate is not None  # noqa: S101 - checked by the guard
    if e.matter not in fold.proposal.mandate_scope:
        raise MandateError(_("that matter is outside the mandate's scope"), field="matter")
    decision = MandateDecision(holder=e.holder, matter=e.matter, at=e.at)
    fold.mandate = replace(fold.mandate, decisions=(*fold.mandate.decisions, decision))


def may_recall(s: Situation, member: str, strict: bool = True) -> None:
    """Raise unless ``member`` may support recalling the temporary coordinator now."""
    require_phase(s, Phase.MANDATE, doing=_("recalling the temporary coordinator"))
    assert s.mandate is not None  # noqa: S101 - the mandate phase always carries one
    require_member(s, member, strict)
    if member in s.mandate.recall_supporters:
        raise InvalidEvent(_("you already support the recall"), field="member")


def on_recall(fold: Fold, e: RecallSupported, strict: bool) -> None:
    may_recall(fold, e.member, strict)
    assert fold.mandate is not None  # noqa: S101 - checked by the guard
    supporters = fold.mandate.recall_supporters | {e.member}
    fold.mandate = replace(fold.mandate, recall_supporters=supporters)
    if len(supporters & fold.eligible) >= fold.mandate.recall_needed:
        fold.mandate = replace(fold.mandate, recalled_at=e.at)
        close(fold, Outcome.RECALLED, ReachedBy.MANDATE, e.at)


def expire(fold: Fold, at: datetime) -> None:
    """End the mandate at its expiry: decided if the holder decided anything."""
    assert fold.mandate is not None  # noqa: S101 - the mandate phase always carries one
    outcome = Outcome.DECIDED if fold.mandate.decisions else Outcome.MANDATE_EXPIRED
    close(fold, outcome, ReachedBy.MANDATE, at)


# --- deadlines --------------------------------------------------------------------------------


def volunteering_closes_at(fold: Fold) -> datetime | None:
    """Return when volunteering closes."""
    return fold.mandate.volunteering_closes_at if fold.mandate is not None else None


def selection_closes_at(fold: Fold) -> datetime | None:
    """Return when the vote among volunteers closes."""
    return fold.vote.closes_at if fold.vote is not None else None


def expires_at(fold: Fold) -> datetime | None:
    """Return when the mandate expires."""
    return fold.mandate.expires_at if fold.mandate is not None else None
