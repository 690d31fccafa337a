"""A busy database answers clearly: a short wait, then "not saved, try again", input kept.

Another process holds the write lock (SQLite: an open ``BEGIN IMMEDIATE``; PostgreSQL:
the proposal's row locked ``FOR UPDATE``) for longer than the wait. A member's post
then gets a 503 page that says nothing was saved and hands back what they typed (never
their passphrase); nothing is stored; pages keep being served meanwhile; and once the
lock is gone, sending it again works.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from veche.apps.core.busy import kept_fields, set_wait
from veche.apps.proposals import services as s
from veche.apps.proposals.models import ProposalEvent

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def another_writer_holds_the_lock(proposal_id: int) -> Iterator[None]:
    if connection.vendor == "sqlite":
        other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        import psycopg

        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=False) as other:
            other.execute(
                "SELECT id FROM proposals_proposal WHERE id = %s FOR UPDATE", [proposal_id]
            )
            yield
            other.rollback()


def test_a_post_while_another_writer_holds_the_lock_gets_a_503_with_its_input_kept(
    group_a, make_member, client_for
):
    author = make_member(group_a, "ada")
    member = make_member(group_a, "ben")
    make_member(group_a, "cleo")
    row = s.create_proposal(author=author, kind_key="group-practice", title="Paint", body="Blue.")
    client = client_for(member)
    stored = ProposalEvent.objects.count()
    set_wait(300)
    try:
        with another_writer_holds_the_lock(row.pk):
            started = time.monotonic()
            posted = client.post(
                f"/proposals/{row.pk}/respond/",
                {"position": "object", "reason": "Not blue: green", "version": "1"},
            )
            waited = time.monotonic() - started
            page = client.get(f"/proposals/{row.pk}/")
    finally:
        set_wait(5000)
    assert posted.status_code == 503
    assert posted["Retry-After"]
    body = posted.content.decode()
    assert "nothing was saved" in body.lower()
    assert "Not blue: green" in body  # what they typed, to send again
    assert f'action="/proposals/{row.pk}/respond/"' in body
    assert waited < 10  # a short wait, not a hang (the lock was held throughout)
    assert page.status_code == 200  # pages are served meanwhile
    assert ProposalEvent.objects.count() == stored  # nothing half-stored

    again = client.post(
        f"/proposals/{row.pk}/respond/",
        {"position": "object", "reason": "Not blue: green", "version": "1"},
    )
    assert again.status_code == 302
    assert ProposalEvent.objects.count() == stored + 1


def test_the_busy_page_never_echoes_a_passphrase(rf) -> None:
    request = rf.post(
        "/join/x/",
        {"pseudonym": "ada", "passphrase": "secret words", "passphrase2": "secret words",
         "csrfmiddlewaretoken": "t"},
    )  # fmt: skip
    assert kept_fields(request) == [("pseudonym", "ada")]
