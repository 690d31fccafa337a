"""Real Debian Project Leader elections: Schulze must elect whom Debian announced."""

from __future__ import annotations

import pytest
from voting_helpers import debian_data_dir, read_soi

from veche.domain.voting import Method, SchulzeAudit, VoteSpec, tally

# Debian's published 2002 beat matrix (row over column), options 1-4 as in the file.
PUBLISHED_2002 = [
    [0, 255, 178, 385],
    [199, 0, 134, 406],
    [291, 327, 0, 443],
    [68, 50, 18, 0],
]


@pytest.mark.parametrize(
    ("filename", "winner"),
    [("00002-00000001.soi", "Bdale Garbee"), ("00002-00000007.soi", "Stefano Zacchiroli")],
)
def test_schulze_elects_the_announced_debian_project_leader(filename: str, winner: str) -> None:
    names, ballots = read_soi(debian_data_dir() / filename)
    spec = VoteSpec(Method.SCHULZE, tuple(names), status_quo=names.index("None Of The Above"))

    result = tally(spec, ballots, eligible=len(ballots), tie_seed=b"debian")

    assert result.winner == 2
    assert names[2] == winner
    assert result.adopted
    assert result.tie_break is None


def test_pairwise_matrix_of_2002_is_close_to_the_published_one() -> None:
    names, ballots = read_soi(debian_data_dir() / "00002-00000001.soi")
    spec = VoteSpec(Method.SCHULZE, tuple(names))

    audit = tally(spec, ballots, eligible=len(ballots), tie_seed=b"debian").audit

    assert isinstance(audit, SchulzeAudit)
    for i in range(4):
        for j in range(4):
            # PrefLib's conversion lost a few ballots; the README says "a few votes".
            assert abs(audit.pairwise[i][j] - PUBLISHED_2002[i][j]) <= 8, (i, j)
            if i != j:
                published_wins = PUBLISHED_2002[i][j] > PUBLISHED_2002[j][i]
                assert (audit.pairwise[i][j] > audit.pairwise[j][i]) == published_wins
