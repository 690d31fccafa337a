"""Secret votes counted by tellers: dealing the key, sealing ballots, sums, the board.

The protocol is docs/ballots.md (§11 gives the calls in order); the cryptography is
``veche.crypto.election``, what a ballot means is ``veche.domain.voting.vectors``. This
module stores and reads it; the writes that change a proposal (a cast, the count) go
through ``services.record``, which calls in here inside its transaction. Decision 0130.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from veche.apps.accounts.models import Member
from veche.apps.proposals import selectors
from veche.apps.proposals.models import Proposal, SealedBallot, SecretVote, Teller
from veche.crypto.election import (
    Ciphertext,
    DecryptionShare,
    Manifest,
    Record,
    Shape,
    deal,
    encrypt_ballot,
    receipt,
    sum_ballots,
)
from veche.domain import proposals as domain
from veche.domain.charter import MandateFallback, VoteFallback
from veche.domain.errors import InvalidEvent, _
from veche.domain.proposals.vote import seed_of
from veche.domain.voting.tellers import choose_tellers
from veche.domain.voting.vectors import ballot_vector, vector_shape
from veche.verify_vote import vote_context, vote_outcome

CIPHERTEXT_BYTES = 128


def vote_of(row: Proposal, kind: domain.DecisionKind) -> SecretVote | None:
    """Return the proposal's secret vote (None: not dealt, or not counted by tellers)."""
    return SecretVote.objects.filter(proposal=row, round=selectors.ballot_round(kind)).first()


def _teller_rule(kind: domain.DecisionKind) -> tuple[int, int]:
    fallback = kind.fallback
    if isinstance(fallback, VoteFallback | MandateFallback):
        return fallback.tellers, fallback.tellers_needed
    return 3, 2


def ensure_dealt(loaded: selectors.Loaded) -> SecretVote | None:
    """Return the open secret vote's stored manifest, dealing its key now if not yet.

    Dealing (docs/ballots.md §2) draws the tellers by the vote's lot, seals each share
    to the teller's public key and stores only public values. Call with the proposal
    locked (``services.record`` or settlement): two dealers cannot race.
    """
    st, row = loaded.state, loaded.row
    vote = st.vote
    if vote is None or not vote.counted_by_tellers:
        return None
    found = vote_of(row, loaded.kind)
    if found is not None:
        return found
    wanted, needed = _teller_rule(loaded.kind)
    el = st.electorate
    body = sorted(st.eligible)
    with_keys = {
        str(pk): bytes(key)
        for pk, key in Member.objects.filter(pk__in=[int(m) for m in body if m.isdigit()])
        .filter(is_active=True)
        .values_list("pk", "public_key")
        if key
    }
    tellers = choose_tellers(
        body=[m for m in body if m in with_keys],
        coordinators=el.coordinators,
        group_of={m: g for m in body if (g := el.group_of(m)) is not None},
        federation=row.federation_wide,
        seed=seed_of(loaded.proposal, b"tellers"),
        wanted=wanted,
        needed=needed,
    )
    if not tellers.members:
        return None  # nobody can vote either: the vote closes with no ballot
    max_ballots = vote.max_ballots
    spec = vote.spec
    ballot_round = selectors.ballot_round(loaded.kind)
    dealt = deal(
        vote_id=f"proposal-{row.pk}-{ballot_round}",
        shape=Shape.from_dict(vector_shape(spec, max_ballots=max_ballots).to_dict()),
        threshold=tellers.threshold,
        teller_keys=[with_keys[m] for m in tellers.members],
        context=vote_context(
            spec, tie_seed=seed_of(loaded.proposal, b"vote"), max_ballots=max_ballots
        ),
    )
    stored = SecretVote.objects.create(
        proposal=row, round=ballot_round, manifest=dealt.manifest.to_dict()
    )
    Teller.objects.bulk_create(
        Teller(vote=stored, index=index, member_id=int(member), sealed_share=sealed)
        for index, (member, sealed) in enumerate(
            zip(tellers.members, dealt.sealed_shares, strict=True), start=1
        )
    )
    return stored


def manifest_of(vote: SecretVote) -> Manifest:
    """Return the vote's manifest (public key, commitments, shape, context)."""
    return Manifest.from_dict(vote.manifest)


def seal_ballot(loaded: selectors.Loaded, ballot: object) -> str:
    """Encrypt ``ballot`` as one row of the vote's board; return its receipt (shown once).

    The domain has checked the ballot and the voter; the row has a random id, no time
    and no voter, and the same length as every other ballot of the vote.
    """
    assert loaded.state.vote is not None  # noqa: S101 - only while voting
    vote = ensure_dealt(loaded)
    if vote is None:
        raise InvalidEvent(_("this vote has no tellers, so it cannot take a ballot"))
    manifest = manifest_of(vote)
    vector = ballot_vector(
        loaded.state.vote.spec, ballot, max_ballots=loaded.state.vote.max_ballots
    )
    ciphertext = encrypt_ballot(manifest, vector)
    SealedBallot.objects.create(vote=vote, ciphertext=ciphertext)
    return receipt(manifest, ciphertext)


