"""What a vote is: its method, options and rules, fixed before the vote opens."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from veche.domain.errors import InvalidCharter, _


class Method(StrEnum):
    """How ballots are cast and counted."""

    MAJORITY = "majority"
    SUPERMAJORITY = "supermajority"
    APPROVAL = "approval"
    SCORE = "score"
    IRV = "irv"
    SCHULZE = "schulze"


RANKED_METHODS = frozenset({Method.IRV, Method.SCHULZE})
CHOICE_METHODS = frozenset({Method.MAJORITY, Method.SUPERMAJORITY})


@dataclass(frozen=True)
class VoteSpec:
    """The parameters of one vote; refuses impossible combinations when built.

    ``options[i]`` is the label of option ``i``. ``status_quo`` is the index of the
    "keep things as they are / reject" option, if there is one: it can win, but its
    winning never adopts anything.
    """

    method: Method
    options: tuple[str, ...]
    status_quo: int | None = None
    threshold: Fraction = Fraction(1, 2)
    quorum: Fraction = Fraction(0)
    max_score: int = 5

    def __post_init__(self) -> None:
        if not isinstance(self.method, Method):
            raise InvalidCharter(
                _("unknown voting method %(method)r"),
                params={"method": self.method},
                field="method",
            )
        if len(self.options) < 2:
            raise InvalidCharter(_("a vote needs at least two options"), field="options")
        if len(set(self.options)) != len(self.options):
            raise InvalidCharter(_("two options have the same label"), field="options")
        if self.status_quo is not None and not (
            _is_int(self.status_quo) and 0 <= self.status_quo < len(self.options)
        ):
            raise InvalidCharter(_("the status quo must be one of the options"), field="status_quo")
        if not isinstance(self.threshold, Fraction | int) or isinstance(self.threshold, bool):
            # Floats would make "exactly two thirds" depend on rounding.
            raise InvalidCharter(_("the threshold must be an exact fraction"), field="threshold")
        if not 0 <= self.threshold < 1 and self.method is Method.MAJORITY:
            raise InvalidCharter(_("a majority threshold lies in [0, 1)"), field="threshold")
        if not 0 < self.threshold <= 1 and self.method is Method.SUPERMAJORITY:
            raise InvalidCharter(_("a supermajority threshold lies in (0, 1]"), field="threshold")
        if not isinstance(self.quorum, Fraction | int) or not 0 <= self.quorum <= 1:
            raise InvalidCharter(_("the quorum is an exact fraction in [0, 1]"), field="quorum")
        if not _is_int(self.max_score) or self.max_score < 1:
            raise InvalidCharter(_("the maximum score is a positive integer"), field="max_score")


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True as an option index is always a caller bug.
    return isinstance(value, int) and not isinstance(value, bool)
