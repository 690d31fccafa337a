"""Russian and Ukrainian reach the member's pages, and every catalogue is complete."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import html
import re
from pathlib import Path

import pytest
from django.utils import translation

import veche
from veche.apps.core import errors as core_errors
from veche.domain.errors import DomainError, InvalidBallot, InvalidEvent, Phrase
from veche.domain.errors import _ as N_

pytestmark = pytest.mark.django_db

APPS_DIR = Path(veche.__file__).parent / "apps"
# The domain's own catalogue (LOCALE_PATHS): the core's error messages.
DOMAIN_LOCALE = Path(veche.__file__).parent / "locale"
CATALOGUES = sorted(APPS_DIR.glob("*/locale/*/LC_MESSAGES/django.po")) + sorted(
    DOMAIN_LOCALE.glob("*/LC_MESSAGES/django.po")
)

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
    apps = {p.name for p in APPS_DIR.iterdir() if (p / "jinja2").is_dir()}
    assert {"core", "accounts", "federation", "proposals", "fund", "api"} <= apps
    found = {(po.parts[-5], po.parts[-3]) for po in CATALOGUES}
    assert {(app, lang) for app in apps for lang in ("ru", "uk")} <= found
    assert {("veche", lang) for lang in ("ru", "uk")} <= found


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


# --- domain errors in the member's language -----------------------------------------------


@pytest.mark.parametrize(
    ("language", "sentence"),
    [("ru", "срок должен быть в будущем"), ("uk", "термін має бути в майбутньому")],
)
def test_a_domain_error_reaches_the_member_in_their_language(
    member_a, client_for, language, sentence
):
    client = client_for(member_a)
    assert client.post("/i18n/setlang/", {"language": language, "next": "/"}).status_code == 302
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/proposals/new/",
        {
            "kind": "group-practice",
            "title": "Meet on Tuesdays",
            "body": "Weekly.",
            "deadline": past,
        },
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert sentence in page
    assert "the deadline must be in the future" not in page


def test_the_same_error_stays_english_by_default(member_a, client_for):
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(member_a).post(
        "/proposals/new/",
        {
            "kind": "group-practice",
            "title": "Meet on Tuesdays",
            "body": "Weekly.",
            "deadline": past,
        },
    )
    assert response.status_code == 400
    assert "the deadline must be in the future" in html.unescape(response.content.decode())


def test_translated_fills_params_and_translates_nested_errors_and_phrases():
    inner = InvalidBallot(N_("an option is ranked twice"))
    outer = InvalidBallot(N_("ballot %(number)d: %(error)s"), params={"number": 3, "error": inner})
    assert outer.message == "ballot 3: an option is ranked twice"
    closed = InvalidEvent(
        N_("the proposal is closed: %(doing)s is no longer possible"),
        params={"doing": Phrase(N_("voting"))},
    )
    with translation.override("ru"):
        assert core_errors.translated(outer) == "бюллетень 3: вариант ранжирован дважды"
        assert core_errors.translated(closed) == (
            "предложение закрыто: действие «голосование» больше невозможно"
        )
        # A plain str param (a key, a name a member typed) is shown as it is.
        assert core_errors.translated(InvalidEvent(N_("line %(number)d: %(error)s"), params={
            "number": 1, "error": "voting"})) == "строка 1: voting"  # fmt: skip
    with translation.override("en"):
        assert core_errors.translated(outer) == outer.message


@pytest.mark.parametrize(
    "broken",
    [
        "не больше %(count)d вариантов",  # names a param the error does not carry
        "не больше %(n)s из %(m)d вариантов",  # too few params for the template
        "не больше %(n)z вариантов",  # not a conversion at all
    ],
)
def test_translated_falls_back_to_english_when_a_translation_is_broken(monkeypatch, broken):
    monkeypatch.setattr(core_errors, "gettext", lambda message: broken)
    error = DomainError(N_("at most %(n)d alternatives"), params={"n": 20})
    assert core_errors.translated(error) == "at most 20 alternatives"
