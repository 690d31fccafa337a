"""Keys: joining with nobody online, login, logging out, removal and rotation, compartments."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from veche.apps.accounts.models import KeyGrant, Member, MemberSession
from veche.apps.core.keyring import COOKIE_NAME, SESSION_KEY
from veche.apps.proposals import services as proposals
from veche.apps.proposals.models import DecisionRecord, Proposal, ProposalVersion
from veche.crypto import FEDERATION, KeyId, Keyring, group_scope, key_id_of
from veche.domain.decisions_log import Record, verify

pytestmark = pytest.mark.django_db

NEWCOMER_PASSPHRASE = "a long walk by the river 42"


def _login(client: Client, pseudonym: str, passphrase: str) -> object:
    return client.post("/login/", {"pseudonym": pseudonym, "passphrase": passphrase})


def _join(secret: str, pseudonym: str) -> Client:
    client = Client()
    response = client.post(
        f"/join/{secret}/",
        {"pseudonym": pseudonym, "passphrase": NEWCOMER_PASSPHRASE,
         "passphrase_again": NEWCOMER_PASSPHRASE},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def _invite(coordinator_client: Client, group_id: int) -> str:
    response = coordinator_client.post(f"/groups/{group_id}/invite/", {})
    assert response.status_code == 200
    return re.search(r"/join/([\w-]+)/", response.content.decode()).group(1)


def test_a_newcomer_joins_with_nobody_online_and_reads_what_was_written_before(
    group_a, coordinator_a, member_a, client_for
):
    proposal = proposals.create_proposal(
        author=member_a, kind_key="group-practice", title="Older title MARK-OLD",
        body="Written before the newcomer joined.",
    )  # fmt: skip
    coordinator = client_for(coordinator_a)
    secret = _invite(coordinator, group_a.pk)
    coordinator.post("/logout/")
    Session.objects.all().delete()  # nobody is online at all

    newcomer = _join(secret, "newcomer")
    page = newcomer.get(f"/proposals/{proposal.pk}/").content.decode()
    assert "Older title MARK-OLD" in page
    joined = Member.objects.get(pseudonym="newcomer")
    held = {(g.scope, g.epoch) for g in KeyGrant.objects.filter(member=joined)}
    assert held == {(group_scope(group_a.pk), 1), (FEDERATION, 1)}
    # The invitation's packed keys are gone once used.
    assert not any(bytes(i.keys_blob) for i in joined.invitation_used.__class__.objects.all())


def test_the_pseudonym_is_stored_only_encrypted_and_found_by_a_keyed_hash(group_a, make_member):
    # A name with letters that are not hex digits: the keyed hash is hex, and a short
    # hex-like name ("ada") could appear in it by chance.
    member = make_member(group_a, "Quiltmoor")
    row = Member.objects.filter(pk=member.pk).values().get()
    stored = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row.values()
    )
    assert b"quiltmoor" not in stored.lower()
    assert len(row["pseudonym_key"]) == 64
    assert Member.objects.get(pseudonym="QUILTMOOR").pk == member.pk


def test_a_wrong_passphrase_is_refused_and_unlocks_nothing(member_a, passphrase):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert _login(client, "ada", "not the passphrase at all").status_code == 400
        assert COOKIE_NAME not in client.cookies
        clock.shift(1)  # the delay after a failure
        assert _login(client, "ada", passphrase).status_code == 302
    assert client.cookies[COOKIE_NAME].value
    assert SESSION_KEY in client.session


def test_the_session_row_alone_cannot_read_anything(member_a, passphrase):
    proposal = proposals.create_proposal(
        author=member_a, kind_key="group-practice", title="Seen with the cookie only",
        body="Body.",
    )  # fmt: skip
    client = Client()
    _login(client, "ada", passphrase)
    assert "Seen with the cookie only" in client.get(f"/proposals/{proposal.pk}/").content.decode()
    blob = client.session[SESSION_KEY]
    # A seized session row (the session cookie, but not the key cookie) reads nothing:
    # the request is treated as logged out.
    del client.cookies[COOKIE_NAME]
    response = client.get(f"/proposals/{proposal.pk}/")
    assert response.status_code == 302
    assert "Seen with the cookie only" not in response.content.decode()
    # And the wrapped key it held does not open with any other cookie.
    from veche.crypto import CannotDecrypt, unwrap_from_session, wrap_for_session
    from veche.crypto import new_member_keys as _keys

    other_cookie, _ = wrap_for_session(_keys("another passphrase here", kdf=(1, 8192))[1])
    with pytest.raises(CannotDecrypt):
        unwrap_from_session(other_cookie, blob)


def test_logging_out_destroys_the_session_and_its_wrapped_key(member_a, passphrase):
    client = Client()
    _login(client, "ada", passphrase)
    key = client.session.session_key
    response = client.post("/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert response.cookies[COOKIE_NAME].value == ""


def test_logging_out_everywhere_destroys_every_session(member_a, passphrase):
    phone, laptop = Client(), Client()
    _login(phone, "ada", passphrase)
    _login(laptop, "ada", passphrase)
    assert MemberSession.objects.filter(member=member_a).count() == 2
    laptop.post("/logout/everywhere/")
    assert not Session.objects.exists()
    assert not MemberSession.objects.exists()
    assert phone.get("/inbox/").status_code == 302  # back to the login page


def test_removing_a_member_rotates_the_keys_and_new_content_is_out_of_their_reach(
    group_a, coordinator_a, member_a, make_member, client_for, test_keys, coordinators_remove_alone
):
    stays = make_member(group_a, "stays")
    removed_client = client_for(member_a)
    coordinator = client_for(coordinator_a)
    response = coordinator.post(
        f"/groups/{group_a.pk}/members/{member_a.pk}/remove/", {"confirm": "yes"}
    )
    assert response.status_code == 302

    member_a.refresh_from_db()
    assert not member_a.is_active
    assert not KeyGrant.objects.filter(member=member_a).exists()
    for member in (coordinator_a, stays):
        assert KeyGrant.objects.filter(member=member, scope=group_scope(group_a.pk), epoch=2)
        assert KeyGrant.objects.filter(member=member, scope=FEDERATION, epoch=2)
    assert removed_client.get("/inbox/").status_code == 302  # their sessions are gone

    # What is written next uses the new epoch, which the removed member never had.
    coordinator.post(
        "/proposals/new/",
        {"kind": "group-practice", "title": "After the removal", "body": "New epoch."},
    )
    version = ProposalVersion.objects.get(proposal=Proposal.objects.latest("pk"), number=1)
    assert key_id_of(bytes(version.title_ct)) == KeyId(group_scope(group_a.pk), 2)
    old_keys = Keyring({k: test_keys.keyring.get(k) for k in test_keys.keyring if k.epoch == 1})
    assert old_keys.try_decrypt(bytes(version.title_ct), context="x", fallback="no") == "no"

    # The removal is on the group's record, and the record still verifies.
    records = DecisionRecord.objects.filter(chain=f"group-{group_a.pk}").order_by("seq")
    assert [r.kind for r in records] == ["removal"]
    assert verify([Record(r.seq, r.kind, r.payload, r.prev_digest, r.digest) for r in records]).ok
    log = coordinator.get("/decisions/").content.decode()
    assert "removed ada from the group" in log


def test_a_member_who_joined_with_an_old_invitation_gets_new_keys_from_a_fellow_member(
    group_a, coordinator_a, member_a, make_member, client_for, passphrase, coordinators_remove_alone
):
    coordinator = client_for(coordinator_a)
    secret = _invite(coordinator, group_a.pk)  # carries epoch 1
    leaving = make_member(group_a, "leaving")
    coordinator.post(f"/groups/{group_a.pk}/members/{leaving.pk}/remove/", {"confirm": "yes"})
    newcomer_client = _join(secret, "latecomer")
    latecomer = Member.objects.get(pseudonym="latecomer")
    assert not KeyGrant.objects.filter(member=latecomer, epoch=2).exists()

    # A fellow member logs in: the newest keys are shared with whoever lacks them.
    _login(Client(), "ada", passphrase)
    assert KeyGrant.objects.filter(member=latecomer, scope=group_scope(group_a.pk), epoch=2)
    assert KeyGrant.objects.filter(member=latecomer, scope=FEDERATION, epoch=2)
    assert newcomer_client.get("/inbox/").status_code == 200


def test_a_removed_member_cannot_be_removed_again_and_outsiders_cannot_remove(
    group_a, group_b, coordinator_a, member_a, coordinator_b, client_for, coordinators_remove_alone
):
    outsider = client_for(coordinator_b)
    url = f"/groups/{group_a.pk}/members/{member_a.pk}/remove/"
    assert outsider.post(url, {"confirm": "yes"}).status_code == 404
    coordinator = client_for(coordinator_a)
    assert coordinator.post(url, {}).status_code == 302  # unconfirmed: nothing happens
    member_a.refresh_from_db()
    assert member_a.is_active
    assert coordinator.post(url, {"confirm": "yes"}).status_code == 302
    assert coordinator.post(url, {"confirm": "yes"}).status_code == 404
    own = f"/groups/{group_a.pk}/members/{coordinator_a.pk}/remove/"
    coordinator.post(own, {"confirm": "yes"})
    coordinator_a.refresh_from_db()
    assert coordinator_a.is_active


def test_another_groups_keys_open_nothing_of_this_group(member_a, member_b, test_keys):
    proposal = proposals.create_proposal(
        author=member_a, kind_key="group-practice", title="Only for Alpha", body="Body."
    )
    version = ProposalVersion.objects.get(proposal=proposal)
    beta = group_scope(member_b.group_id)
    beta_keys = Keyring(
        {k: test_keys.keyring.get(k) for k in test_keys.keyring if k.scope in {beta, FEDERATION}}
    )
    context = f"proposal:{proposal.pk}:v1:title"
    assert beta_keys.try_decrypt(bytes(version.title_ct), context=context, fallback="") == ""
    assert test_keys.keyring.decrypt(bytes(version.title_ct), context=context) == "Only for Alpha"


def test_a_session_whose_key_cookie_is_gone_is_ignored_and_asks_to_log_in_again(
    member_a, passphrase
):
    client = Client()
    _login(client, "ada", passphrase)
    del client.cookies[COOKIE_NAME]  # the browser was closed; the session cookie survived
    for method, url in [("get", "/inbox/"), ("post", "/proposals/new/"), ("post", "/discussion/")]:
        response = getattr(client, method)(url, {"body": "x", "title": "x", "kind": "x"})
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith("/login/")
    page = client.get("/login/").content.decode()
    assert "no longer holds the key" in page
    assert "no longer holds the key" not in client.get("/login/").content.decode()  # once
