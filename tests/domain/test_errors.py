"""Domain errors: a fixed English template, its params, and the sentence they make."""

from __future__ import annotations

import pytest

from veche.domain.errors import DomainError, InvalidBallot, InvalidEvent, Phrase, _
from veche.domain.voting import Method, VoteSpec, validate_ballot


def test_params_fill_the_english_message_and_the_template_stays_fixed():
    error = DomainError("at most %(n)d alternatives", params={"n": 3})
    assert error.message == "at most 3 alternatives"
    assert str(error) == "at most 3 alternatives"
    assert error.template == "at most %(n)d alternatives"
    assert error.params == {"n": 3}
    assert error.field is None


def test_without_params_the_message_is_the_template_even_with_a_percent_sign():
    error = InvalidEvent("100% sure", field="title")
    assert error.message == error.template == str(error) == "100% sure"
    assert error.params == {}
    assert error.field == "title"


def test_the_marker_returns_its_argument():
    assert _("a ranking") == "a ranking"
    assert Phrase(_("voting")) == "voting"


def test_a_nested_error_reads_as_its_english_sentence():
    inner = InvalidBallot(_("an option is ranked twice"))
    outer = InvalidBallot(_("ballot %(number)d: %(error)s"), params={"number": 2, "error": inner})
    assert outer.message == "ballot 2: an option is ranked twice"
    assert outer.params["error"] is inner


def test_a_raised_message_keeps_a_fixed_template():
    spec = VoteSpec(method=Method.SCORE, options=("a", "b"), max_score=5)
    with pytest.raises(InvalidBallot) as caught:
        validate_ballot(spec, [1, 9])
    assert caught.value.message == "score 9 is outside 0..5"
    assert caught.value.template == "score %(score)d is outside 0..%(max)d"
    assert caught.value.params == {"score": 9, "max": 5}