def stored_ballots(vote: SecretVote) -> list[bytes]:
    """Return the vote's encrypted ballots (in no meaningful order)."""
    return [
        bytes(c)
        for c in SealedBallot.objects.filter(vote=vote).values_list("ciphertext", flat=True)
    ]


def sums_of(vote: SecretVote) -> list[Ciphertext]:
    """Return the stored sums of the vote's ballots (empty before the close)."""
    data = bytes(vote.sums)
    return [
        Ciphertext.from_bytes(data[at : at + CIPHERTEXT_BYTES])
        for at in range(0, len(data), CIPHERTEXT_BYTES)
    ]


def close_sums(vote: SecretVote) -> None:
    """Store the homomorphic sums of the vote's ballots, once, when it has closed."""
    if vote.sums:
        return
    sums = sum_ballots(manifest_of(vote), stored_ballots(vote))
    vote.sums = b"".join(s.to_bytes() for s in sums)
    SecretVote.objects.filter(pk=vote.pk).update(sums=vote.sums)


def given_shares(vote: SecretVote, manifest: Manifest) -> list[DecryptionShare]:
    """Return the decryption shares tellers have given, by teller index."""
    return [
        DecryptionShare.from_bytes(index, bytes(share), manifest.shape.length)
        for index, share in Teller.objects.filter(vote=vote)
        .exclude(share=b"")
        .values_list("index", "share")
    ]


def counted_totals(events: Sequence[domain.Event]) -> domain.VoteCounted | None:
    """Return the event that counted the vote, if it was counted."""
    for event in reversed(events):
        if isinstance(event, domain.VoteCounted):
            return event
    return None


def board(loaded: selectors.Loaded) -> Record | None:
    """Return the counted vote's record (the bulletin board), or None if not counted.

    Rebuilt from what is stored, the same bytes every time: ballots sorted, the shares
    given by the time of the count, the totals and the result the domain decided.
    """
    counted = counted_totals(loaded.events)
    st = loaded.state
    if counted is None or st.vote is None or st.vote.result is None:
        return None
    vote = vote_of(loaded.row, loaded.kind)
    if vote is None:
        return None
    manifest = manifest_of(vote)
    return Record.build(
        manifest,
        stored_ballots(vote),
        sums_of(vote),
        given_shares(vote, manifest),
        counted.totals,
        vote_outcome(st.vote.result),
    )


def waits_with_tellers(
    loaded: selectors.Loaded, waits: Mapping[str, tuple[domain.Wait, ...]]
) -> dict[str, tuple[domain.Wait, ...]]:
    """Return ``waits`` (the domain's) with each teller a counting vote still waits for.

    The domain does not know who tells a vote; their inbox item is the web layer's.
    """
    found = dict(waits)
    if loaded.state.phase is not domain.Phase.COUNTING:
        return found
    vote = vote_of(loaded.row, loaded.kind)
    if vote is None:
        return found
    for teller in Teller.objects.filter(vote=vote, share=b"").values_list("member_id", flat=True):
        found[str(teller)] = (*found.get(str(teller), ()), domain.Wait.COUNT)
    return found


def pin_board(loaded: selectors.Loaded) -> None:
    """Store, once, the digest of the counted vote's record (what its decision names)."""
    vote = vote_of(loaded.row, loaded.kind)
    if vote is None or vote.board_digest:
        return
    found = board(loaded)
    if found is not None:
        vote.board_digest = found.digest
        SecretVote.objects.filter(pk=vote.pk).update(board_digest=found.digest)


def pinned_board(row: Proposal, kind: domain.DecisionKind) -> str:
    """Return the digest of the counted vote's record ("" before the count, or none)."""
    vote = vote_of(row, kind)
    return vote.board_digest if vote is not None else ""


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a secret vote's count stands: shares given of those needed, and who tells."""

    given: int
    needed: int
    tellers: int
    teller_ids: frozenset[int]
    given_ids: frozenset[int]


def progress(row: Proposal, kind: domain.DecisionKind) -> Progress | None:
    """Return how far the vote's count has come (None: not counted by tellers)."""
    vote = vote_of(row, kind)
    if vote is None:
        return None
    seats = list(Teller.objects.filter(vote=vote).values_list("member_id", "share"))
    given = frozenset(m for m, share in seats if share)
    return Progress(
        given=len(given),
        needed=int(vote.manifest.get("threshold", 0)),
        tellers=len(seats),
        teller_ids=frozenset(m for m, _share in seats),
        given_ids=given,
    )
