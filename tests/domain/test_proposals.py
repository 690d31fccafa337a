"""The proposal lifecycle: every transition, who may act, and the decisions it yields."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from fractions import Fraction

import pytest

from tests.domain.builders import (
    DAY,
    HOUR,
    SEED,
    T0,
    History,
    at,
    awaits,
    federation_electorate,
    federation_kind,
    group_electorate,
    group_kind,
    propose,
)
from veche.domain.charter import (
    MandateFallback,
    Mode,
    Rotation,
    Selection,
    SpokesWeight,
    VoteFallback,
)
from veche.domain.errors import (
    DomainError,
    InvalidBallot,
    InvalidEvent,
    MandateError,
    NotEligible,
    ProposalClosed,
)
from veche.domain.proposals import (
    Action,
    Amended,
    BallotCast,
    Context,
    Electorate,
    GroupPositionCarried,
    MandateDecisionRecorded,
    MeetingConfirmed,
    MeetingRecorded,
    Outcome,
    PastMandate,
    Phase,
    Position,
    Published,
    ReachedBy,
    RecallSupported,
    Responded,
    Step,
    Volunteered,
    Withdrawn,
    actions,
    check,
    create,
    require_reason,
    state,
)
from veche.domain.voting import Method

AGREE, ASIDE, OBJECT, BLOCK = (
    Position.AGREE,
    Position.STAND_ASIDE,
    Position.OBJECT,
    Position.BLOCK,
)
DEADLINE = at(days=7)  # the test kinds' consensus period


def group_history(kind=None, *, n: int = 5, others: int = 0, **kwargs) -> History:  # type: ignore[no-untyped-def]
    electorate = group_electorate(n, others=others)
    proposal = propose(kind or group_kind(), electorate, **kwargs)
    return History.of(proposal, electorate)


def respond(history: History, member: str, position: Position, when: datetime) -> None:
    history.do(Responded(member, position, when, version=history.at(when).version))


# --- creating -----------------------------------------------------------------------------


def test_new_proposal_opens_for_consensus_until_the_charter_period() -> None:
    h = group_history()
    st = h.at(T0)
    assert st.phase is Phase.CONSENSUS
    assert st.is_open
    assert st.opened_at == T0
    assert st.consensus_closes_at == DEADLINE
    assert st.next is not None
    assert (st.next.step, st.next.at) == (Step.CONSENSUS_CLOSES, DEADLINE)
    assert st.eligible == frozenset({"m1", "m2", "m3", "m4", "m5"})
    assert st.decision is None


def test_a_requested_deadline_within_the_period_is_kept() -> None:
    h = group_history(deadline=at(days=2))
    assert h.at(T0).consensus_closes_at == at(days=2)


def test_deadline_beyond_the_charter_period_is_rejected() -> None:
    with pytest.raises(InvalidEvent) as caught:
        group_history(deadline=at(days=7, seconds=1))
    assert caught.value.field == "deadline"


def test_deadline_in_the_past_is_rejected() -> None:
    with pytest.raises(InvalidEvent):
        group_history(deadline=T0)


def test_urgent_proposal_of_a_kind_that_does_not_allow_it_is_rejected() -> None:
    with pytest.raises(InvalidEvent) as caught:
        group_history(urgent=True)
    assert caught.value.field == "urgent"


def test_author_outside_every_group_cannot_propose() -> None:
    with pytest.raises(NotEligible):
        group_history(author="stranger")


def test_member_cannot_propose_on_another_groups_matter() -> None:
    with pytest.raises(NotEligible) as caught:
        group_history(others=2, group="h")
    assert caught.value.field == "group"


def test_federation_proposal_belongs_to_the_authors_group() -> None:
    electorate = federation_electorate()
    proposal = propose(federation_kind(Mode.ASSEMBLY), electorate, author="b2", group="a")
    assert proposal.group == "b"


@pytest.mark.parametrize(
    "options",
    [("only one",), ("a", "a"), ("a", " a "), ("a", "  "), tuple(f"o{i}" for i in range(21))],
)
def test_bad_options_are_rejected(options: tuple[str, ...]) -> None:
    with pytest.raises(InvalidEvent) as caught:
        group_history(options=options)
    assert caught.value.field == "options"


def test_options_are_trimmed() -> None:
    assert group_history(options=(" a ", "b")).proposal.options == ("a", "b")


def test_urgent_mandate_proposal_needs_a_scope() -> None:
    kind = group_kind(fallback=MandateFallback())
    with pytest.raises(InvalidEvent) as caught:
        group_history(kind, urgent=True, mandate_scope=(" ",))
    assert caught.value.field == "mandate_scope"


def test_short_seed_is_rejected() -> None:
    with pytest.raises(InvalidEvent) as caught:
        create(
            proposal_id="p",
            kind=group_kind(),
            author="m1",
            electorate=group_electorate(),
            at=T0,
            seed=b"short",
        )
    assert caught.value.field == "seed"


def test_naive_creation_time_is_rejected() -> None:
    with pytest.raises(InvalidEvent):
        group_history(created=datetime(2025, 3, 1, 12))  # noqa: DTZ001


def test_naive_deadline_is_rejected() -> None:
    with pytest.raises(InvalidEvent):
        group_history(deadline=datetime(2025, 3, 2, 12))  # noqa: DTZ001


# --- consensus ---------------------------------------------------------------------------


def test_everyone_agreeing_adopts_before_the_deadline() -> None:
    h = group_history()
    for i, member in enumerate(["m1", "m2", "m3", "m4"]):
        respond(h, member, AGREE, at(hours=i))
    respond(h, "m5", ASIDE, at(hours=5))
    st = h.at(at(hours=6))
    assert st.phase is Phase.CLOSED
    assert not st.is_open
    assert st.next is None
    assert st.decision is not None
    assert st.decision.outcome is Outcome.ADOPTED
    assert st.decision.reached_by is ReachedBy.CONSENSUS
    assert st.decision.at == at(hours=5)
    assert st.decision.tally["consensus"]["positions"]["stand_aside"] == 1


def test_an_objection_prevents_early_close_but_not_adoption_at_the_deadline() -> None:
    h = group_history()
    for i, member in enumerate(["m1", "m2", "m3", "m4"]):
        respond(h, member, AGREE, at(hours=i))
    respond(h, "m5", OBJECT, at(hours=5))
    assert h.at(DEADLINE - timedelta(seconds=1)).phase is Phase.CONSENSUS
    st = h.at(DEADLINE)
    assert st.decision is not None
    assert st.decision.outcome is Outcome.ADOPTED
    assert st.decision.at == DEADLINE


def test_quorum_missed_is_not_adopted_at_the_deadline() -> None:
    h = group_history()
    respond(h, "m1", AGREE, at(hours=1))
    respond(h, "m2", AGREE, at(hours=2))
    st = h.at(at(days=30))
    assert st.decision is not None
    assert st.decision.outcome is Outcome.NOT_ADOPTED
    assert st.decision.reached_by is ReachedBy.CONSENSUS
    assert st.decision.at == DEADLINE


def test_quorum_met_without_block_is_adopted_at_the_deadline() -> None:
    h = group_history()
    for i, member in enumerate(["m1", "m2", "m3"]):
        respond(h, member, AGREE, at(hours=i))
    assert h.at(DEADLINE).decision.outcome is Outcome.ADOPTED  # type: ignore[union-attr]


def test_a_single_block_stops_the_proposal_by_default() -> None:
    h = group_history()
    for i, member in enumerate(["m1", "m2", "m3", "m4"]):
        respond(h, member, AGREE, at(hours=i))
    respond(h, "m5", BLOCK, at(hours=5))
    assert h.at(at(hours=6)).phase is Phase.CONSENSUS
    assert h.at(DEADLINE).decision.outcome is Outcome.NOT_ADOPTED  # type: ignore[union-attr]


@pytest.mark.parametrize(("blocks", "outcome"), [(1, Outcome.ADOPTED), (2, Outcome.NOT_ADOPTED)])
def test_it_takes_the_charters_number_of_blocks_to_stop(blocks: int, outcome: Outcome) -> None:
    h = group_history(group_kind(blocks_to_stop=2))
    for i in range(1, 6):
        respond(h, f"m{i}", BLOCK if i <= blocks else AGREE, at(hours=i))
    assert h.at(DEADLINE).decision.outcome is outcome  # type: ignore[union-attr]


def test_a_later_response_replaces_the_earlier_one() -> None:
    h = group_history()
    respond(h, "m2", BLOCK, at(hours=1))
    respond(h, "m2", AGREE, at(hours=2))
    st = h.at(at(hours=3))
    assert st.responses == {"m2": AGREE}
    assert st.consensus.blocks == 0


def test_responding_after_close_is_refused() -> None:
    h = group_history()
    with pytest.raises(ProposalClosed):
        h.do(Responded("m1", AGREE, DEADLINE))


def test_nobody_responds_twice_to_a_closed_proposal_after_early_adoption() -> None:
    h = group_history(n=2)
    respond(h, "m1", AGREE, at(hours=1))
    respond(h, "m2", AGREE, at(hours=2))
    with pytest.raises(ProposalClosed):
        h.do(Responded("m1", BLOCK, at(hours=3)))


def test_awaits_the_members_who_have_not_responded() -> None:
    h = group_history()
    respond(h, "m1", AGREE, at(hours=1))
    st = h.at(at(hours=2))
    assert not awaits(st, "m1")
    assert awaits(st, "m2")
    assert not awaits(st, "stranger")


def test_positions_other_than_agree_need_a_reason() -> None:
    require_reason(AGREE, "")
    require_reason(BLOCK, "it harms the group")
    for position in (ASIDE, OBJECT, BLOCK):
        with pytest.raises(InvalidEvent) as caught:
            require_reason(position, "  ")
        assert caught.value.field == "reason"


# --- who may act ---------------------------------------------------------------------------


def test_non_member_cannot_respond() -> None:
    h = group_history()
    with pytest.raises(NotEligible):
        h.do(Responded("stranger", AGREE, at(hours=1)))


def test_member_of_another_group_cannot_respond_to_a_group_matter() -> None:
    h = group_history(others=3)
    with pytest.raises(NotEligible) as caught:
        h.do(Responded("o1", AGREE, at(hours=1)))
    assert caught.value.field == "member"


def test_history_replay_is_lenient_about_members_who_left() -> None:
    h = group_history()
    for i, member in enumerate(["m2", "m3", "m4"]):
        respond(h, member, AGREE, at(hours=i))
    # m4 leaves; m5 and m6 join.
    now_electorate = Electorate({"g": frozenset({"m1", "m2", "m3", "m5", "m6"})})
    context = Context(now_electorate)
    st = state(h.proposal, h.events, context, at(hours=5))
    assert "m4" not in st.responses
    assert st.consensus.responded == 2
    assert not st.consensus.quorum_met
    # A new event from someone who left is refused, though their old one replayed.
    with pytest.raises(NotEligible):
        check(h.proposal, h.events, Responded("m4", AGREE, at(hours=6)), context, at(hours=6))
    decision = state(h.proposal, h.events, context, DEADLINE).decision
    assert decision is not None
    assert decision.outcome is Outcome.NOT_ADOPTED


# --- amending, drafts, withdrawal ----------------------------------------------------------


def test_amending_resets_responses_and_refuses_stale_versions() -> None:
    h = group_history()
    respond(h, "m2", AGREE, at(hours=1))
    respond(h, "m3", BLOCK, at(hours=2))
    st = h.do(Amended("m1", at(hours=3), version=2))
    assert st.version == 2
    assert st.responses == {}
    assert st.phase is Phase.CONSENSUS
    with pytest.raises(InvalidEvent) as caught:
        h.do(Responded("m2", AGREE, at(hours=4), version=1))
    assert caught.value.field == "version"
    st = h.do(Responded("m2", AGREE, at(hours=4), version=2))
    assert st.responses == {"m2": AGREE}


def test_versions_follow_each_other_one_by_one() -> None:
    h = group_history()
    with pytest.raises(InvalidEvent):
        h.do(Amended("m1", at(hours=1), version=3))


def test_only_the_author_amends() -> None:
    h = group_history()
    with pytest.raises(NotEligible):
        h.do(Amended("m2", at(hours=1), version=2))


def test_adoption_records_the_amended_version() -> None:
    h = group_history(n=2)
    h.do(Amended("m1", at(hours=1), version=2))
    respond(h, "m1", AGREE, at(hours=2))
    st = h.do(Responded("m2", AGREE, at(hours=3), version=2))
    assert st.decision is not None
    assert st.decision.version == 2


def test_a_draft_opens_when_its_author_publishes_it() -> None:
    h = group_history(draft=True)
    st = h.at(at(days=30))
    assert st.phase is Phase.DRAFT
    assert st.next is not None and st.next.step is Step.PUBLISH and st.next.at is None
    with pytest.raises(ProposalClosed):
        h.do(Responded("m2", AGREE, at(days=30)))
    h.do(Amended("m1", at(days=30, hours=1), version=2))
    st = h.do(Published("m1", at(days=31)))
    assert st.phase is Phase.CONSENSUS
    assert st.opened_at == at(days=31)
    assert st.consensus_closes_at == at(days=38)
    assert st.version == 2


def test_only_the_author_publishes() -> None:
    h = group_history(draft=True)
    with pytest.raises(NotEligible):
        h.do(Published("m2", at(hours=1)))


def test_publishing_twice_is_refused() -> None:
    h = group_history(draft=True)
    h.do(Published("m1", at(hours=1)))
    with pytest.raises(ProposalClosed):
        h.do(Published("m1", at(hours=2)))


def test_publishing_checks_the_deadline_against_the_publication_time() -> None:
    h = group_history(draft=True, deadline=at(days=10))
    with pytest.raises(InvalidEvent):
        h.do(Published("m1", at(hours=1)))
    st = h.do(Published("m1", at(days=4)))
    assert st.consensus_closes_at == at(days=10)


def test_publishing_with_a_deadline_beyond_the_period_is_rejected() -> None:
    h = group_history(draft=True)
    with pytest.raises(InvalidEvent) as caught:
        h.do(Published("m1", at(hours=1), deadline=at(days=8)))
    assert caught.value.field == "deadline"
    st = h.do(Published("m1", at(hours=1), deadline=at(days=3)))
    assert st.consensus_closes_at == at(days=3)


def test_withdrawal_by_the_author_closes_the_proposal() -> None:
    h = group_history()
    st = h.do(Withdrawn("m1", at(hours=1)))
    assert st.decision is not None
    assert st.decision.outcome is Outcome.WITHDRAWN
    assert st.decision.reached_by is ReachedBy.WITHDRAWAL
    with pytest.raises(ProposalClosed):
        h.do(Withdrawn("m1", at(hours=2)))


def test_only_the_author_withdraws() -> None:
    h = group_history()
    with pytest.raises(NotEligible):
        h.do(Withdrawn("m2", at(hours=1)))


def _mandate_kind(**kwargs: object) -> object:
    return group_kind(key="quick", fallback=MandateFallback(**kwargs))  # type: ignore[arg-type]


def _open_phases() -> list[tuple[Phase, History, datetime]]:
    """One history in each open phase, and an instant within it."""
    draft = group_history(draft=True)
    consensus = group_history()
    vote = group_history(group_kind(fallback=VoteFallback()), urgent=True)
    volunteering = group_history(_mandate_kind(), urgent=True, mandate_scope=("press",))
    selection = group_history(
        _mandate_kind(selection=Selection.VOTE), urgent=True, mandate_scope=("press",)
    )
    selection.do(Volunteered("m2", DEADLINE + HOUR))
    selection.do(Volunteered("m3", DEADLINE + HOUR))
    mandate = group_history(_mandate_kind(), urgent=True, mandate_scope=("press",))
    mandate.do(Volunteered("m2", DEADLINE + HOUR))
    return [
        (Phase.DRAFT, draft, at(hours=1)),
        (Phase.CONSENSUS, consensus, at(hours=1)),
        (Phase.VOTE, vote, DEADLINE + HOUR),
        (Phase.VOLUNTEERING, volunteering, DEADLINE + HOUR),
        (Phase.SELECTION_VOTE, selection, DEADLINE + 7 * HOUR),
        (Phase.MANDATE, mandate, DEADLINE + 7 * HOUR),
    ]


@pytest.mark.parametrize("index", range(6))
def test_the_author_can_withdraw_in_every_open_phase(index: int) -> None:
    phase, h, when = _open_phases()[index]
    assert h.at(when).phase is phase
    with pytest.raises(NotEligible):
        h.try_(Withdrawn("m2", when))
    st = h.do(Withdrawn("m1", when))
    assert st.decision is not None
    assert st.decision.outcome is Outcome.WITHDRAWN


# --- time and events ---------------------------------------------------------------------


def test_events_out_of_time_order_are_rejected() -> None:
    h = group_history()
    respond(h, "m2", AGREE, at(hours=2))
    with pytest.raises(InvalidEvent) as caught:
        h.do(Responded("m3", AGREE, at(hours=1)))
    assert caught.value.field == "at"
    bad = [*h.events, Responded("m3", AGREE, at(hours=1))]
    with pytest.raises(InvalidEvent):
        state(h.proposal, bad, h.context, at(hours=3))


def test_an_event_before_creation_is_rejected() -> None:
    h = group_history()
    with pytest.raises(InvalidEvent):
        h.do(Responded("m2", AGREE, T0 - HOUR))


def test_naive_times_are_rejected() -> None:
    h = group_history()
    naive = datetime(2025, 3, 1, 13)  # noqa: DTZ001
    with pytest.raises(InvalidEvent):
        h.do(Responded("m2", AGREE, naive))
    with pytest.raises(InvalidEvent):
        h.at(naive)
    with pytest.raises(InvalidEvent):
        state(h.proposal, [Responded("m2", AGREE, naive)], h.context, at(hours=2))


def test_check_refuses_an_event_not_happening_now() -> None:
    h = group_history()
    with pytest.raises(InvalidEvent) as caught:
        check(h.proposal, [], Responded("m2", AGREE, at(hours=1)), h.context, at(hours=2))
    assert caught.value.field == "at"


def test_a_clock_that_stepped_back_sees_the_state_as_of_the_last_event() -> None:
    h = group_history()
    respond(h, "m2", AGREE, at(hours=2))
    assert h.at(at(hours=1)) == h.at(at(hours=2))


def test_state_is_the_same_whenever_it_is_computed() -> None:
    h = group_history()
    respond(h, "m2", AGREE, at(hours=2))
    assert h.at(at(hours=3)) == h.at(at(hours=3))


# --- urgent: vote fallback ---------------------------------------------------------------


def vote_history(
    method: Method = Method.MAJORITY, *, options: tuple[str, ...] = (), **fallback: object
) -> History:
    kind = group_kind(fallback=VoteFallback(method=method, **fallback))  # type: ignore[arg-type]
    h = group_history(kind, urgent=True, options=options)
    respond(h, "m5", BLOCK, at(hours=1))
    return h


def cast(h: History, ballots: list[object]) -> None:
    for i, ballot in enumerate(ballots, start=1):
        h.do(BallotCast(f"m{i}", ballot, DEADLINE + i * HOUR / 10))


def test_urgent_proposal_without_consensus_goes_to_vote() -> None:
    h = vote_history()
    st = h.at(DEADLINE)
    assert st.phase is Phase.VOTE
    assert st.vote is not None
    assert st.vote.spec.options == ("adopt", "do not adopt")
    assert st.vote.opens_at == DEADLINE
    assert st.vote.closes_at == DEADLINE + DAY
    assert st.vote.eligible == 5
    assert st.next is not None and st.next.step is Step.VOTE_CLOSES
    assert awaits(st, "m1")


def test_urgent_proposal_with_consensus_is_adopted_without_vote() -> None:
    kind = group_kind(fallback=VoteFallback())
    h = group_history(kind, urgent=True)
    for i in range(1, 4):
        respond(h, f"m{i}", AGREE, at(hours=i))
    assert h.at(DEADLINE).decision.reached_by is ReachedBy.CONSENSUS  # type: ignore[union-attr]


def test_majority_yes_adopts() -> None:
    h = vote_history()
    cast(h, [0, 0, 1])
    st = h.at(DEADLINE + DAY)
    assert st.decision is not None
    assert st.decision.outcome is Outcome.ADOPTED
    assert st.decision.reached_by is ReachedBy.VOTE
    assert st.decision.at == DEADLINE + DAY
    assert "vote" in st.decision.tally


def test_majority_tie_is_not_adopted() -> None:
    h = vote_history()
    cast(h, [0, 1, 0, 1])
    assert h.at(DEADLINE + DAY).decision.outcome is Outcome.NOT_ADOPTED  # type: ignore[union-attr]


def test_vote_with_quorum_missed_is_not_adopted() -> None:
    h = vote_history(quorum=Fraction(1, 2))
    cast(h, [0, 0])
    assert h.at(DEADLINE + DAY).decision.outcome is Outcome.NOT_ADOPTED  # type: ignore[union-attr]


@pytest.mark.parametrize(("yes", "outcome"), [(3, Outcome.NOT_ADOPTED), (4, Outcome.ADOPTED)])
def test_supermajority_needs_its_threshold(yes: int, outcome: Outcome) -> None:
    h = vote_history(Method.SUPERMAJORITY, threshold=Fraction(2, 3))
    cast(h, [0] * yes + [1] * (5 - yes))
    assert h.at(DEADLINE + DAY).decision.outcome is outcome  # type: ignore[union-attr]


def test_approval_vote_adopts_the_most_approved_option() -> None:
    h = vote_history(Method.APPROVAL, options=("x", "y"))
    assert h.at(DEADLINE).vote.spec.options == ("x", "y", "none of these")  # type: ignore[union-attr]
    cast(h, [[0], [0, 1], [1], [0]])
    st = h.at(DEADLINE + DAY)
    assert st.decision.outcome is Outcome.ADOPTED  # type: ignore[union-attr]
    assert st.vote.result.winner == 0  # type: ignore[union-attr]


def test_approval_vote_won_by_none_of_these_is_not_adopted() -> None:
    h = vote_history(Method.APPROVAL, options=("x", "y"))
    cast(h, [[2], [2], [0]])
    assert h.at(DEADLINE + DAY).decision.outcome is Outcome.NOT_ADOPTED  # type: ignore[union-attr]


def test_score_vote() -> None:
    h = vote_history(Method.SCORE, options=("x", "y"), max_score=3)
    cast(h, [(3, 0, 1), (2, 3, 0), (3, 1, 0)])
    st = h.at(DEADLINE + DAY)
    assert st.vote.result.winner == 0  # type: ignore[union-attr]
    assert st.decision.outcome is Outcome.ADOPTED  # type: ignore[union-attr]


def test_instant_runoff_vote() -> None:
    h = vote_history(Method.IRV, options=("x", "y", "z"), secret=False)
    cast(h, [[0, 1], [1, 0], [2, 1], [1], [0, 1]])
    st = h.at(DEADLINE + DAY)
    assert st.vote.result.winner is not None  # type: ignore[union-attr]
    assert st.decision.outcome is Outcome.ADOPTED  # type: ignore[union-attr]


def test_schulze_vote_with_options() -> None:
    h = vote_history(Method.SCHULZE, options=("x", "y"))
    cast(h, [[1, 0, 2], [1, 2, 0], [0, 1, 2], [1, 0]])
    st = h.at(DEADLINE + DAY)
    assert st.vote.result.winner == 1  # type: ignore[union-attr]
    assert st.decision.outcome is Outcome.ADOPTED  # type: ignore[union-attr]


def test_schulze_won_by_none_of_these_is_not_adopted() -> None:
    h = vote_history(Method.SCHULZE, options=("x", "y"))
    cast(h, [[2], [2, 0], [0, 2]])
    assert h.at(DEADLINE + DAY).decision.outcome is Outcome.NOT_ADOPTED  # type: ignore[union-attr]


def test_voting_twice_is_refused() -> None:
    h = vote_history()
    h.do(BallotCast("m1", 0, DEADLINE + HOUR))
    with pytest.raises(InvalidEvent) as caught:
        h.do(BallotCast("m1", 1, DEADLINE + 2 * HOUR))
    assert caught.value.field == "ballot"
    assert not awaits(h.at(DEADLINE + 2 * HOUR), "m1")


def test_a_malformed_ballot_is_refused() -> None:
    h = vote_history()
    with pytest.raises(InvalidBallot):
        h.do(BallotCast("m1", 7, DEADLINE + HOUR))


def test_non_member_cannot_vote() -> None:
    h = vote_history()
    with pytest.raises(NotEligible):
        h.do(BallotCast("stranger", 0, DEADLINE + HOUR))


def test_voting_before_the_vote_opens_is_refused() -> None:
    h = vote_history()
    with pytest.raises(ProposalClosed):
        h.do(BallotCast("m1", 0, at(hours=2)))


def test_voting_after_the_vote_closed_is_refused() -> None:
    h = vote_history()
    with pytest.raises(ProposalClosed):
        h.do(BallotCast("m1", 0, DEADLINE + DAY))


# --- federation: assembly and spokes ------------------------------------------------------


def fed_history(mode: Mode, fallback: VoteFallback | None = None, **kwargs: object) -> History:
    electorate = federation_electorate()
    kind = federation_kind(mode, fallback=fallback)
    proposal = propose(kind, electorate, author="a2", urgent=fallback is not None, **kwargs)
    return History.of(proposal, electorate)


def test_assembly_mode_counts_every_member_of_every_group() -> None:
    h = fed_history(Mode.ASSEMBLY)
    st = h.at(T0)
    assert len(st.eligible) == 9
    assert st.consensus.quorum_needed == 5
    everyone = sorted(st.eligible)
    for i, member in enumerate(everyone[:-1]):
        respond(h, member, AGREE, at(minutes=i))
    assert h.at(at(hours=1)).phase is Phase.CONSENSUS
    st = h.do(Responded(everyone[-1], AGREE, at(hours=2)))
    assert st.decision is not None
    assert st.decision.outcome is Outcome.ADOPTED
    assert st.group_positions == {}


def test_assembly_mode_refuses_outsiders() -> None:
    h = fed_history(Mode.ASSEMBLY)
    with pytest.raises(NotEligible):
        h.do(Responded("stranger", AGREE, at(hours=1)))


def test_assembly_decision_payload_names_no_group() -> None:
    h = fed_history(Mode.ASSEMBLY)
    decision = h.do(Withdrawn("a2", at(hours=1))).decision
    assert decision is not None
    assert decision.to_payload()["group"] is None
    assert decision.to_payload()["scope"] == "federation"


def test_spokes_coordinators_carry_their_groups_positions() -> None:
    h = fed_history(Mode.SPOKES)
    h.do(GroupPositionCarried("a1", "a", AGREE, at(hours=1)))
    st = h.do(GroupPositionCarried("b1", "b", ASIDE, at(hours=2)))
    assert st.group_positions == {"a": AGREE, "b": ASIDE, "c": None}
    assert st.phase is Phase.CONSENSUS
    st = h.do(GroupPositionCarried("c1", "c", AGREE, at(hours=3)))
    assert st.decision is not None
    assert st.decision.outcome is Outcome.ADOPTED
    assert st.decision.tally["consensus"]["groups"]["agree"] == 2
    assert st.decision.tally["consensus"]["eligible"] == 3


def test_spokes_refuses_a_non_coordinator_carrying_a_position() -> None:
    h = fed_history(Mode.SPOKES)
    with pytest.raises(NotEligible):
        h.do(GroupPositionCarried("a2", "a", AGREE, at(hours=1)))
    with pytest.raises(NotEligible):
        h.do(GroupPositionCarried("b1", "a", AGREE, at(hours=1)))
    with pytest.raises(NotEligible):
        h.do(GroupPositionCarried("a1", "zzz", AGREE, at(hours=1)))


def test_only_spokes_proposals_take_group_positions() -> None:
    h = fed_history(Mode.ASSEMBLY)
    with pytest.raises(InvalidEvent):
        h.do(GroupPositionCarried("a1", "a", AGREE, at(hours=1)))


def test_spokes_group_position_comes_from_its_members_when_not_carried() -> None:
    h = fed_history(Mode.SPOKES)
    respond(h, "c2", AGREE, at(hours=1))
    respond(h, "c3", AGREE, at(hours=2))
    respond(h, "b2", BLOCK, at(hours=3))
    st = h.at(at(hours=4))
    assert st.group_positions == {"a": None, "b": BLOCK, "c": AGREE}
    # b's coordinator carries agreement: the carried position wins over members' own.
    st = h.do(GroupPositionCarried("b1", "b", AGREE, at(hours=5)))
    assert st.group_positions["b"] is AGREE
    assert h.at(DEADLINE).decision.outcome is Outcome.ADOPTED  # type: ignore[union-attr]


def test_spokes_members_agreeing_does_not_close_early() -> None:
    h = fed_history(Mode.SPOKES)
    for i, member in enumerate(sorted(h.at(T0).eligible)):
        respond(h, member, AGREE, at(minutes=i))
    assert h.at(at(hours=1)).phase is Phase.CONSENSUS
    assert h.at(DEADLINE).decision.outcome is Outcome.ADOPTED  # type: ignore[union-attr]


def test_spokes_one_blocking_group_stops_it() -> None:
    h = fed_history(Mode.SPOKES)
    h.do(GroupPositionCarried("a1", "a", AGREE, at(hours=1)))
    h.do(GroupPositionCarried("b1", "b", BLOCK, at(hours=2)))
    st = h.do(GroupPositionCarried("c1", "c", AGREE, at(hours=3)))
    assert st.phase is Phase.CONSENSUS
    assert h.at(DEADLINE).decision.outcome is Outcome.NOT_ADOPTED  # type: ignore[union-attr]


def test_amending_a_spokes_proposal_resets_carried_positions() -> None:
    h = fed_history(Mode.SPOKES)
    h.do(GroupPositionCarried("a1", "a", AGREE, at(hours=1)))
    st = h.do(Amended("a2", at(hours=2), version=2))
    assert st.group_positions == {"a": None, "b": None, "c": None}


def spokes_vote(weight: SpokesWeight) -> History:
    h = fed_history(Mode.SPOKES, VoteFallback(spokes_weight=weight))
    h.do(GroupPositionCarried("a1", "a", BLOCK, at(hours=1)))
    return h


def test_spokes_vote_is_one_ballot_per_group_cast_by_its_coordinator() -> None:
    h = spokes_vote(SpokesWeight.ONE_PER_GROUP)
    st = h.at(DEADLINE)
    assert st.phase is Phase.VOTE
    assert st.vote is not None and st.vote.eligible == 3
    assert awaits(st, "c1")
    assert not awaits(st, "c2")
    with pytest.raises(NotEligible):
        h.do(BallotCast("c2", 0, DEADLINE + HOUR, for_group="c"))
    with pytest.raises(NotEligible):
        h.do(BallotCast("c1", 0, DEADLINE + HOUR))
    with pytest.raises(NotEligible):
        h.do(BallotCast("c1", 0, DEADLINE + HOUR, for_group="a"))
    h.do(BallotCast("c1", 0, DEADLINE + HOUR, for_group="c"))
    with pytest.raises(InvalidEvent):
        h.do(BallotCast("c1", 0, DEADLINE + 2 * HOUR, for_group="c"))
    h.do(BallotCast("b1", 1, DEADLINE + 2 * HOUR, for_group="b"))
    # One group each way: a tie, not adopted.
    assert h.at(DEADLINE + DAY).decision.outcome is Outcome.NOT_ADOPTED  # type: ignore[union-attr]


def test_spokes_vote_weighted_by_size_counts_members() -> None:
    h = spokes_vote(SpokesWeight.BY_SIZE)
    assert h.at(DEADLINE).vote.eligible == 9  # type: ignore[union-attr]
    h.do(BallotCast("c1", 0, DEADLINE + HOUR, for_group="c"))  # 4 members
    h.do(BallotCast("b1", 1, DEADLINE + 2 * HOUR, for_group="b"))  # 2 members
    st = h.at(DEADLINE + DAY)
    assert st.decision is not None
    assert st.decision.outcome is Outcome.ADOPTED
    assert st.vote is not None and st.vote.result is not None
    assert st.vote.result.counts[:2] == (4, 2)


# --- urgent: mandate fallback --------------------------------------------------------------

VOLUNTEERING_CLOSES = DEADLINE + 6 * HOUR


def mandate_history(
    previous_holders: tuple[str, ...] = (), n: int = 5, **fallback: object
) -> History:
    electorate = group_electorate(n)
    kind = group_kind(key="quick", fallback=MandateFallback(**fallback))  # type: ignore[arg-type]
    proposal = propose(kind, electorate, urgent=True, mandate_scope=("press", "logistics"))
    return History.of(proposal, electorate, previous_holders)


def volunteer(h: History, *names: str) -> None:
    for i, name in enumerate(names, start=1):
        h.do(Volunteered(name, DEADLINE + i * HOUR / 10))


def test_urgent_mandate_proposal_without_consensus_opens_volunteering() -> None:
    h = mandate_history()
    st = h.at(DEADLINE)
    assert st.phase is Phase.VOLUNTEERING
    assert st.mandate is not None
    assert st.mandate.volunteering_closes_at == VOLUNTEERING_CLOSES
    assert st.mandate.recall_needed == 3
    assert st.next is not None and st.next.step is Step.VOLUNTEERING_CLOSES
    assert not awaits(st, "m1")


def test_volunteering_twice_is_refused() -> None:
    h = mandate_history()
    volunteer(h, "m2")
    with pytest.raises(InvalidEvent):
        h.do(Volunteered("m2", DEADLINE + HOUR))


def test_outsider_cannot_volunteer() -> None:
    h = mandate_history()
    with pytest.raises(NotEligible):
        h.do(Volunteered("stranger", DEADLINE + HOUR))


def test_volunteering_outside_its_phase_is_refused() -> None:
    h = mandate_history()
    with pytest.raises(ProposalClosed):
        h.do(Volunteered("m2", at(hours=1)))


def test_lot_chooses_a_holder_among_volunteers() -> None:
    h = mandate_history()
    volunteer(h, "m2", "m3", "m4")
    st = h.at(VOLUNTEERING_CLOSES)
    assert st.phase is Phase.MANDATE
    assert st.mandate is not None
    assert st.mandate.candidates == ("m2", "m3", "m4")
    assert st.mandate.lot is not None
    assert st.mandate.holder == st.mandate.lot.chosen
    assert st.mandate.starts_at == VOLUNTEERING_CLOSES
    assert st.mandate.expires_at == VOLUNTEERING_CLOSES + 3 * DAY
    assert st.next is not None and st.next.step is Step.MANDATE_EXPIRES


def test_the_previous_holder_may_not_volunteer_and_is_told_why() -> None:
    h = mandate_history(previous_holders=("m1", "m2"))
    with pytest.raises(NotEligible) as caught:
        volunteer(h, "m2")
    assert "last mandate" in caught.value.message
    assert Action.VOLUNTEER not in actions(h.at(DEADLINE + HOUR), "m2")
    assert Action.VOLUNTEER in actions(h.at(DEADLINE + HOUR), "m3")


def test_lot_excludes_whoever_held_a_mandate_that_started_before_it() -> None:
    h = mandate_history()
    volunteer(h, "m2", "m3")
    # A mandate of the same body starting while volunteers come forward (after m2 and m3
    # volunteered) still excludes its holder from this lot.
    started = DEADLINE + HOUR
    h.context = Context(h.context.electorate, (PastMandate("m2", started),))
    st = h.at(VOLUNTEERING_CLOSES)
    assert st.mandate is not None
    assert st.mandate.candidates == ("m3",)
    assert st.mandate.excluded == ("m2",)
    assert st.mandate.holder == "m3"


def test_until_all_served_prefers_those_who_have_not_served() -> None:
    h = mandate_history(previous_holders=("m2", "m3"), rotation=Rotation.UNTIL_ALL_SERVED)
    volunteer(h, "m2", "m4")
    assert h.at(VOLUNTEERING_CLOSES).mandate.holder == "m4"  # type: ignore[union-attr]


def test_no_eligible_volunteer_is_not_adopted() -> None:
    for later, names in (((), ()), ((PastMandate("m2", DEADLINE + HOUR),), ("m2",))):
        h = mandate_history()
        volunteer(h, *names)
        h.context = Context(h.context.electorate, later)
        st = h.at(VOLUNTEERING_CLOSES)
        assert st.decision is not None
        assert st.decision.outcome is Outcome.NOT_ADOPTED
        assert st.decision.reached_by is ReachedBy.MANDATE
        assert st.decision.at == VOLUNTEERING_CLOSES


def test_a_volunteer_who_left_is_not_a_candidate() -> None:
    h = mandate_history()
    volunteer(h, "m2", "m3")
    context = Context(Electorate({"g": frozenset({"m1", "m3", "m4", "m5"})}))
    st = state(h.proposal, h.events, context, VOLUNTEERING_CLOSES)
    assert st.mandate is not None
    assert st.mandate.holder == "m3"


def test_selection_by_vote_among_several_volunteers() -> None:
    h = mandate_history(selection=Selection.VOTE)
    volunteer(h, "m2", "m3", "m4")
    st = h.at(VOLUNTEERING_CLOSES)
    assert st.phase is Phase.SELECTION_VOTE
    assert st.vote is not None
    assert st.vote.spec.method is Method.APPROVAL
    assert st.vote.spec.options == ("m2", "m3", "m4")
    assert st.next is not None and st.next.step is Step.SELECTION_CLOSES
    assert awaits(st, "m1")
    closes = VOLUNTEERING_CLOSES + 6 * HOUR
    for i, ballot in enumerate([[2], [1, 2], [2], [0]], start=1):
        h.do(BallotCast(f"m{i}", ballot, VOLUNTEERING_CLOSES + i * HOUR))
    st = h.at(closes)
    assert st.phase is Phase.MANDATE
    assert st.mandate is not None
    assert st.mandate.holder == "m4"
    assert st.mandate.lot is None
    assert st.mandate.starts_at == closes


def test_selection_vote_without_ballots_falls_back_to_the_lot() -> None:
    h = mandate_history(selection=Selection.VOTE)
    volunteer(h, "m2", "m3")
    st = h.at(VOLUNTEERING_CLOSES + 6 * HOUR)
    assert st.phase is Phase.MANDATE
    assert st.mandate is not None and st.mandate.lot is not None
    assert st.mandate.holder in ("m2", "m3")


def test_selection_by_vote_with_a_single_volunteer_needs_no_vote() -> None:
    h = mandate_history(selection=Selection.VOTE)
    volunteer(h, "m3")
    st = h.at(VOLUNTEERING_CLOSES)
    assert st.phase is Phase.MANDATE
    assert st.mandate.holder == "m3"  # type: ignore[union-attr]


def mandate_in_force(**fallback: object) -> tuple[History, str, datetime]:
    h = mandate_history(**fallback)
    volunteer(h, "m3")
    st = h.at(VOLUNTEERING_CLOSES)
    assert st.mandate is not None and st.mandate.expires_at is not None
    return h, "m3", st.mandate.expires_at


def test_holder_decides_within_scope_and_the_mandate_ends_decided() -> None:
    h, holder, expires = mandate_in_force()
    st = h.do(MandateDecisionRecorded(holder, "press", VOLUNTEERING_CLOSES + HOUR))
    assert st.mandate is not None
    assert [d.matter for d in st.mandate.decisions] == ["press"]
    assert st.phase is Phase.MANDATE
    st = h.at(expires)
    assert st.decision is not None
    assert st.decision.outcome is Outcome.DECIDED
    assert st.decision.reached_by is ReachedBy.MANDATE
    assert st.decision.at == expires
    assert st.decision.tally["mandate"]["decisions"] == 1
    assert st.decision.tally["mandate"]["chosen_by"] == "lot"


def test_mandate_without_decisions_expires() -> None:
    h, _, expires = mandate_in_force()
    assert h.at(expires).decision.outcome is Outcome.MANDATE_EXPIRED  # type: ignore[union-attr]


def test_decision_outside_the_scope_is_a_mandate_error() -> None:
    h, holder, _ = mandate_in_force()
    with pytest.raises(MandateError) as caught:
        h.do(MandateDecisionRecorded(holder, "fund", VOLUNTEERING_CLOSES + HOUR))
    assert caught.value.field == "matter"


def test_only_the_holder_decides_under_the_mandate() -> None:
    h, _, _ = mandate_in_force()
    with pytest.raises(NotEligible):
        h.do(MandateDecisionRecorded("m2", "press", VOLUNTEERING_CLOSES + HOUR))


def test_decision_after_expiry_is_a_mandate_error() -> None:
    h, holder, expires = mandate_in_force()
    with pytest.raises(MandateError) as caught:
        h.do(MandateDecisionRecorded(holder, "press", expires))
    assert "expired" in caught.value.message


def test_decision_without_a_mandate_is_a_mandate_error() -> None:
    h = mandate_history()
    with pytest.raises(MandateError):
        h.do(MandateDecisionRecorded("m1", "press", at(hours=1)))


def test_recall_by_enough_supporters_closes_and_refuses_later_decisions() -> None:
    h, holder, _ = mandate_in_force()
    start = VOLUNTEERING_CLOSES
    h.do(RecallSupported("m1", start + HOUR))
    with pytest.raises(InvalidEvent):
        h.do(RecallSupported("m1", start + HOUR))
    with pytest.raises(NotEligible):
        h.do(RecallSupported("stranger", start + HOUR))
    st = h.do(RecallSupported("m2", start + 2 * HOUR))
    assert st.phase is Phase.MANDATE
    st = h.do(RecallSupported("m4", start + 3 * HOUR))
    assert st.decision is not None
    assert st.decision.outcome is Outcome.RECALLED
    assert st.decision.reached_by is ReachedBy.MANDATE
    assert st.decision.tally["mandate"]["recalled"] is True
    with pytest.raises(MandateError) as caught:
        h.do(MandateDecisionRecorded(holder, "press", start + 4 * HOUR))
    assert "recalled" in caught.value.message


def test_recall_outside_a_mandate_is_refused() -> None:
    h = mandate_history()
    with pytest.raises(ProposalClosed):
        h.do(RecallSupported("m1", at(hours=1)))


# --- meetings -----------------------------------------------------------------------------


def record(h: History, when: datetime, **kwargs: object) -> None:
    fields: dict[str, object] = {
        "recorder": "m1",
        "outcome": Outcome.ADOPTED,
        "attendance": 4,
        "reached_by": ReachedBy.CONSENSUS,
        "at": when,
    }
    fields.update(kwargs)
    h.do(MeetingRecorded(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize("outcome", [Outcome.ADOPTED, Outcome.NOT_ADOPTED])
def test_confirmed_meeting_record_closes_by_meeting(outcome: Outcome) -> None:
    h = group_history()
    record(h, at(hours=1), outcome=outcome)
    st = h.do(MeetingConfirmed("m2", at(hours=2)))
    assert st.phase is Phase.CONSENSUS
    assert st.meeting is not None and st.meeting.confirmations == frozenset({"m2"})
    st = h.do(MeetingConfirmed("m3", at(hours=3)))
    assert st.decision is not None
    assert st.decision.outcome is outcome
    assert st.decision.reached_by is ReachedBy.MEETING
    assert st.decision.tally["meeting"] == {
        "attendance": 4,
        "reached_by": "consensus",
        "confirmations": 3,
    }


def test_recorder_cannot_confirm_their_own_record() -> None:
    h = group_history()
    record(h, at(hours=1))
    with pytest.raises(InvalidEvent):
        h.do(MeetingConfirmed("m1", at(hours=2)))


def test_confirming_twice_is_refused() -> None:
    h = group_history()
    record(h, at(hours=1))
    h.do(MeetingConfirmed("m2", at(hours=2)))
    with pytest.raises(InvalidEvent):
        h.do(MeetingConfirmed("m2", at(hours=3)))


def test_attendance_too_small_for_the_confirmations_is_rejected() -> None:
    h = group_history()
    with pytest.raises(InvalidEvent) as caught:
        record(h, at(hours=1), attendance=2)
    assert caught.value.field == "attendance"


def test_a_second_meeting_record_waits_for_the_first() -> None:
    h = group_history()
    record(h, at(hours=1))
    with pytest.raises(InvalidEvent):
        record(h, at(hours=2), recorder="m2")


def test_meeting_record_needs_a_plain_outcome_and_way() -> None:
    h = group_history()
    with pytest.raises(InvalidEvent):
        record(h, at(hours=1), outcome=Outcome.DECIDED)
    with pytest.raises(InvalidEvent):
        record(h, at(hours=1), reached_by=ReachedBy.MANDATE)


def test_confirming_without_a_record_is_refused() -> None:
    h = group_history()
    with pytest.raises(InvalidEvent):
        h.do(MeetingConfirmed("m2", at(hours=1)))


def test_outsiders_cannot_record_or_confirm_meetings() -> None:
    h = group_history(others=3)
    with pytest.raises(NotEligible):
        record(h, at(hours=1), recorder="o1")
    record(h, at(hours=1))
    with pytest.raises(NotEligible):
        h.do(MeetingConfirmed("o1", at(hours=2)))


def test_a_meeting_can_decide_during_an_urgent_vote() -> None:
    h = vote_history()
    record(h, DEADLINE + HOUR, reached_by=ReachedBy.VOTE, attendance=3)
    h.do(MeetingConfirmed("m2", DEADLINE + 2 * HOUR))
    st = h.do(MeetingConfirmed("m3", DEADLINE + 3 * HOUR))
    assert st.decision is not None
    assert st.decision.reached_by is ReachedBy.MEETING


def test_meeting_record_cannot_be_made_after_close() -> None:
    h = group_history()
    with pytest.raises(ProposalClosed):
        record(h, DEADLINE)


# --- decisions ----------------------------------------------------------------------------


def _decisions() -> list[object]:
    consensus = group_history(n=1)
    consensus.do(Responded("m1", AGREE, at(hours=1)))
    vote = vote_history()
    cast(vote, [0, 0])
    mandate, holder, expires = mandate_in_force()
    mandate.do(MandateDecisionRecorded(holder, "press", VOLUNTEERING_CLOSES + HOUR))
    meeting = group_history()
    record(meeting, at(hours=1))
    meeting.do(MeetingConfirmed("m2", at(hours=2)))
    meeting.do(MeetingConfirmed("m3", at(hours=3)))
    spokes = fed_history(Mode.SPOKES)
    return [
        consensus.at(at(hours=2)).decision,
        vote.at(DEADLINE + DAY).decision,
        mandate.at(expires).decision,
        meeting.at(at(hours=3)).decision,
        spokes.at(DEADLINE).decision,
    ]


def test_every_kind_of_decision_payload_is_json_serialisable() -> None:
    for decision in _decisions():
        assert decision is not None
        payload = decision.to_payload()  # type: ignore[attr-defined]
        assert json.loads(json.dumps(payload)) == payload
        assert payload["proposal"] == "p1"
        assert payload["at"].endswith("+00:00")


def test_group_decision_payload_names_its_group() -> None:
    decision = _decisions()[0]
    payload = decision.to_payload()  # type: ignore[attr-defined]
    assert payload["group"] == "g"
    assert payload["scope"] == "group"
    assert payload["kind"] == "test-group"


def test_domain_errors_have_codes() -> None:
    h = group_history()
    with pytest.raises(DomainError) as caught:
        h.do(Responded("stranger", AGREE, at(hours=1)))
    assert caught.value.code == "not_eligible"
    assert SEED  # the builders' seed is long enough for create


# --- regressions -------------------------------------------------------------------------


def test_a_spokes_coordinator_is_no_longer_awaited_once_their_group_voted() -> None:
    h = spokes_vote(SpokesWeight.ONE_PER_GROUP)
    st = h.do(BallotCast("c1", 0, DEADLINE + HOUR, for_group="c"))
    assert not awaits(st, "c1")
    assert awaits(st, "b1")


def test_nothing_awaits_anyone_in_a_draft_or_once_closed() -> None:
    draft = group_history(draft=True)
    assert not awaits(draft.at(T0), "m2")
    closed = group_history()
    assert not awaits(closed.at(DEADLINE), "m2")


@pytest.mark.parametrize(
    "event",
    [
        Responded("m2", "maybe", at(hours=1)),  # type: ignore[arg-type]
        MeetingRecorded("m1", "great", 4, ReachedBy.CONSENSUS, at(hours=1)),  # type: ignore[arg-type]
        MeetingRecorded("m1", Outcome.ADOPTED, 4, "magic", at(hours=1)),  # type: ignore[arg-type]
    ],
)
def test_unknown_enum_values_in_events_are_invalid_events(event: object) -> None:
    h = group_history()
    with pytest.raises(InvalidEvent):
        h.do(event)  # type: ignore[arg-type]


def test_an_unknown_carried_position_is_an_invalid_event() -> None:
    h = fed_history(Mode.SPOKES)
    with pytest.raises(InvalidEvent):
        h.do(GroupPositionCarried("a1", "a", "shrug", at(hours=1)))  # type: ignore[arg-type]


# --- review follow-ups ----------------------------------------------------------------------


def test_amending_lets_a_pending_meeting_record_lapse() -> None:
    h = History.of(propose(group_kind(), group_electorate()), group_electorate())
    h.do(MeetingRecorded("m2", Outcome.ADOPTED, 5, ReachedBy.CONSENSUS, at(hours=1)))
    h.do(Amended("m1", at(hours=2), 2))
    assert h.at(at(hours=3)).meeting is None


def test_meeting_attendance_must_be_a_whole_number() -> None:
    h = History.of(propose(group_kind(), group_electorate()), group_electorate())
    bad = MeetingRecorded("m2", Outcome.ADOPTED, "5", ReachedBy.CONSENSUS, at(hours=1))  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent):
        h.do(bad)


def test_a_holder_who_left_the_group_can_no_longer_decide() -> None:
    fallback = MandateFallback(length=DAY, volunteer_period=HOUR)
    kind = group_kind(fallback=fallback)
    el = group_electorate(3)
    h = History.of(
        propose(kind, el, urgent=True, deadline=at(hours=1), mandate_scope=("press",)), el
    )
    h.do(Volunteered("m2", at(hours=1, minutes=10)))
    assert h.at(at(hours=3)).mandate.holder == "m2"
    left = History(h.proposal, Context(group_electorate(1), ()), list(h.events))
    # Replayed against today's membership the holder is gone, so no mandate of theirs
    # is in force: whichever rule says so, the decision is refused.
    with pytest.raises(DomainError):
        left.do(MandateDecisionRecorded("m2", "press", at(hours=3)))


def test_a_meeting_cannot_decide_a_federation_matter() -> None:
    el = federation_electorate()
    kind = federation_kind(Mode.ASSEMBLY)
    h = History.of(propose(kind, el, author="a1"), el)
    with pytest.raises(InvalidEvent) as error:
        h.do(MeetingRecorded("a1", Outcome.ADOPTED, 9, ReachedBy.CONSENSUS, at(hours=1)))
    assert error.value.field == "meeting"


def test_a_meeting_records_no_more_attendees_than_the_group_has() -> None:
    h = History.of(propose(group_kind(), group_electorate(5)), group_electorate(5))
    with pytest.raises(InvalidEvent) as error:
        h.do(MeetingRecorded("m2", Outcome.ADOPTED, 6, ReachedBy.CONSENSUS, at(hours=1)))
    assert error.value.field == "attendance"


def test_a_meeting_decides_only_with_the_charters_quorum_present() -> None:
    el = group_electorate(10)  # quorum 1/2: five must attend
    h = History.of(propose(group_kind(), el), el)
    with pytest.raises(InvalidEvent) as error:
        h.do(MeetingRecorded("m2", Outcome.ADOPTED, 4, ReachedBy.CONSENSUS, at(hours=1)))
    assert "quorum" in error.value.message
    h.do(MeetingRecorded("m2", Outcome.ADOPTED, 5, ReachedBy.CONSENSUS, at(hours=1)))


def test_an_urgent_deadline_gives_members_at_least_the_charters_minimum() -> None:
    el = group_electorate()
    kind = group_kind(fallback=VoteFallback())
    with pytest.raises(InvalidEvent) as error:
        propose(kind, el, urgent=True, deadline=T0 + timedelta(minutes=5))
    assert error.value.field == "deadline"
    assert propose(kind, el, urgent=True, deadline=T0 + HOUR).deadline == T0 + HOUR


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"options": ("x" * 201, "short")}, "options"),
        ({"mandate_scope": tuple(f"matter {i}" for i in range(21))}, "mandate_scope"),
        ({"mandate_scope": ("y" * 201,)}, "mandate_scope"),
    ],
)
def test_alternatives_and_matters_are_short_labels_in_bounded_number(fields, field) -> None:
    kind = group_kind(fallback=MandateFallback())
    with pytest.raises(InvalidEvent) as error:
        propose(kind, group_electorate(), urgent=True, deadline=at(hours=2), **fields)
    assert error.value.field == field
