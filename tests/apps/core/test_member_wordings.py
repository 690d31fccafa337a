"""What members read: one date format, kinds and methods by name, plain wordings, 1-based
option numbers, and the charter's default kind names marked for translation."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from veche.apps.core import labels
from veche.apps.core.l10n import format_moment
from veche.domain.charter import default_charter

pytestmark = pytest.mark.django_db

# The two formats pages used before: "2030-01-07T09:00 UTC" and "2030-01-07T09:00".
OLD_FORMAT = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b")


@pytest.fixture
def demo(db: Any, client: Any, test_keys: Any) -> Any:
    from django.utils import timezone
    from tests.conftest import log_in_with_keys

    from veche.apps.accounts.models import Member
    from veche.crypto import unlock
    from veche.demo import PASSPHRASE
    from veche.demo import build as build_demo

    build_demo(now=timezone.now(), keys=test_keys.keyring)

    def as_(pseudonym: str) -> Any:
        member = Member.objects.get(pseudonym=pseudonym)
        return log_in_with_keys(client, member, unlock(member.key_record(), PASSPHRASE))

    return as_


def _page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def _proposal(title: str) -> int:
    from veche.apps.proposals.models import ProposalVersion

    for version in ProposalVersion.objects.select_related("proposal"):
        if version.title == title:
            return version.proposal_id
    raise AssertionError(title)


def test_every_moment_is_shown_in_one_localized_format() -> None:
    moment = dt.datetime(2030, 1, 7, 9, 5, tzinfo=dt.UTC)
    assert format_moment(moment, "en") == "Jan 7, 2030, 09:05 UTC"
    assert format_moment(moment, "ru") == "7 янв. 2030\u202fг., 09:05 UTC"
    assert format_moment(moment, "uk") == "7 січ. 2030\u202fр., 09:05 UTC"
    with translation.override("ru"):
        assert format_moment(moment) == "7 янв. 2030\u202fг., 09:05 UTC"


def test_pages_show_moments_in_that_format_only(demo: Any) -> None:
    client = demo("olena")
    voted = _proposal("Where to hold the tenants' assembly")
    for url in ("/inbox/", "/proposals/", "/proposals/?show=closed", "/decisions/", "/fund/",
                f"/proposals/{voted}/", "/fund/accounts/fund/"):  # fmt: skip
        page = _page(client, url)
        assert not OLD_FORMAT.search(page), (url, OLD_FORMAT.search(page))
        assert re.search(r"<time datetime=\"[^\"]+\">\w{3} \d{1,2}, \d{4}, \d{2}:\d{2} UTC</time>",
                         client.get(url).content.decode()), url  # fmt: skip


def test_the_charter_reads_in_plain_words(demo: Any) -> None:
    page = _page(demo("olena"), "/federation/")
    assert "block(s)" not in page
    assert "1 block stops it." in page and "2 blocks stop it." in page
    assert "a vote (schulze)" not in page and "a vote (supermajority)" not in page
    assert "secret vote by Schulze (Condorcet), open for 1 day" in page
    assert "vote by simple majority, open for 1 day" in page


def test_a_recalled_mandate_is_not_said_to_be_decided_by_that_mandate(demo: Any) -> None:
    client = demo("dana")
    pid = _proposal("Talk to the press about the strike")
    page = _page(client, f"/proposals/{pid}/")
    assert "Temporary coordinator recalled" in page
    assert "by a temporary coordinator's mandate" not in page
    log = _page(client, "/decisions/")
    assert "recalled by a temporary coordinator's mandate" not in log
    assert "Temporary coordinator recalled" in log


def test_a_tie_break_names_options_from_1() -> None:
    result = {
        "quorum_met": True, "winner": "Beta", "cast": 2, "eligible": 3, "abstained": 0,
        "kind": "ChoiceAudit", "counts": [("Alpha", 1), ("Beta", 0), ("Gamma", 1)],
        "tie_break": {"seed_hex": "ab12", "tied": [0, 2], "order": [2, 0]},
    }  # fmt: skip
    page = html.unescape(render_to_string("proposals/result.html", {"result": result}))
    assert "tied options 1, 3 → order 3, 1." in page
    assert "<th>1. Alpha</th>" in page and "<th>3. Gamma</th>" in page
    assert "SHA-256(seed:n-1)" in page


def test_the_default_kind_names_are_marked_for_translation() -> None:
    """Every default kind's name is in the list makemessages reads: a kind added to the
    default charter without it would stay English in every language."""
    assert sorted(labels.DEFAULT_KIND_NAMES) == sorted(k.name for k in default_charter().kinds)


def test_a_default_kind_is_translated_and_a_renamed_one_stays_as_written(monkeypatch) -> None:
    from dataclasses import replace

    monkeypatch.setattr(labels, "gettext", lambda text: f"<{text}>")
    kind = default_charter().kinds[0]
    assert labels.kind_name(kind) == f"<{kind.name}>"
    renamed = replace(kind, name="Как мы работаем")
    assert labels.kind_name(renamed) == "Как мы работаем"
    # A name equal to another kind's default is still the federation's own wording.
    other = replace(kind, name=default_charter().kinds[1].name)
    assert labels.kind_name(other) == other.name


def test_proposal_pages_and_forms_name_kinds_through_the_catalogue(demo: Any, monkeypatch) -> None:
    monkeypatch.setattr(labels, "gettext", lambda text: f"[{text}]")
    client = demo("olena")
    assert "[How and when the group does its work]" in _page(client, "/proposals/new/")
    assert "[Admitting a group to the federation]" in _page(client, "/proposals/")
    assert "[Amending the charter]" in _page(client, "/federation/")
    pid = _proposal("Rotate the minute-taker")
    assert "[How and when the group does its work]" in _page(client, f"/proposals/{pid}/")
