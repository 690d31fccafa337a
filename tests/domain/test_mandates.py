"""Temporary coordinators: rotation and the reproducible lot."""

from __future__ import annotations

import hashlib

import pytest

from veche.domain.charter import Rotation
from veche.domain.errors import MandateError
from veche.domain.mandates import draw_lot, eligible_volunteers


def test_rotation_excludes_the_last_holder() -> None:
    allowed = eligible_volunteers(["b", "a", "c"], ["c", "a"], Rotation.PREVIOUS_HOLDER)
    assert allowed == ("b", "c")


def test_rotation_without_history_allows_everyone_sorted_once() -> None:
    assert eligible_volunteers(["b", "a", "b"], [], Rotation.PREVIOUS_HOLDER) == ("a", "b")


def test_previous_holder_rotation_allows_earlier_holders() -> None:
    assert eligible_volunteers(["a", "b"], ["a", "c"], Rotation.PREVIOUS_HOLDER) == ("a", "b")


def test_until_all_served_keeps_only_those_who_served_least() -> None:
    history = ["a", "b", "a", "c"]
    assert eligible_volunteers(["a", "b", "d"], history, Rotation.UNTIL_ALL_SERVED) == ("d",)
    assert eligible_volunteers(["a", "b"], history, Rotation.UNTIL_ALL_SERVED) == ("b",)


def test_until_all_served_still_excludes_the_last_holder() -> None:
    # c served once, like b, but held the last mandate.
    assert eligible_volunteers(["b", "c"], ["a", "b", "c"], Rotation.UNTIL_ALL_SERVED) == ("b",)


def test_the_only_volunteer_being_the_last_holder_leaves_nobody() -> None:
    for rotation in Rotation:
        assert eligible_volunteers(["a"], ["a"], rotation) == ()


def test_lot_is_deterministic_and_records_its_seed() -> None:
    seed = b"0123456789abcdef"
    first = draw_lot(["a", "b", "c"], seed)
    assert first == draw_lot(["a", "b", "c"], seed)
    assert first.seed_hex == seed.hex()
    assert sorted(first.order) == ["a", "b", "c"]
    assert first.chosen == first.order[0]


def test_lot_follows_the_published_ticket_rule() -> None:
    seed = b"seed-for-the-lot"
    names = ["x", "y", "z", "w"]

    def ticket(name: str) -> bytes:
        return hashlib.sha256(seed + b":" + name.encode()).digest()

    assert draw_lot(names, seed).order == tuple(sorted(names, key=ticket))


def test_lot_does_not_depend_on_input_order_or_duplicates() -> None:
    seed = b"another-seed-1234"
    assert draw_lot(["c", "a", "b"], seed) == draw_lot(["b", "c", "a", "a"], seed)


def test_different_seeds_can_choose_different_winners() -> None:
    names = [f"m{i}" for i in range(8)]
    winners = {draw_lot(names, bytes([i]) * 16).chosen for i in range(32)}
    assert len(winners) > 1


def test_lot_without_candidates_is_a_mandate_error() -> None:
    with pytest.raises(MandateError) as caught:
        draw_lot([], b"seed")
    assert caught.value.field == "volunteers"


def test_lot_without_seed_is_a_mandate_error() -> None:
    with pytest.raises(MandateError) as caught:
        draw_lot(["a"], b"")
    assert caught.value.field == "seed"
