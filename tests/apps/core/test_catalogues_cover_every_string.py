"""Every string a member can see is translated in Russian and Ukrainian.

Django's own ``makemessages`` extracts every msgid from the code and templates (data
labels included: kind names, methods, accounts, transaction kinds, chart legends are all
marked) into a temporary directory; the test fails on any msgid that the committed
catalogues (every app's and the domain's, merged as Django merges them at run time) do
not translate. Needs GNU gettext (``apt-get install gettext``; .ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from test_translations import CATALOGUES, _entries

import veche

PACKAGE = Path(veche.__file__).parent
LANGUAGES = ("ru", "uk")


def _extract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Return every entry ``makemessages`` finds in a copy of the package."""
    copy = tmp_path / "veche"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("locale", "__pycache__", "*.mo", "*.po")
    )
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    # The copy's own locale directory only: the committed catalogues are never touched.
    with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
        call_command("makemessages", locale=["ru"], verbosity=0, no_obsolete=True)
    return _entries(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po")[1:]


def _translated(language: str) -> set[tuple[str | None, str]]:
    found = set()
    for po in CATALOGUES:
        if po.parts[-3] != language:
            continue
        for entry in _entries(po)[1:]:
            if entry.get("obsolete") or "fuzzy" in entry["flags"]:
                continue
            if entry["msgstr"] and all(entry["msgstr"].values()):
                found.add((entry["msgctxt"], entry["msgid"]))
    return found


@pytest.fixture
def gettext_tools() -> None:
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext is missing: .ci/run installs it (apt-get install gettext)")
        pytest.skip("GNU gettext is missing (apt-get install gettext)")


def test_every_marked_string_is_translated_in_russian_and_ukrainian(
    gettext_tools: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extracted = {(e["msgctxt"], e["msgid"]) for e in _extract(tmp_path, monkeypatch)}
    missing = {lang: sorted(extracted - _translated(lang), key=str) for lang in LANGUAGES}
    assert missing == {language: [] for language in LANGUAGES}, "\n".join(
        f"{language}: {len(found)} untranslated, e.g. {[m for _c, m in found[:15]]}"
        for language, found in missing.items()
    )


def test_the_extraction_finds_the_labels_members_read(
    gettext_tools: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above is only as good as the extraction: the data labels are in it."""
    extracted = {e["msgid"] for e in _extract(tmp_path, monkeypatch)}
    for label in (
        "How and when the group does its work",  # a default kind's name
        "Schulze (Condorcet)",  # a method
        "Held for %(group)s",  # an account
        "disbursement",  # a transaction kind
        "contributions",  # a chart legend
        "Nothing was recorded.",  # a template
        "the amount must be more than zero",  # a refusal from the domain's marker
    ):
        assert label in extracted, label
