"""A seized server, during and after a secret vote, opens and links no ballot (issue 9).

The adversary of issue 9: copies of the server's files taken after every cast while the
vote is open and again after the close — SQLite's file and write-ahead log; on
PostgreSQL the database's heap files and the whole ``pg_wal`` after a ``CHECKPOINT`` —
plus the private keys (so the passphrases) of k − 1 tellers and of every member who is
not a teller. It runs the diffing attack that linked 6 of 6 ballots to the old box: what
appears between two consecutive copies is the ballot of whoever the roll says voted in
between; it then tries to open each such ballot with every key it holds. It must open
**0**. As a control, the same attack with k tellers' keys opens and links every one
(which is what the threshold means: k tellers together can). Every stored ballot has
the same length, and the old box is never written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from veche.apps.core import keyring
from veche.apps.proposals import services as s
from veche.apps.proposals.models import BallotBox, ProposalEvent, SealedBallot, SecretVote, Teller
from veche.crypto.election import Manifest, open_share, read_ciphertexts
from veche.crypto.election.group import Q
from veche.crypto.election.tally import lagrange_at_zero
from veche.domain.voting.vectors import ballot_vector

pytestmark = pytest.mark.django_db(transaction=True)

H = dt.timedelta(hours=1)
# Schulze over adopt / do not adopt: each voter's first choice (None: abstains).
CHOICES = [0, 1, 0, None, 1, 0]


def _snapshot() -> bytes:
    """Return the bytes a seizure of the server's files would take now."""
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        return b"".join(p.read_bytes() for p in (name, Path(f"{name}-wal")) if p.exists())
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute("SHOW data_directory")
        data = Path(cursor.fetchone()[0])
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        oid = cursor.fetchone()[0]
    found = []
    for folder in (data / "base" / str(oid), data / "pg_wal"):
        assert folder.is_dir(), f"cannot read {folder}: run the suite as the database's owner"
        found += [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]
    return b"".join(found)


def _open(manifest: Manifest, ballot: bytes, shares: dict[int, int]) -> tuple[int, ...] | None:
    """Try to decrypt one ballot with the key shares at hand: its values, or None."""
    indices = sorted(shares)
    lambdas = lagrange_at_zero(indices)
    secret = sum(c * shares[i] for c, i in zip(lambdas, indices, strict=True)) % Q
    values = []
    for allowed, ct in zip(manifest.shape.entries, read_ciphertexts(manifest, ballot), strict=True):
        power = ct.beta - ct.alpha.mul(secret)
        found = [
            v
            for v in allowed
            if (power.is_identity if v == 0 else power == manifest.public_key.mul(v))
        ]
        if len(found) != 1:
            return None
        values.append(found[0])
    return tuple(values)


def test_copies_after_every_cast_and_the_close_open_no_ballot_with_k_minus_one_tellers(
    make_member, group_a, test_keys
):
    from veche.apps.accounts.models import Member
    from veche.apps.federation.models import CoordinatorTerm, Group

    now = timezone.now()
    voters = [make_member(group_a, f"v{i}", coordinator=i == 0) for i in range(len(CHOICES))]
    Member.objects.update(joined_at=now - 100 * H)
    Group.objects.update(created_at=now - 100 * H)
    CoordinatorTerm.objects.update(starts_at=now - 100 * H)
    row = s.create_proposal(
        author=voters[0], kind_key="group-practice",
        title="Yes or no", body="Decide.", urgent=True, deadline=now - 10 * H, now=now - 11 * H,
    )  # fmt: skip
    s.settle_due(now=now - 10 * H + dt.timedelta(minutes=1), scopes=frozenset())
    connection.close()
    copies = [_snapshot()]
    for i, (voter, choice) in enumerate(zip(voters, CHOICES, strict=True)):
        ballot = [] if choice is None else [choice]
        s.cast_ballot(row=row, voter=voter, ballot=ballot, now=now - 9 * H + i * H)
        connection.close()  # flushed to the files, as a copy of a running server holds them
        copies.append(_snapshot())
    later = now + dt.timedelta(days=2)
    s.settle_due(now=later, scopes=frozenset())
    row.refresh_from_db()
    assert row.phase == "counting"
    connection.close()
    copies.append(_snapshot())

    assert not BallotBox.objects.exists()
    vote = SecretVote.objects.get(proposal=row)
    manifest = Manifest.from_dict(vote.manifest)
    stored = [bytes(c) for c in SealedBallot.objects.values_list("ciphertext", flat=True)]
    assert len(stored) == len(CHOICES)
    assert {len(b) for b in stored} == {manifest.shape.ballot_bytes()}

    # The roll says who voted when; the diffing attack pairs each new ballot with them.
    roll = list(
        ProposalEvent.objects.filter(proposal=row, type="ballot_cast")
        .order_by("seq")
        .values_list("actor_id", flat=True)
    )
    linked: dict[int, bytes] = {}
    for i, voter_id in enumerate(roll):
        before, after = copies[i], copies[i + 1]
        new = [b for b in stored if b in after and b not in before]
        assert len(new) == 1  # the attack works: it finds exactly the new ciphertext
        linked[voter_id] = new[0]
    # Every copy after the close holds every ballot and nothing else changed shape.
    assert all(b in copies[-1] for b in stored)

    tellers = list(Teller.objects.filter(vote=vote).order_by("index"))
    k = manifest.threshold

    def shares_of(seats: list[Teller]) -> dict[int, int]:
        return {
            t.index: open_share(
                manifest, t.index, bytes(t.sealed_share), test_keys.private[t.member_id]
            )._share
            for t in seats
        }

    # k - 1 tellers' keys, and every non-teller's: the group's keys open nothing of a
    # ballot (the roll's events carry none), and k - 1 shares decrypt no ballot.
    teller_ids = {t.member_id for t in tellers}
    non_tellers = [v for v in voters if v.pk not in teller_ids]
    assert non_tellers
    for event in ProposalEvent.objects.filter(proposal=row, type="ballot_cast"):
        assert not bytes(event.text_ct)
        assert keyring.current().try_decrypt(bytes(event.text_ct), context="x", fallback="") == ""
    opened = [v for v in linked.values() if _open(manifest, v, shares_of(tellers[: k - 1]))]
    assert opened == []

    # The control: k tellers together open every linked ballot (so the attack is real).
    values = {
        voter: _open(manifest, ballot, shares_of(tellers[:k])) for voter, ballot in linked.items()
    }
    assert all(v is not None for v in values.values())
    vote_state = s.selectors.load(row, now=later).state.vote
    assert vote_state is not None
    expected = {
        voter.pk: ballot_vector(
            vote_state.spec, [] if choice is None else [choice], max_ballots=vote_state.max_ballots
        )
        for voter, choice in zip(voters, CHOICES, strict=True)
    }
    assert values == expected
