"""Sessions: no fixation, and a session cookie without its key cookie is ignored, not ended."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY as USER_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client

from veche.apps.core.keyring import COOKIE_NAME, SESSION_KEY

pytestmark = pytest.mark.django_db

GOOD = "correct horse battery staple"


def login(client, pseudonym, passphrase=GOOD):
    return client.post("/login/", {"pseudonym": pseudonym, "passphrase": passphrase})


def session_cookie(client):
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_session_id_planted_before_login_is_not_the_one_after(member_a):
    # An attacker makes a session and gets its id into the victim's browser.
    planted = SessionStore()
    planted["planted"] = True
    planted.save()
    victim = Client()
    victim.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert login(victim, "ada").status_code == 302
    assert session_cookie(victim) != planted.session_key
    # The planted id opens no logged-in session: the attacker holding it is nobody.
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert attacker.get("/inbox/").status_code == 302
    stored = Session.objects.filter(session_key=planted.session_key).first()
    assert stored is None or USER_KEY not in stored.get_decoded()


def test_an_anonymous_session_the_site_made_is_replaced_at_login(member_a):
    client = Client()
    login(client, "ada")
    del client.cookies[COOKIE_NAME]
    client.get("/inbox/")  # the site gives this browser a new, anonymous session
    anonymous = session_cookie(client)
    assert anonymous
    assert login(client, "ada").status_code == 302
    assert session_cookie(client) != anonymous
    assert not Session.objects.filter(session_key=anonymous).exists()


def test_a_stolen_session_cookie_alone_is_ignored_and_ends_nothing(member_a, member_b):
    laptop = Client()
    assert login(laptop, "ada").status_code == 302
    stolen = session_cookie(laptop)

    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen  # without the key cookie
    # Logged out, for the thief's requests: nothing of the member's to see…
    response = thief.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    # …nor to end: logging out, logging out everywhere, or logging in as someone else
    # with the stolen cookie leaves the member's session alone.
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    thief.post("/logout/")
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    thief.post("/logout/everywhere/")
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert login(thief, "bruno").status_code == 302
    assert session_cookie(thief) != stolen

    assert Session.objects.filter(session_key=stolen).exists()
    assert laptop.get("/inbox/").status_code == 200
    assert SESSION_KEY in Session.objects.get(session_key=stolen).get_decoded()


def test_the_member_whose_key_cookie_is_gone_is_asked_to_log_in_again(member_a):
    client = Client()
    login(client, "ada")
    old = session_cookie(client)
    del client.cookies[COOKIE_NAME]  # the browser was closed; the session cookie survived
    assert client.get("/inbox/").status_code == 302
    assert session_cookie(client) != old  # the browser got a new, empty session
    assert "no longer holds the key" in client.get("/login/").content.decode()
    assert login(client, "ada").status_code == 302
    assert client.get("/inbox/").status_code == 200
