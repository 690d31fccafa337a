"""Secrets of API tokens and feeds: what is stored opens nothing without the secret."""

from __future__ import annotations

import pytest

from veche.crypto import (
    CannotDecrypt,
    KeyId,
    PrivateKey,
    access_lookup_hash,
    new_access_secret,
    new_secret_key,
    pack_feed_keys,
    unpack_feed_keys,
    unwrap_token_key,
    wrap_token_key,
)


def test_a_secret_is_256_random_bits_in_url_safe_text() -> None:
    secrets = {new_access_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) == 43 and s.replace("-", "").replace("_", "").isalnum() for s in secrets)


def test_a_token_unwraps_the_private_key_only_with_its_own_secret() -> None:
    key = PrivateKey.generate()
    secret = new_access_secret()
    blob = wrap_token_key(secret, key)
    assert bytes(unwrap_token_key(secret, blob)) == bytes(key)
    with pytest.raises(CannotDecrypt):
        unwrap_token_key(new_access_secret(), blob)
    with pytest.raises(CannotDecrypt):
        unwrap_token_key(secret, blob[:-1] + bytes([blob[-1] ^ 1]))


def test_a_feed_unpacks_its_keys_only_with_its_own_secret_and_never_as_a_token() -> None:
    keys = {KeyId("g1", 1): new_secret_key(), KeyId("f", 2): new_secret_key()}
    secret = new_access_secret()
    blob = pack_feed_keys(secret, keys)
    assert unpack_feed_keys(secret, blob) == keys
    with pytest.raises(CannotDecrypt):
        unpack_feed_keys(new_access_secret(), blob)
    with pytest.raises(CannotDecrypt):
        unwrap_token_key(secret, blob)  # another personalisation: another key


def test_the_stored_hash_is_not_the_secret_nor_a_key() -> None:
    secret = new_access_secret()
    stored = access_lookup_hash(secret)
    assert stored == access_lookup_hash(secret)
    assert secret not in stored
    key = PrivateKey.generate()
    with pytest.raises(CannotDecrypt):
        unwrap_token_key(stored, wrap_token_key(secret, key))
