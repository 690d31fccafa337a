"""The code's layout holds: apps listed statically, layered, every command listed.

import-linter checks the layers (`lint-imports` in `python3 dev.py test`); this checks
that the contract is there and covers every app, that apps, URLs and commands are
listed rather than discovered, and that no module of an app imports inside a function.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from django.conf import settings

import veche

ROOT = Path(veche.__file__).resolve().parents[2]
SRC = Path(veche.__file__).resolve().parent


def test_apps_are_listed_statically_and_all_installed():
    apps = sorted(p.name for p in (SRC / "apps").iterdir() if (p / "apps.py").exists())
    assert sorted(a.rsplit(".", 1)[1] for a in settings.VECHE_APPS) == apps
    assert [a for a in settings.INSTALLED_APPS if a.startswith("veche.")] == settings.VECHE_APPS
    for path in (SRC / "config" / "settings.py", SRC / "config" / "urls.py", SRC / "cli.py"):
        text = path.read_text()
        assert "find_spec" not in text and "import_module" not in text, path


def test_every_app_with_urls_is_included_in_the_root_urls():
    urls = (SRC / "config" / "urls.py").read_text()
    for app in settings.VECHE_APPS:
        if (SRC / "apps" / app.rsplit(".", 1)[1] / "urls.py").exists():
            assert f'include("{app}.urls")' in urls, app


def test_the_layers_contract_lists_every_app_in_order():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    # Highest first in the contract; lowest first in VECHE_APPS.
    assert list(reversed(layers)) == settings.VECHE_APPS


def test_no_app_module_imports_inside_a_function():
    late = []
    for path in (SRC / "apps").rglob("*.py"):
        if "migrations" in path.parts or path.name == "apps.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                late += [
                    f"{path.relative_to(SRC)}:{inner.lineno}"
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.Import | ast.ImportFrom)
                ]
    assert late == []
