"""Russian and Ukrainian reach the member's pages, and every catalogue is complete."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

import veche

pytestmark = pytest.mark.django_db

APPS_DIR = Path(veche.__file__).parent / "apps"
CATALOGUES = sorted(APPS_DIR.glob("*/locale/*/LC_MESSAGES/django.po"))

# page -> (English heading, {language: a string the translated page shows})
PAGES = {
    "/proposals/": (
        "<h1>Proposals</h1>",
        {"ru": "<h1>Предложения</h1>", "uk": "<h1>Пропозиції</h1>"},
    ),
    "/inbox/": ("<h1>Inbox</h1>", {"ru": "<h1>Входящие</h1>", "uk": "<h1>Вхідні</h1>"}),
    "/decisions/": ("<h1>Decisions</h1>", {"ru": "<h1>Решения</h1>", "uk": "<h1>Рішення</h1>"}),
    "/fund/": (
        "<h1>Common fund</h1>",
        {"ru": "<h1>Общий фонд</h1>", "uk": "<h1>Спільний фонд</h1>"},
    ),
}
BODY_TEXT = {
    "/proposals/": {"ru": "Внести предложение", "uk": "Внести пропозицію"},
    "/inbox/": {"ru": "Все предложения", "uk": "Усі пропозиції"},
    "/decisions/": {"ru": "Решений пока нет.", "uk": "Рішень поки немає."},
    "/fund/": {"ru": "Просьбы о поддержке", "uk": "Прохання про підтримку"},
}


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_member_pages_are_translated(member_a, client_for, language):
    client = client_for(member_a)
    switched = client.post("/i18n/setlang/", {"language": language, "next": "/inbox/"})
    assert switched.status_code == 302
    for url, (english, translated) in PAGES.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == language, url
        page = response.content.decode()
        assert translated[language] in page, url
        assert BODY_TEXT[url][language] in page, url
        assert english not in page, url


def test_english_stays_the_default(member_a, client_for):
    client = client_for(member_a)
    for url, (english, _) in PAGES.items():
        assert english in client.get(url).content.decode(), url


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        ("ru", {1: "доброволец", 3: "добровольца", 5: "добровольцев", 11: "добровольцев",
                21: "доброволец", 22: "добровольца", 112: "добровольцев"}),
        ("uk", {1: "доброволець", 3: "добровольці", 5: "добровольців", 11: "добровольців",
                21: "доброволець", 22: "добровольці", 112: "добровольців"}),
    ],
)  # fmt: skip
def test_plural_forms(language, forms):
    with translation.override(language):
        for n, word in forms.items():
            text = translation.ngettext(
                "%(n)s volunteer so far.", "%(n)s volunteers so far.", n
            ) % {"n": n}
            assert text.endswith(f"{n} {word}."), (n, text)


def _entries(po: Path) -> list[dict]:
    """Parse msgid/msgstr blocks: enough for gettext's own output, no dependency."""
    entries = []
    for block in re.split(r"\n\s*\n", po.read_text(encoding="utf-8").strip()):
        entry: dict = {"flags": set(), "msgctxt": None, "msgid": None, "msgstr": {}}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if key in ("msgid", "msgctxt"):
                    entry[key] += value
                elif key is not None:
                    entry["msgstr"][key] += value
            else:
                match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
                assert match, (po, line)
                name, value = match.group(1), ast.literal_eval(match.group(2))
                if name == "msgid":
                    entry["msgid"] = value
                    key = "msgid"
                elif name.startswith("msgstr"):
                    entry["msgstr"][name] = value
                    key = name
                elif name == "msgctxt":
                    entry["msgctxt"] = value
                    key = "msgctxt"
                else:
                    key = None
        entries.append(entry)
    return entries


def test_there_are_catalogues_for_every_app_and_language():
    apps = {p.name for p in APPS_DIR.iterdir() if (p / "templates").is_dir()}
    found = {(po.parts[-5], po.parts[-3]) for po in CATALOGUES}
    assert {(app, lang) for app in apps for lang in ("ru", "uk")} <= found


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: "/".join(p.parts[-5:-2]))
def test_catalogue_is_complete_and_compiled(po):
    entries = _entries(po)
    header = entries[0]
    assert header["msgid"] == ""
    assert "nplurals=3;" in header["msgstr"]["msgstr"]
    untranslated, fuzzy = [], []
    for entry in entries[1:]:
        if entry.get("obsolete"):
            continue
        if "fuzzy" in entry["flags"]:
            fuzzy.append(entry["msgid"])
        if not entry["msgstr"] or not all(entry["msgstr"].values()):
            untranslated.append(entry["msgid"])
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy
    # The compiled catalogue is the one Django reads: it must hold every translation.
    with po.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    for entry in entries[1:]:
        if entry.get("obsolete"):
            continue
        msgid = entry["msgid"]
        if entry["msgctxt"] is not None:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgstr" in entry["msgstr"]:
            assert compiled.get(msgid) == entry["msgstr"]["msgstr"], msgid
        else:
            assert compiled.get((msgid, 0)) == entry["msgstr"]["msgstr[0]"], msgid
