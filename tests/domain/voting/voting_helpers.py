"""Helpers for the voting tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
REPO = TESTS.parent


def debian_data_dir() -> Path:
    """Return the Debian data folder: the repo copy, else ../shared beside the repo."""
    local = TESTS / "data" / "debian"
    if local.is_dir():
        return local
    return REPO / ".." / "shared" / "data" / "debian"


def read_soi(path: Path) -> tuple[list[str], list[list[int]]]:
    """Return (option names, one 0-based ranking per voter) from a PrefLib soi file."""
    names: dict[int, str] = {}
    ballots: list[list[int]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ALTERNATIVE NAME"):
            label, name = line[len("# ALTERNATIVE NAME ") :].split(":", 1)
            names[int(label)] = name.strip()
        elif line and not line.startswith("#"):
            count, ranking = line.split(":", 1)
            order = [int(option) - 1 for option in ranking.split(",") if option.strip()]
            ballots.extend([list(order) for _ in range(int(count))])
    return [names[i] for i in sorted(names)], ballots
