"""Logging in and out, and logging out everywhere (delays after failures: test_login_delays.py)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

GOOD = "correct horse battery staple"


def login(client, pseudonym, passphrase=GOOD, **extra):
    return client.post("/login/", {"pseudonym": pseudonym, "passphrase": passphrase, **extra})


def test_member_logs_in_with_pseudonym_in_any_case(client, member_a):
    response = login(client, member_a.pseudonym.upper())
    assert response.status_code == 302
    assert client.get("/federation/").status_code == 200


def test_wrong_passphrase_is_refused_with_a_message(client, member_a):
    response = login(client, member_a.pseudonym, "wrong passphrase here")
    assert response.status_code == 400
    assert b"Wrong pseudonym or passphrase" in response.content
    assert client.get("/federation/").status_code == 302


def test_inactive_member_cannot_log_in(client, group_a, make_member):
    member = make_member(group_a, "gone", is_active=False)
    assert login(client, member.pseudonym).status_code == 400


def test_login_redirects_only_to_local_next(client, member_a):
    response = login(client, member_a.pseudonym, next="https://evil.example/")
    assert response["Location"] == "/"
    other = Client()
    response = login(other, member_a.pseudonym, next="/federation/")
    assert response["Location"] == "/federation/"


def test_logout_is_post_only_and_its_url_shows_the_buttons(client_for, member_a):
    client = client_for(member_a)
    shown = client.get("/logout/")
    assert shown.status_code == 200
    page = shown.content.decode()
    assert 'action="/logout/"' in page and 'action="/logout/everywhere/"' in page
    assert client.get("/federation/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/federation/").status_code == 302


def test_logout_everywhere_ends_other_sessions(member_a):
    laptop, phone = Client(), Client()
    assert login(laptop, member_a.pseudonym).status_code == 302
    assert login(phone, member_a.pseudonym).status_code == 302
    opened = laptop.get("/logout/everywhere/")
    assert opened.status_code == 302 and opened["Location"] == "/logout/"
    assert phone.get("/federation/").status_code == 200
    assert laptop.post("/logout/everywhere/").status_code == 302
    assert phone.get("/federation/").status_code == 302
    assert laptop.get("/federation/").status_code == 302
    assert login(phone, member_a.pseudonym).status_code == 302
    assert phone.get("/federation/").status_code == 200


def test_invalid_login_post_is_400(client):
    assert client.post("/login/", {}).status_code == 400
