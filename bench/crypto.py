"""What encryption at rest costs: a login (Argon2id), and a page of 50 proposals.

    .venv/bin/python bench/crypto.py [--rounds N]

Runs in-process against a fresh SQLite database in a temporary directory, with the
production key-derivation cost. Baselines measured in the same run: a bare Django view
(the floor of any page), and the same page of 50 proposals requested without the key
cookie (everything else identical, nothing decrypted). Prints medians in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ITEMS = 50


def median_ms(action: Callable[[], object], rounds: int) -> float:
    """Return the median wall time of ``action`` in milliseconds."""
    action()  # warm caches and connections
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="veche-bench-")
    os.environ["VECHE_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "veche.config.settings"
    os.environ.setdefault("VECHE_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import clear_url_caches, path

    setup_test_environment()
    call_command("migrate", interactive=False, verbosity=0)

    from veche.apps.accounts.keys import kdf_cost
    from veche.apps.accounts.services import enrol_member
    from veche.apps.core import keyring
    from veche.apps.core.keyring import COOKIE_NAME, keyring_for
    from veche.apps.federation.services import create_federation, create_founding_keys
    from veche.apps.proposals import services
    from veche.crypto import Keyring, new_member_keys, unlock

    passphrase = "a bench passphrase, long enough"  # noqa: S105 - a throwaway bench account
    keys = Keyring()
    _, group = create_federation(name="Bench", first_group_name="Bench group")
    for key_id, key in create_founding_keys(group=group).items():
        keys.add(key_id, key)
    member, _private = enrol_member(
        group=group, pseudonym="bencher", keys=keys, passphrase=passphrase
    )
    with keyring.using(keys):
        for i in range(ITEMS):
            services.create_proposal(
                author=member, kind_key="group-practice", title=f"Proposal number {i}",
                body="A paragraph of text. " * 20,
            )  # fmt: skip

    # A bare view on the same stack (middleware, sessions), as the floor of any page.
    import veche.config.urls as root
    from veche.apps.core.permissions import public

    root.urlpatterns.append(path("bench-bare/", public(lambda request: HttpResponse("ok"))))
    clear_url_caches()

    client = Client()
    response = client.post("/login/", {"pseudonym": "bencher", "passphrase": passphrase})
    assert response.status_code == 302, response.status_code
    with_keys = client
    without_keys = Client()
    without_keys.cookies.update(client.cookies)
    del without_keys.cookies[COOKIE_NAME]

    record, _ = new_member_keys(passphrase, kdf=kdf_cost())
    login_kdf = median_ms(lambda: unlock(record, passphrase), max(3, args.rounds // 6))
    from django.contrib.auth.hashers import check_password, make_password

    hashed = make_password(passphrase)
    login_hash = median_ms(lambda: check_password(passphrase, hashed), max(3, args.rounds // 6))
    login_form = median_ms(
        lambda: Client().post("/login/", {"pseudonym": "bencher", "passphrase": passphrase}),
        max(3, args.rounds // 6),
    )

    bare = median_ms(lambda: with_keys.get("/bench-bare/"), args.rounds)
    page_keys = median_ms(lambda: with_keys.get("/proposals/"), args.rounds)
    page_none = median_ms(lambda: without_keys.get("/proposals/"), args.rounds)
    assert "Proposal number 7" in with_keys.get("/proposals/").content.decode()
    assert "Proposal number 7" not in without_keys.get("/proposals/").content.decode()

    # The decryption work alone: open the member's grants, decrypt 50 titles.
    from veche.apps.proposals.models import ProposalVersion

    private = unlock(member.key_record(), passphrase)
    versions = list(ProposalVersion.objects.all()[:ITEMS])

    def decrypt_page() -> None:
        ring = keyring_for(member, private)
        with keyring.using(ring):
            for version in versions:
                assert version.title

    decrypt_only = median_ms(decrypt_page, args.rounds)

    print(f"veche crypto bench: {ITEMS} proposals, {args.rounds} rounds, medians in ms")
    print()
    print("| what | median ms | against |")
    print("|---|---:|---|")
    print(f"| bare Django view (baseline) | {bare:.2f} | 1.00x |")
    print(f"| /proposals/ with {ITEMS} items, no key (baseline) | {page_none:.2f} | "
          f"{page_none / bare:.1f}x bare |")  # fmt: skip
    print(f"| /proposals/ with {ITEMS} items, decrypted | {page_keys:.2f} | "
          f"{page_keys / page_none:.2f}x the page without key |")  # fmt: skip
    print(f"| added by decryption on that page | {page_keys - page_none:.2f} | "
          f"{(page_keys - page_none) / page_keys * 100:.0f}% of the page |")  # fmt: skip
    print(f"| open grants + decrypt {ITEMS} titles, alone | {decrypt_only:.2f} | |")
    print(f"| login: Argon2id key unlock (64 MiB, t=3) | {login_kdf:.1f} | |")
    print(f"| login: Argon2 passphrase check (Django hasher) | {login_hash:.1f} | |")
    print(f"| login: whole POST /login/ | {login_form:.1f} | |")


if __name__ == "__main__":
    main()
