"""Logging in and out, logging out everywhere, and login throttling."""

from __future__ import annotations

import pytest
from django.test import Client

from veche.apps.accounts.models import LoginFailure

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


def test_logout_is_post_only(client_for, member_a):
    client = client_for(member_a)
    assert client.get("/logout/").status_code == 405
    assert client.get("/federation/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/federation/").status_code == 302


def test_logout_everywhere_ends_other_sessions(member_a):
    laptop, phone = Client(), Client()
    assert login(laptop, member_a.pseudonym).status_code == 302
    assert login(phone, member_a.pseudonym).status_code == 302
    assert laptop.get("/logout/everywhere/").status_code == 405
    assert laptop.post("/logout/everywhere/").status_code == 302
    assert phone.get("/federation/").status_code == 302
    assert laptop.get("/federation/").status_code == 302
    assert login(phone, member_a.pseudonym).status_code == 302
    assert phone.get("/federation/").status_code == 200


def test_account_is_throttled_after_five_failures(client, member_a):
    for _ in range(5):
        assert login(client, member_a.pseudonym, "wrong passphrase here").status_code == 400
    response = login(client, member_a.pseudonym)
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content
    # Another account is not affected by this one's failures.
    assert login(Client(), "someone-else", "wrong passphrase here").status_code == 400


def test_throttling_does_not_store_typed_names(client, member_a):
    login(client, member_a.pseudonym, "wrong passphrase here")
    stored = LoginFailure.objects.values_list("account_key", flat=True).get()
    # The key is a 64-hex-digit HMAC; any short name could occur in hex by chance
    # ("ada"), so check the key is exactly such a digest rather than searching in it.
    assert len(stored) == 64
    assert set(stored) <= set("0123456789abcdef")
    assert "wrong passphrase here" not in stored


def test_success_clears_the_account_failures(client, member_a):
    for _ in range(4):
        login(client, member_a.pseudonym, "wrong passphrase here")
    assert login(client, member_a.pseudonym).status_code == 302
    assert not LoginFailure.objects.exists()


def test_global_throttle_stops_logins_for_everyone(
    client, member_a, group_a, make_member, settings
):
    settings.VECHE_LOGIN_FAILURES_GLOBAL = 10
    # Guessing spread over many members' accounts, one failure each.
    for i in range(10):
        member = make_member(group_a, f"sprayed{i}")
        assert login(Client(), member.pseudonym, "wrong passphrase here").status_code == 400
    response = login(client, member_a.pseudonym)
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content


def test_made_up_names_cannot_lock_every_member_out(client, member_a, passphrase, settings):
    settings.VECHE_LOGIN_FAILURES_GLOBAL = 10
    for i in range(30):
        assert login(Client(), f"nobody{i}", "wrong passphrase here").status_code == 400
    assert login(client, member_a.pseudonym, passphrase).status_code == 302


def test_invalid_login_post_is_400(client):
    assert client.post("/login/", {}).status_code == 400
