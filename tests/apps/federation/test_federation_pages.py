"""The start page, the federation page, group pages (compartments) and invitations."""

from __future__ import annotations

import re
from typing import Any

import pytest

from veche.apps.federation.models import Invitation, hash_invitation_secret

pytestmark = pytest.mark.django_db


def test_anonymous_start_page_is_an_about_page_with_a_login_link(client, federation):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Test Federation" in response.content
    assert b'href="/login/"' in response.content


def test_member_start_page_leads_to_their_inbox(client_for, member_a):
    response = client_for(member_a).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"


@pytest.mark.parametrize("url", ["/federation/", "/groups/1/", "/groups/1/invite/"])
def test_anonymous_visitors_are_sent_to_login(client, federation, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_federation_page_lists_groups_with_counts_but_no_other_names(
    client_for, member_a, coordinator_a, member_b, coordinator_b
):
    response = client_for(member_a).get("/federation/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha" in body and "Beta" in body
    assert re.search(r"Beta</td><td class=\"num\">2<", body)
    assert member_b.pseudonym not in body
    assert coordinator_b.pseudonym not in body


def test_federation_page_shows_the_charter_decision_kinds(client_for, member_a):
    body = client_for(member_a).get("/federation/").content.decode()
    assert "Choosing the group&#x27;s coordinator" in body or "Choosing the group" in body
    assert "Consensus is sought for up to 7 days" in body
    assert "1 block stops it." in body
    assert "block(s)" not in body and "(schulze)" not in body
    assert 'href="/federation/rules/"' in body


def test_group_page_shows_members_and_coordinators_to_its_members(
    client_for, member_a, coordinator_a, member_b
):
    response = client_for(member_a).get(f"/groups/{member_a.group_id}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert member_a.pseudonym in body
    assert coordinator_a.pseudonym in body
    assert "coordinator" in body
    assert member_b.pseudonym not in body


def test_other_groups_page_is_404_for_members_and_coordinators(
    client_for, member_a, coordinator_a, member_b
):
    for viewer in (member_a, coordinator_a):
        client = client_for(viewer)
        assert client.get(f"/groups/{member_b.group_id}/").status_code == 404
        assert client.get(f"/groups/{member_b.group_id}/invite/").status_code == 404
        assert client.post(f"/groups/{member_b.group_id}/invite/").status_code == 404


def test_nonexistent_group_is_the_same_404(client_for, member_a):
    assert client_for(member_a).get("/groups/999999/").status_code == 404


@pytest.mark.parametrize("url", ["/", "/federation/", "/login/", "/groups/{a}/"])
def test_no_page_shows_another_groups_pseudonyms(
    client_for, member_a, member_b, coordinator_b, url
):
    body = client_for(member_a).get(url.format(a=member_a.group_id), follow=True).content.decode()
    assert member_b.pseudonym not in body
    assert coordinator_b.pseudonym not in body


def test_members_who_are_not_coordinators_cannot_invite(client_for, member_a):
    client = client_for(member_a)
    assert client.get(f"/groups/{member_a.group_id}/invite/").status_code == 403
    assert client.post(f"/groups/{member_a.group_id}/invite/").status_code == 403
    assert not Invitation.objects.exists()


def test_group_page_offers_invite_link_only_to_coordinators(client_for, member_a, coordinator_a):
    url = f"/groups/{member_a.group_id}/"
    assert b"/invite/" not in client_for(member_a).get(url).content
    assert b"/invite/" in client_for(coordinator_a).get(url).content


def test_coordinator_creates_an_invitation_and_sees_the_url_once(client_for, coordinator_a):
    client = client_for(coordinator_a)
    url = f"/groups/{coordinator_a.group_id}/invite/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"as_coordinator": "on"})
    assert response.status_code == 200
    match = re.search(r"http://testserver/join/([\w-]+)/", response.content.decode())
    assert match
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hash_invitation_secret(match.group(1))
    assert invitation.created_by == coordinator_a
    assert invitation.as_coordinator
    assert invitation.group_id == coordinator_a.group_id
    assert match.group(1).encode() not in client.get(f"/groups/{coordinator_a.group_id}/").content


def test_ended_coordinator_term_removes_the_right_to_invite(client_for, coordinator_a):
    from django.utils import timezone

    coordinator_a.coordinator_terms.update(ends_at=timezone.now())
    assert (
        client_for(coordinator_a).get(f"/groups/{coordinator_a.group_id}/invite/").status_code
        == 403
    )


def test_post_forms_require_csrf(member_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member_a)
    response = client.post("/logout/everywhere/")
    assert response.status_code == 403
    assert b"Form expired" in response.content


def test_the_header_names_the_federation_escaped_and_as_the_process_read_it(
    member_a: Any, client_for: Any
) -> None:
    """No service renames a federation: a process reads its row once (decision 0138). A
    name changed in the database by hand shows once the server restarts."""
    from veche.apps.federation.models import Federation
    from veche.apps.federation.selectors import forget_federation

    client = client_for(member_a)
    Federation.objects.update(name="<b>Bakers</b> & co")
    forget_federation()  # as a restart does
    page = client.get("/inbox/").content.decode()
    assert "&lt;b&gt;Bakers&lt;/b&gt; &amp; co" in page and "<b>Bakers" not in page
    Federation.objects.update(name="Renamed")
    assert "Bakers" in client.get("/no-such-page/").content.decode()  # kept
    forget_federation()
    assert "Renamed" in client.get("/no-such-page/").content.decode()
