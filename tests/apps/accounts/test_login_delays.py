"""Delays after failed logins, and the server's budget for Argon2id (decision 0071).

Delays grow with failures per typed name, to at most 30 s, and the right passphrase
works once the delay has passed, whatever was tried before. Names that exist and names
that do not are treated alike. Every check of a passphrase, for any name, needs one of
the server's hashing slots; when none comes free in time the answer is 503, with the
pseudonym kept and nothing checked.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from veche.apps.accounts import services
from veche.apps.accounts.models import LoginDelay
from veche.apps.core.hashers import hashing_slot

pytestmark = pytest.mark.django_db

GOOD = "correct horse battery staple"
WRONG = "wrong passphrase here"


def login(client, pseudonym, passphrase=GOOD):
    return client.post("/login/", {"pseudonym": pseudonym, "passphrase": passphrase})


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_a_failure_delays_the_next_check_of_that_name_by_a_second(client, member_a, clock):
    assert login(client, "ada", WRONG).status_code == 400
    response = login(client, "ada")
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    page = response.content.decode()
    assert "Wait 1 second, then try again" in page
    assert 'value="ada"' in page  # the typed pseudonym is kept
    assert GOOD not in page
    clock.shift(1)
    assert login(client, "ada").status_code == 302


def test_delays_double_with_each_failure_and_never_exceed_thirty_seconds(member_a, clock):
    client = Client()
    expected = [1, 2, 4, 8, 16, 30, 30, 30]
    for seconds in expected:
        assert login(client, "ada", WRONG).status_code == 400
        response = login(client, "ada", WRONG)
        assert response.status_code == 429
        assert response["Retry-After"] == str(seconds)
        clock.shift(seconds)


def test_attempts_refused_for_the_delay_are_not_checked_and_do_not_extend_it(member_a, clock):
    client = Client()
    assert login(client, "ada", WRONG).status_code == 400
    row = LoginDelay.objects.get()
    failures, not_before = row.failures, row.not_before
    for _ in range(50):  # even with the right passphrase: not checked during the delay
        assert login(client, "ada").status_code == 429
    row.refresh_from_db()
    assert (row.failures, row.not_before) == (failures, not_before)
    clock.move_to(not_before)
    assert login(client, "ada").status_code == 302


def test_after_a_thousand_wrong_guesses_the_right_passphrase_works_within_thirty_seconds(
    member_a, clock
):
    # The guesser tries as fast as they can: most tries land inside a delay; each time
    # a delay ends, their next try is checked and fails.
    guesses = 0
    checked = 0
    while guesses < 1000:
        try:
            services.authenticate_member(
                request=None, pseudonym="ada", passphrase=f"guess {guesses}"
            )
        except services.LoginRefused:
            checked += 1
        except services.LoginDelayed as delayed:
            assert delayed.seconds <= 30
            clock.shift(min(delayed.seconds, 3))
        guesses += 1
    assert checked > 30
    # The member comes along: at most one delay of 30 s stands between them and their group.
    waited = 0
    while True:
        try:
            member = services.authenticate_member(request=None, pseudonym="ada", passphrase=GOOD)
        except services.LoginDelayed as delayed:
            waited += delayed.seconds
            clock.shift(delayed.seconds)
            continue
        break
    assert member.pk == member_a.pk
    assert waited <= 30
    assert not LoginDelay.objects.exists()  # a success clears the name's failures


def test_a_name_nobody_has_is_delayed_exactly_like_a_members_name(member_a, clock):
    def statuses(name):
        client = Client()
        seen = []
        for _ in range(4):
            response = login(client, name, WRONG)
            seen.append((response.status_code, response.get("Retry-After")))
        return seen

    assert statuses("ada") == statuses("nobody-at-all")


def test_one_names_failures_do_not_delay_another_name(client, member_a, group_a, make_member):
    other = make_member(group_a, "otto")
    for _ in range(3):
        login(Client(), "ada", WRONG)
    assert login(client, other.pseudonym).status_code == 302


def test_made_up_names_cannot_keep_a_member_out(client, member_a):
    for i in range(30):
        assert login(Client(), f"nobody{i}", WRONG).status_code == 400
    assert login(client, "ada").status_code == 302


def test_delays_store_no_typed_name_or_passphrase(client, member_a):
    login(client, "ada", WRONG)
    row = LoginDelay.objects.values().get()
    stored = " ".join(str(value) for value in row.values())
    # The key is a 64-hex-digit HMAC; "ada" could occur in hex by chance, so check the
    # key is exactly such a digest rather than searching in it.
    assert len(row["account_key"]) == 64
    assert set(row["account_key"]) <= set("0123456789abcdef")
    assert WRONG not in stored


def test_delays_untouched_for_a_day_are_forgotten(member_a, clock):
    login(Client(), "someone-else", WRONG)
    clock.shift(dt.timedelta(days=1, seconds=1))
    login(Client(), "ada", WRONG)
    assert LoginDelay.objects.count() == 1


def test_a_busy_server_answers_503_keeps_the_pseudonym_and_starts_no_delay(
    client, member_a, settings
):
    settings.VECHE_HASHING_SLOTS = 1
    settings.VECHE_HASHING_WAIT_SECONDS = 0.2
    with hashing_slot():  # every slot is taken (another login is being checked)
        response = login(client, "ada")
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "busy with other logins" in page
    assert 'value="ada"' in page
    assert GOOD not in page
    assert LoginDelay.objects.get().failures == 0  # nothing was checked, nothing counted
    assert login(client, "ada").status_code == 302  # and at once afterwards, it works


def test_guesses_at_names_nobody_has_need_a_hashing_slot_too(member_a, settings):
    settings.VECHE_HASHING_SLOTS = 1
    settings.VECHE_HASHING_WAIT_SECONDS = 0.1
    with hashing_slot():
        for name in ("ada", "nobody-at-all"):
            with pytest.raises(services.HashingBusy):
                services.check_passphrase(pseudonym=name, passphrase=WRONG)


def test_a_process_lets_only_a_few_requests_wait_for_a_slot(member_a, settings):
    settings.VECHE_HASHING_WAITERS_PER_PROCESS = 0
    with pytest.raises(services.HashingBusy):
        services.check_passphrase(pseudonym="ada", passphrase=GOOD)


def test_joining_when_the_server_is_busy_answers_503_and_keeps_the_invitation(
    client, group_a, make_invitation, settings
):
    from veche.apps.accounts.models import Member

    settings.VECHE_HASHING_SLOTS = 1
    settings.VECHE_HASHING_WAIT_SECONDS = 0.1
    secret = make_invitation(group_a)
    data = {"pseudonym": "newcomer", "passphrase": GOOD, "passphrase_again": GOOD}
    with hashing_slot():
        response = client.post(f"/join/{secret}/", data)
    assert response.status_code == 503
    assert 'value="newcomer"' in response.content.decode()
    assert not Member.objects.exists()
    assert client.post(f"/join/{secret}/", data).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_simultaneous_guesses_at_one_name_get_one_check(member_a):
    import threading

    from django.db import connection

    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        try:
            barrier.wait()
            services.authenticate_member(request=None, pseudonym="ada", passphrase=f"guess {n}")
        except services.LoginRefused:
            outcome = "checked"
        except services.LoginDelayed:
            outcome = "delayed"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["checked"] + ["delayed"] * 9
