"""Joining a group by one-time invitation."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from veche.apps.accounts import services
from veche.apps.accounts.models import Member
from veche.apps.federation import services as federation_services
from veche.apps.federation.models import Invitation
from veche.apps.federation.selectors import is_coordinator

pytestmark = pytest.mark.django_db

GOOD = "correct horse battery staple"


def join_data(pseudonym="newcomer", passphrase=GOOD, again=None):
    return {
        "pseudonym": pseudonym,
        "passphrase": passphrase,
        "passphrase_again": again or passphrase,
    }


def test_join_page_warns_that_a_lost_passphrase_cannot_be_recovered(
    client, group_a, make_invitation
):
    response = client.get(f"/join/{make_invitation(group_a)}/")
    assert response.status_code == 200
    assert b"cannot recover a forgotten passphrase" in response.content
    assert b"Alpha" in response.content


def test_valid_invitation_creates_a_member_of_the_group_and_logs_in(
    client, group_a, make_invitation
):
    secret = make_invitation(group_a)
    response = client.post(f"/join/{secret}/", join_data())
    assert response.status_code == 302
    member = Member.objects.get(pseudonym="newcomer")
    assert member.group == group_a
    # The passphrase opens the member's key; no password hash is kept (decision 0072).
    assert services.check_passphrase(pseudonym="newcomer", passphrase=GOOD)[0] == member
    assert not member.has_usable_password()
    assert not is_coordinator(member=member, group=group_a)
    invitation = Invitation.objects.get(used_by=member)
    assert invitation.used_at is not None
    assert client.get("/federation/").status_code == 200


def test_coordinator_invitation_makes_a_coordinator(client, group_a, make_invitation):
    secret = make_invitation(group_a, as_coordinator=True)
    client.post(f"/join/{secret}/", join_data())
    assert is_coordinator(member=Member.objects.get(pseudonym="newcomer"), group=group_a)


def test_invitation_secret_is_not_stored(group_a, make_invitation):
    secret = make_invitation(group_a)
    stored = Invitation.objects.values_list("token_hash", flat=True).get()
    assert secret not in stored
    assert len(stored) == 64


def test_used_invitation_is_refused_without_saying_why(client, group_a, make_invitation):
    secret = make_invitation(group_a)
    client.post(f"/join/{secret}/", join_data())
    other = type(client)()
    response = other.post(f"/join/{secret}/", join_data("second"))
    assert response.status_code == 404
    assert b"invalid or already used" in response.content
    assert not Member.objects.filter(pseudonym="second").exists()


def test_expired_invitation_is_refused(client, group_a, make_invitation):
    secret = make_invitation(group_a, now=timezone.now() - dt.timedelta(days=8))
    assert client.get(f"/join/{secret}/").status_code == 404
    assert client.post(f"/join/{secret}/", join_data()).status_code == 404
    assert not Member.objects.exists()


def test_unknown_invitation_is_refused(client, group_a):
    response = client.get("/join/nothing-like-a-secret/")
    assert response.status_code == 404
    assert b"invalid or already used" in response.content


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        (join_data(passphrase="short words"), b"at least 12 characters"),
        (join_data(passphrase="password1234"), b"easy to guess"),
        (
            join_data(pseudonym="orchid", passphrase="my orchid garden 77"),
            b"must not contain your pseudonym",
        ),
        (join_data(again="correct horse battery stapler"), b"The two passphrases differ"),
        (join_data(pseudonym="no spaces here"), b"3 to 40 characters"),
        (join_data(pseudonym="ab"), b"3 to 40 characters"),
    ],
)
def test_invalid_join_is_400_with_the_form_and_its_message(
    client, group_a, make_invitation, data, field_message
):
    secret = make_invitation(group_a)
    response = client.post(f"/join/{secret}/", data)
    assert response.status_code == 400
    assert field_message in response.content
    assert b'class="errorlist"' in response.content
    assert not Member.objects.exists()
    assert Invitation.objects.get().used_at is None


def test_duplicate_pseudonym_is_refused_case_insensitively(
    client, group_a, member_a, make_invitation
):
    secret = make_invitation(group_a)
    response = client.post(f"/join/{secret}/", join_data(pseudonym=member_a.pseudonym.upper()))
    assert response.status_code == 400
    assert b"This pseudonym is taken" in response.content
    assert Invitation.objects.get().used_at is None


def test_cyrillic_pseudonyms_are_unique_regardless_of_case(group_a, make_invitation):
    federation_services.redeem_invitation(
        secret=make_invitation(group_a), pseudonym="Ольга", passphrase=GOOD
    )
    with pytest.raises(services.PseudonymTaken):
        federation_services.redeem_invitation(
            secret=make_invitation(group_a), pseudonym="ОЛЬГА", passphrase=GOOD
        )


def test_invalid_post_without_fields_is_400_not_500(client, group_a, make_invitation):
    response = client.post(f"/join/{make_invitation(group_a)}/", {})
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_redemptions_of_one_invitation_make_exactly_one_member(group_a):
    from veche.apps.federation.services import create_invitation

    _, secret = create_invitation(group=group_a, created_by=None)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(pseudonym: str) -> None:
        try:
            barrier.wait()
            federation_services.redeem_invitation(
                secret=secret, pseudonym=pseudonym, passphrase=GOOD
            )
            outcomes.append("joined")
        except federation_services.InvitationUnusable:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["joined", "refused"]
    assert Member.objects.count() == 1
    assert Invitation.objects.get().used_by == Member.objects.get()
