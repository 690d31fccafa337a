"""`veche verify-vote`: checks a record offline, recounts the result, finds receipts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nacl.public
import pytest

from veche.cli import main
from veche.crypto.election import (
    Record,
    Shape,
    check_ballot,
    combine,
    deal,
    decryption_share,
    encrypt_ballot,
    open_share,
    receipt,
    sum_ciphertexts,
)
from veche.domain.voting import Method, VoteSpec, tally
from veche.domain.voting.vectors import ballot_vector, vector_shape
from veche.verify_vote import vote_context, vote_outcome

SEED = b"verify seed"
TELLERS = [nacl.public.PrivateKey.generate() for _ in range(3)]


def schulze_record() -> Record:
    spec = VoteSpec(Method.SCHULZE, ("keep", "move", "split"), status_quo=0)
    plain = [[1, 2], [1], [2, 0, 1], [], [1, 0]]
    max_ballots = 7
    dealt = deal(
        vote_id="proposal-42",
        shape=Shape.from_dict(vector_shape(spec, max_ballots=max_ballots).to_dict()),
        context=vote_context(spec, tie_seed=SEED, max_ballots=max_ballots),
        teller_keys=[bytes(k.public_key) for k in TELLERS],
        threshold=2,
    )
    manifest = dealt.manifest
    ballots = [
        encrypt_ballot(manifest, ballot_vector(spec, b, max_ballots=max_ballots)) for b in plain
    ]
    sums = sum_ciphertexts(manifest, [check_ballot(manifest, b) for b in ballots])
    shares = [
        decryption_share(
            manifest, open_share(manifest, i, dealt.sealed_shares[i - 1], TELLERS[i - 1]), sums
        )
        for i in (2, 3)
    ]
    totals = combine(manifest, sums, shares, cast=len(ballots))
    result = tally(spec, plain, eligible=6, tie_seed=SEED)
    return Record.build(manifest, ballots, sums, shares, totals, vote_outcome(result))


@pytest.fixture(scope="module")
def record() -> Record:
    return schulze_record()


def write(tmp_path: Path, data: bytes, name: str = "vote.json") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_an_honest_record_verifies_and_its_receipts_are_found(
    record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, record.to_json())
    assert main(["verify-vote", path, "--processes", "1"]) == 0
    assert "OK: 5 ballots, 2 teller shares" in capsys.readouterr().out
    code = receipt(record.manifest, record.ballots[3])
    assert main(["verify-vote", path, "--receipt", code.lower()]) == 0
    assert "is ballot 3" in capsys.readouterr().out


def test_a_receipt_not_on_the_board_fails(
    record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, record.to_json())
    assert main(["verify-vote", path, "--receipt", "AAAAA-AAAAA-AAAAA-AAAAA"]) == 1
    assert "is not on this board" in capsys.readouterr().out


def test_a_changed_result_is_caught_by_the_recount(
    record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(record.to_json())
    data["outcome"]["result"]["winner"] = 0
    path = write(tmp_path, json.dumps(data).encode())
    assert main(["verify-vote", path]) == 1
    assert "result: the recorded result differs from the recount" in capsys.readouterr().out


def test_a_context_that_does_not_match_the_shape_is_caught(
    record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(record.to_json())
    data["manifest"]["context"]["spec"]["method"] = "approval"
    path = write(tmp_path, json.dumps(data).encode())
    assert main(["verify-vote", path, "--processes", "1"]) == 1
    out = capsys.readouterr().out
    assert "result: cannot be recounted: the ballots' shape is not the shape" in out
    data["manifest"]["context"] = {}
    path = write(tmp_path, json.dumps(data).encode())
    assert main(["verify-vote", path, "--processes", "1"]) == 1
    assert "cannot be recounted: the record lacks 'spec'" in capsys.readouterr().out


def test_tampered_ballots_give_one_line_each(
    record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(record.to_json())
    data["ballots"][1], data["ballots"][2] = (
        data["ballots"][2],
        data["ballots"][1][:-8] + "AAAAAAA=",
    )
    path = write(tmp_path, json.dumps(data).encode())
    assert main(["verify-vote", path, "--processes", "1"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(": ballot 2: " in line for line in lines)
    assert all(line.startswith(path) for line in lines)


@pytest.mark.parametrize("cut", [0, 10, 5000])
def test_a_truncated_or_missing_file_is_one_line_and_exit_2(
    record: Record, tmp_path: Path, capsys: pytest.CaptureFixture[str], cut: int
) -> None:
    path = write(tmp_path, record.to_json()[:cut])
    assert main(["verify-vote", path]) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "not a readable vote record" in out
    assert main(["verify-vote", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().out


def test_verify_vote_runs_without_django(record: Record, tmp_path: Path) -> None:
    path = write(tmp_path, record.to_json())
    script = (
        "import sys; sys.modules['django'] = None\n"
        "from veche.cli import main\n"
        f"raise SystemExit(main(['verify-vote', {path!r}]))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout
