"""Threshold-encrypted ballots: correctness, thresholds, tampering, receipts, bad input."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from fractions import Fraction

import nacl.public
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veche.crypto.election import (
    Constraint,
    DecryptionShare,
    ElectionError,
    GroupError,
    Point,
    Record,
    Shape,
    check_ballot,
    combine,
    deal,
    decryption_share,
    discrete_logs,
    encrypt_ballot,
    find_receipt,
    normalise_receipt,
    open_share,
    read_ciphertexts,
    receipt,
    sum_ballots,
    sum_ciphertexts,
    verify_record,
)
from veche.crypto.election.group import Q, base_mul, scalar_from_bytes, sum_encoded, sum_points
from veche.crypto.election.manifest import Manifest
from veche.crypto.keys import CannotDecrypt
from veche.domain.voting import Method, VoteSpec, tally
from veche.domain.voting.vectors import (
    SUMMABLE_METHODS,
    ballot_vector,
    tally_totals,
    vector_shape,
)

SEED = b"election seed"
TELLERS = [nacl.public.PrivateKey.generate() for _ in range(3)]
MAJORITY_SHAPE = Shape(
    entries=((0, 1),) * 3,
    constraints=(Constraint(terms=((0, 1), (1, 1), (2, 1)), allowed=(0, 1)),),
)


def new_vote(shape: Shape = MAJORITY_SHAPE, threshold: int = 2, tellers: int = 3):
    return deal(
        vote_id="vote-1",
        shape=shape,
        context={"note": "test"},
        teller_keys=[bytes(k.public_key) for k in TELLERS[:tellers]],
        threshold=threshold,
    )


def close(dealt, ballots: list[bytes], tellers: tuple[int, ...] = (1, 2)):
    manifest = dealt.manifest
    sums = sum_ciphertexts(manifest, [check_ballot(manifest, b) for b in ballots])
    shares = [
        decryption_share(
            manifest, open_share(manifest, i, dealt.sealed_shares[i - 1], TELLERS[i - 1]), sums
        )
        for i in tellers
    ]
    totals = combine(manifest, sums, shares, cast=len(ballots))
    return Record.build(manifest, ballots, sums, shares, totals, {})


@pytest.fixture(scope="module")
def board() -> Record:
    dealt = new_vote()
    vectors = [(1, 0, 0), (0, 1, 0), (0, 1, 0), (0, 0, 0), (0, 0, 1)]
    return close(dealt, [encrypt_ballot(dealt.manifest, v) for v in vectors])


def reasons(record: Record) -> list[str]:
    return [str(p) for p in verify_record(record, processes=1)]


# --- correctness -------------------------------------------------------------------


@st.composite
def secret_votes(draw: st.DrawFn) -> tuple[VoteSpec, list[object]]:
    method = draw(st.sampled_from(sorted(SUMMABLE_METHODS)))
    m = draw(st.integers(min_value=2, max_value=3))
    spec = VoteSpec(
        method,
        tuple(f"o{i}" for i in range(m)),
        status_quo=draw(st.none() | st.just(0)),
        threshold=Fraction(1, 2) if method is Method.SUPERMAJORITY else Fraction(0),
        max_score=2,
    )
    options = st.integers(min_value=0, max_value=m - 1)
    strategy: st.SearchStrategy[object]
    if method in (Method.MAJORITY, Method.SUPERMAJORITY):
        strategy = st.none() | options
    elif method is Method.APPROVAL:
        strategy = st.lists(options, unique=True, max_size=m)
    elif method is Method.SCORE:
        strategy = st.none() | st.lists(st.integers(0, 2), min_size=m, max_size=m)
    else:
        strategy = st.permutations(list(range(m))).flatmap(
            lambda order: st.integers(0, m).map(lambda k: list(order[:k]))
        )
    return spec, draw(st.lists(strategy, max_size=5))


@given(secret_votes())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_threshold_tally_equals_the_plain_tally(vote: tuple[VoteSpec, list[object]]) -> None:
    spec, ballots = vote
    max_ballots = 6
    shape = Shape.from_dict(vector_shape(spec, max_ballots=max_ballots).to_dict())
    dealt = new_vote(shape)
    encrypted = [
        encrypt_ballot(dealt.manifest, ballot_vector(spec, b, max_ballots=max_ballots))
        for b in ballots
    ]
    record = close(dealt, encrypted, tellers=(3, 1))
    assert verify_record(record, processes=1) == []
    result = tally_totals(
        spec, record.totals, cast=len(ballots), eligible=6, tie_seed=SEED, max_ballots=max_ballots
    )
    assert result == tally(spec, ballots, eligible=6, tie_seed=SEED)


FIXED_BALLOTS: dict[Method, list[object]] = {
    Method.MAJORITY: [0, 1, 1, None, 2],
    Method.SUPERMAJORITY: [2, 2, None, 2, 0],
    Method.APPROVAL: [[0, 1], [], [2], [1, 2], [1]],
    Method.SCORE: [[2, 0, 1], None, [0, 0, 0], [2, 2, 2], [1, 0, 2]],
    Method.SCHULZE: [[2, 0], [], [1, 2, 0], [0], [2, 1, 0]],
}


@pytest.mark.parametrize("method", sorted(SUMMABLE_METHODS))
def test_every_summable_method_counts_the_same_encrypted(method: Method) -> None:
    spec = VoteSpec(method, ("a", "b", "c"), status_quo=0, threshold=Fraction(1, 2), max_score=2)
    ballots = FIXED_BALLOTS[method]
    shape = Shape.from_dict(vector_shape(spec, max_ballots=8).to_dict())
    dealt = new_vote(shape)
    encrypted = [
        encrypt_ballot(dealt.manifest, ballot_vector(spec, b, max_ballots=8)) for b in ballots
    ]
    assert {len(b) for b in encrypted} == {shape.ballot_bytes()}  # abstentions included
    record = close(dealt, encrypted, tellers=(2, 3))
    assert verify_record(record, processes=1) == []
    expected = tally(spec, ballots, eligible=7, tie_seed=SEED)
    assert expected.abstained == 1
    got = tally_totals(
        spec, record.totals, cast=len(ballots), eligible=7, tie_seed=SEED, max_ballots=8
    )
    assert got == expected


def test_any_k_of_n_shares_give_the_same_totals_and_k_minus_1_give_none(board: Record) -> None:
    dealt = new_vote(threshold=2)
    ballots = [encrypt_ballot(dealt.manifest, v) for v in [(0, 0, 1), (0, 0, 1), (1, 0, 0)]]
    for tellers in [(1, 2), (1, 3), (2, 3), (3, 2, 1)]:
        assert close(dealt, ballots, tellers).totals == (1, 0, 2)
    with pytest.raises(ElectionError, match="2 are needed"):
        close(dealt, ballots, (2,))


def test_k_minus_1_shares_do_not_decrypt_a_total() -> None:
    dealt = new_vote(threshold=3)
    manifest = dealt.manifest
    ballots = [encrypt_ballot(manifest, (0, 1, 0))]
    sums = sum_ciphertexts(manifest, [check_ballot(manifest, b) for b in ballots])
    keys = [open_share(manifest, i, dealt.sealed_shares[i - 1], TELLERS[i - 1]) for i in (1, 2)]
    shares = [decryption_share(manifest, k, sums) for k in keys]
    # Two of three shares, combined as if two were the threshold, give garbage.
    as_if_two = replace(manifest, threshold=2)
    with pytest.raises(ElectionError):
        combine(as_if_two, sums, shares, cast=1)


def test_every_ballot_of_a_vote_has_the_same_length() -> None:
    spec = VoteSpec(Method.SCHULZE, ("a", "b", "c", "d"))
    shape = Shape.from_dict(vector_shape(spec, max_ballots=9).to_dict())
    dealt = new_vote(shape)
    lengths = {
        len(encrypt_ballot(dealt.manifest, ballot_vector(spec, b, max_ballots=9)))
        for b in ([], [0], [3, 1], [0, 1, 2, 3])
    }
    assert lengths == {shape.ballot_bytes()}


def test_totals_of_zero_and_empty_votes_decrypt() -> None:
    dealt = new_vote()
    record = close(dealt, [])
    assert record.totals == (0, 0, 0)
    assert verify_record(record, processes=1) == []


def test_parallel_verification_finds_what_serial_finds() -> None:
    dealt = new_vote()
    ballots = [encrypt_ballot(dealt.manifest, (0, 0, i % 2)) for i in range(70)]
    ballots[40] = ballots[40][:-1] + bytes([ballots[40][-1] ^ 1])
    record = Record(dealt.manifest, tuple(ballots), (), (), (), {})
    serial = verify_record(record, processes=1)
    assert verify_record(record, processes=2) == serial
    assert any(p.where == "ballot 40" for p in serial)


# --- tampering ---------------------------------------------------------------------


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_an_honest_board_verifies(board: Record) -> None:
    assert reasons(board) == []
    assert reasons(Record.from_json(board.to_json())) == []


def test_a_tampered_proof_is_rejected_with_the_reason(board: Record) -> None:
    ballots = list(board.ballots)
    ballots[1] = flip(ballots[1], len(ballots[1]) - 5)
    found = reasons(replace(board, ballots=tuple(ballots)))
    assert any(r.startswith("ballot 1: the proof that") and "fails" in r for r in found)


def test_a_swapped_ciphertext_is_rejected(board: Record) -> None:
    ballots = list(board.ballots)
    # Replace ballot 0's first ciphertext with ballot 1's: on the curve, but unproven.
    ballots[0] = ballots[1][:128] + ballots[0][128:]
    found = reasons(replace(board, ballots=tuple(ballots)))
    assert any(r.startswith("ballot 0: the proof") for r in found)
    assert any(r.startswith("sum 0: is not the sum") for r in found)


def test_a_ciphertext_off_the_curve_is_rejected(board: Record) -> None:
    ballots = list(board.ballots)
    ballots[2] = flip(ballots[2], 63)
    found = reasons(replace(board, ballots=tuple(ballots)))
    assert any("ballot 2: a ciphertext is malformed: not a point" in r for r in found)


def test_ballots_out_of_order_are_rejected(board: Record) -> None:
    found = reasons(replace(board, ballots=board.ballots[::-1]))
    assert "ballots: are not sorted: their order could tell when each came" in found


def test_a_repeated_ballot_is_rejected(board: Record) -> None:
    found = reasons(replace(board, ballots=(*board.ballots, board.ballots[0])))
    assert "ballot 5: repeats the ciphertexts of ballot 0" in found


def test_a_tampered_sum_is_rejected(board: Record) -> None:
    sums = list(board.sums)
    sums[1] = sums[1] + sums[0]
    found = reasons(replace(board, sums=tuple(sums)))
    assert "sum 1: is not the sum of the ballots" in found


def test_a_tampered_share_is_rejected(board: Record) -> None:
    share = board.shares[0]
    factors = (share.factors[0] + base_mul(1), *share.factors[1:])
    bad = replace(share, factors=factors)
    found = reasons(replace(board, shares=(bad, board.shares[1])))
    assert any("share: the proof of correct decryption of sum 0 fails" in r for r in found)
    assert any("only 1 valid shares" in r for r in found)


def test_a_share_from_a_non_teller_or_twice_is_rejected(board: Record) -> None:
    stranger = replace(board.shares[0], index=9)
    found = reasons(replace(board, shares=(*board.shares, stranger, board.shares[0])))
    assert any("teller 9's share: teller 9 is not one of" in r for r in found)
    assert any("appears twice" in r for r in found)


def test_a_tampered_total_is_rejected(board: Record) -> None:
    totals = list(board.totals)
    totals[1] = 1
    assert "total 1: 1 is not what sum 1 decrypts to" in reasons(
        replace(board, totals=tuple(totals))
    )
    totals[1] = 99
    assert "total 1: 99 is outside 0..5" in reasons(replace(board, totals=tuple(totals)))
    assert "totals: 2 totals for 3 entries" in reasons(replace(board, totals=(1, 2)))


def test_a_tampered_manifest_is_rejected(board: Record) -> None:
    keys = list(board.manifest.verification_keys)
    keys[0], keys[1] = keys[1], keys[0]
    manifest = replace(board.manifest, verification_keys=tuple(keys))
    found = reasons(replace(board, manifest=manifest))
    assert any(r.startswith("manifest: teller 1's verification key") for r in found)
    # Every proof is bound to the manifest, so the ballots fail too.
    assert any(r.startswith("ballot 0: the proof") for r in found)


# --- receipts ----------------------------------------------------------------------


def test_a_receipt_is_found_exactly_when_its_ballot_is_on_the_board(board: Record) -> None:
    manifest = board.manifest
    for number, ballot in enumerate(board.ballots):
        text = receipt(manifest, ballot)
        assert len(text) == 23 and text.count("-") == 3
        assert find_receipt(board, text) == number
        assert find_receipt(board, text.lower().replace("-", " ")) == number
    missing = receipt(manifest, encrypt_ballot(manifest, (1, 0, 0)))
    assert find_receipt(board, missing) is None
    assert (
        find_receipt(replace(board, ballots=board.ballots[1:]), receipt(manifest, board.ballots[0]))
        is None
    )
    assert find_receipt(board, "not a receipt") is None


def test_receipts_forgive_look_alike_characters() -> None:
    assert normalise_receipt("abcde fghi1 klmn0 pqr8t") == "ABCDE-FGHII-KLMNO-PQRBT"
    assert normalise_receipt("ABCDE-FGHIJ") is None
    assert normalise_receipt("ÄBCDE-FGHIJ-KLMNO-PQRST") is None


# --- bad input ---------------------------------------------------------------------


def test_a_vector_outside_the_shape_is_refused_with_a_clear_error() -> None:
    manifest = new_vote().manifest
    with pytest.raises(ElectionError, match="3 entries, not 2"):
        encrypt_ballot(manifest, (1, 0))
    with pytest.raises(ElectionError, match="entry 1 is 2"):
        encrypt_ballot(manifest, (0, 2, 0))
    with pytest.raises(ElectionError, match="entry 0 is True"):
        encrypt_ballot(manifest, (True, 0, 0))
    with pytest.raises(ElectionError, match="constraint 0 sums to 2"):
        encrypt_ballot(manifest, (1, 1, 0))


def test_a_ballot_of_the_wrong_length_is_refused(board: Record) -> None:
    with pytest.raises(ElectionError, match="bytes"):
        check_ballot(board.manifest, board.ballots[0][:-1])
    with pytest.raises(ElectionError, match="bytes"):
        read_ciphertexts(board.manifest, "text")  # type: ignore[arg-type]


def test_out_of_range_scalars_and_points_are_refused() -> None:
    with pytest.raises(GroupError, match="out of range"):
        scalar_from_bytes(Q.to_bytes(32, "big"))
    with pytest.raises(GroupError):
        scalar_from_bytes(b"short")
    with pytest.raises(GroupError, match="not a point"):
        Point.from_bytes(b"\x01" * 64)
    with pytest.raises(GroupError):
        Point.from_bytes(b"\x00" * 63)


def test_a_proof_with_an_out_of_range_scalar_is_refused(board: Record) -> None:
    ballot = board.ballots[0]
    at = 3 * 128  # the first proof's first challenge
    bad = ballot[:at] + b"\xff" * 32 + ballot[at + 32 :]
    with pytest.raises(ElectionError, match="proof 0 is malformed: a scalar is out of range"):
        check_ballot(board.manifest, bad)


def test_the_identity_works_in_every_operation() -> None:
    zero = Point.identity()
    g = base_mul(1)
    assert (g - g).is_identity and zero.to_bytes() == bytes(64)
    assert Point.from_bytes(bytes(64)) == zero
    assert base_mul(0) == zero and base_mul(Q) == zero
    assert g.mul(0) == zero and g.mul_secret(0) == zero and zero.mul(5) == zero
    assert -zero == zero and zero + g == g and sum_points([]) == zero
    assert repr(zero) == "Point(0)" and repr(g).startswith("Point(")
    assert discrete_logs(g, [zero, g.mul(7)], [3, 9]) == (0, 7)
    with pytest.raises(ElectionError, match="not between 0 and 3"):
        discrete_logs(g, [g.mul(4)], [3])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "veche-vote-record/1"}',
        b'{"format": "veche-vote-record/1", "manifest": 3}',
    ],
)
def test_a_malformed_record_file_is_refused_with_a_message(data: bytes) -> None:
    with pytest.raises(ElectionError):
        Record.from_json(data)


def test_a_truncated_or_edited_record_is_refused_with_a_message(board: Record) -> None:
    text = board.to_json()
    with pytest.raises(ElectionError, match="not a JSON document"):
        Record.from_json(text[: len(text) // 2])
    data = json.loads(text)
    for field, value, message in [
        ("ballots", ["***"], "ballot 0 is not valid base64"),
        ("sums", ["AAAA"], "sum 0 is not 128 bytes"),
        ("sums", [base64.b64encode(b"\x01" * 128).decode()], "sum 0 is malformed"),
        ("shares", [{"teller": "x"}], "share 0 is malformed"),
        ("totals", ["1"], "totals are not all integers"),
        ("outcome", [], "outcome is not an object"),
        ("ballots", {}, "ballots are missing"),
    ]:
        edited = dict(data, **{field: value})
        with pytest.raises(ElectionError, match=message):
            Record.from_json(json.dumps(edited))
    edited = dict(data, shares=[{"teller": 1, "factors": "AAAA"}])
    with pytest.raises(ElectionError, match="share 0: a decryption share is"):
        Record.from_json(json.dumps(edited))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "x"}, "not veche-vote/1"),
        ({"threshold": 0}, "threshold or tellers"),
        ({"public_key": "zz"}, "bad key"),
        ({"public_key": "01" * 64}, "bad key"),
        ({"context": []}, "vote id or context"),
        ({"context": {"x": 1.5}}, "float has no canonical"),
        ({"shape": {"entries": [[0, 0]], "constraints": []}}, "distinct"),
        ({"shape": {"entries": [], "constraints": []}}, "at least one entry"),
        (
            {"shape": {"entries": [[0, 1]], "constraints": [{"terms": [], "allowed": [0]}]}},
            "no terms",
        ),
        (
            {"shape": {"entries": [[0, 1]], "constraints": [{"terms": [[5, 1]], "allowed": [0]}]}},
            "bad term",
        ),
        ({"shape": {"entries": "x"}}, "malformed ballot shape"),
    ],
)
def test_a_malformed_manifest_is_refused(board: Record, change: dict, message: str) -> None:
    data = dict(board.manifest.to_dict(), **change)
    with pytest.raises(ElectionError, match=message):
        Manifest.from_dict(data)


def test_a_manifest_missing_a_field_is_refused(board: Record) -> None:
    data = board.manifest.to_dict()
    del data["commitments"]
    with pytest.raises(ElectionError, match="lacks 'commitments'"):
        Manifest.from_dict(data)
    with pytest.raises(ElectionError, match="not an object"):
        Manifest.from_dict([])


# --- dealing and tellers -----------------------------------------------------------


def test_dealing_returns_no_secret_and_each_share_opens_only_for_its_teller() -> None:
    dealt = new_vote()
    manifest = dealt.manifest
    assert manifest.public_key == manifest.commitments[0]
    with pytest.raises(CannotDecrypt):
        open_share(manifest, 1, dealt.sealed_shares[0], TELLERS[1])
    with pytest.raises(ElectionError, match="for another teller"):
        open_share(manifest, 2, dealt.sealed_shares[0], TELLERS[0])
    with pytest.raises(ElectionError, match="not one of this vote's tellers"):
        open_share(manifest, 4, dealt.sealed_shares[0], TELLERS[0])
    key = open_share(manifest, 1, dealt.sealed_shares[0], TELLERS[0])
    assert "hidden" in repr(key) and "hidden" in str(key)


def test_a_share_that_disagrees_with_the_commitments_is_refused() -> None:
    dealt = new_vote()
    other = new_vote()
    with pytest.raises(ElectionError, match="disagrees with the teller's verification key"):
        open_share(dealt.manifest, 1, other.sealed_shares[0], TELLERS[0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 4}, "threshold"),
        ({"threshold": 0}, "threshold"),
        ({"teller_keys": [b"short"], "threshold": 1}, "malformed"),
        ({"vote_id": 5}, "vote id"),
        ({"teller_keys": [bytes(TELLERS[0].public_key)] * 3}, "appears twice"),
        ({"context": {"x": 0.5}}, "canonical"),
    ],
)
def test_dealing_refuses_bad_parameters(kwargs: dict, message: str) -> None:
    arguments = {
        "vote_id": "v",
        "shape": MAJORITY_SHAPE,
        "context": {},
        "teller_keys": [bytes(k.public_key) for k in TELLERS],
        "threshold": 2,
        **kwargs,
    }
    with pytest.raises(ElectionError, match=message):
        deal(**arguments)


def test_a_share_for_the_wrong_sums_is_refused(board: Record) -> None:
    dealt = new_vote()
    key = open_share(dealt.manifest, 1, dealt.sealed_shares[0], TELLERS[0])
    with pytest.raises(ElectionError, match="3 sums, not 2"):
        decryption_share(dealt.manifest, key, board.sums[:2])
    with pytest.raises(ElectionError, match="teller 1's share"):
        combine(
            board.manifest, board.sums, [decryption_share(dealt.manifest, key, board.sums)], cast=5
        )
    with pytest.raises(ElectionError, match="decryption share is"):
        DecryptionShare.from_bytes(1, b"x", 3)


def test_summing_stored_ballots_equals_summing_their_ciphertexts(board: Record) -> None:
    sums = sum_ballots(board.manifest, list(board.ballots))
    assert sums == list(board.sums)
    assert sum_ballots(board.manifest, []) == [sum_ciphertexts(board.manifest, [])[0]] * 3
    with pytest.raises(ElectionError, match="ballot 1 is not"):
        sum_ballots(board.manifest, [board.ballots[0], b"short"])
    bad = b"\x01" * 64 + board.ballots[0][64:]
    with pytest.raises(ElectionError, match="not a point on the curve"):
        sum_ballots(board.manifest, [bad])


def test_summing_encoded_points_handles_the_identity() -> None:
    g = base_mul(1)
    assert sum_encoded([]) == Point.identity()
    assert sum_encoded([bytes(64), g.to_bytes()]) == g
    assert sum_encoded([g.to_bytes(), (-g).to_bytes()]) == Point.identity()
    with pytest.raises(GroupError):
        sum_encoded([b"x"])
