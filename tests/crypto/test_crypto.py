"""veche.crypto: round trips, refusals, tamper detection, no leaks in blobs or reprs."""

from __future__ import annotations

import base64
import hashlib
import json

import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.encoding import RawEncoder

from veche.crypto import (
    DEFAULT_KDF,
    FAST_KDF_FOR_TESTS,
    CannotDecrypt,
    CryptoError,
    KdfParams,
    KeyId,
    Keyring,
    MemberKeys,
    MissingKey,
    PrivateKey,
    WrongPassphrase,
    group_scope,
    invitation_lookup_hash,
    key_id_of,
    keyed_hash,
    new_member_keys,
    new_secret_key,
    open_key,
    open_sealed,
    pack_keys,
    rewrap,
    seal_key,
    seal_to,
    unlock,
    unpack_keys,
    unwrap_from_session,
    wrap_for_session,
)
from veche.crypto.envelope import OPENED_HELD

FAST = FAST_KDF_FOR_TESTS
PASS = "correct horse battery staple"
F1 = KeyId("f", 1)
G3_1 = KeyId("g3", 1)
G3_2 = KeyId("g3", 2)


@pytest.fixture(scope="module")
def member() -> tuple[MemberKeys, PrivateKey]:
    return new_member_keys(PASS, kdf=FAST)


def _ring(*ids: KeyId) -> tuple[Keyring, dict[KeyId, bytes]]:
    keys = {k: new_secret_key() for k in ids}
    return Keyring(keys), keys


def _flip(blob: bytes, index: int) -> bytes:
    out = bytearray(blob)
    out[index] ^= 0x01
    return bytes(out)


# ---------------------------------------------------------------- member keys


def test_default_kdf_meets_owasp_minimums() -> None:
    """OWASP: Argon2id m=19 MiB, t=2, p=1 (libsodium's argon2id is always p=1)."""
    assert DEFAULT_KDF.opslimit >= 2
    assert DEFAULT_KDF.memlimit >= 19 * 1024 * 1024
    assert DEFAULT_KDF == (3, 64 * 1024 * 1024)
    assert FAST_KDF_FOR_TESTS == (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)


def test_new_member_keys_then_unlock(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, private_key = member
    assert len(record.public_key) == 32
    assert record.public_key == bytes(private_key.public_key)
    assert (record.kdf.opslimit, record.kdf.memlimit) == FAST
    assert len(record.kdf.salt) == argon2id.SALTBYTES
    assert bytes(private_key) not in record.sealed_private_key
    assert bytes(unlock(record, PASS)) == bytes(private_key)


def test_new_member_keys_defaults_to_default_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times nothing: Argon2 is replaced, only the parameters it receives are checked."""
    seen: list[tuple[int, int]] = []

    def fake_kdf(size: int, password: bytes, salt: bytes, *, opslimit: int, memlimit: int) -> bytes:
        seen.append((opslimit, memlimit))
        return hashlib.blake2b(password + salt, digest_size=size).digest()

    monkeypatch.setattr(argon2id, "kdf", fake_kdf)
    record, _ = new_member_keys(PASS)
    assert (record.kdf.opslimit, record.kdf.memlimit) == DEFAULT_KDF
    assert seen == [tuple(DEFAULT_KDF)]


def test_wrong_passphrase(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, _ = member
    with pytest.raises(WrongPassphrase) as caught:
        unlock(record, PASS + "!")
    assert PASS not in str(caught.value)
    with pytest.raises(WrongPassphrase):
        unlock(record, "")
    with pytest.raises(CryptoError):
        new_member_keys("", kdf=FAST)
    assert issubclass(WrongPassphrase, CryptoError)


def test_tampered_sealed_private_key_is_refused(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, _ = member
    tampered = MemberKeys(record.public_key, _flip(record.sealed_private_key, -1), record.kdf)
    with pytest.raises(CryptoError):
        unlock(tampered, PASS)


def test_record_with_someone_elses_public_key_is_refused(
    member: tuple[MemberKeys, PrivateKey],
) -> None:
    record, _ = member
    other, _ = new_member_keys("another long passphrase", kdf=FAST)
    swapped = MemberKeys(other.public_key, record.sealed_private_key, record.kdf)
    with pytest.raises(CannotDecrypt):
        unlock(swapped, PASS)


def test_rewrap_changes_passphrase_and_salt(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, private_key = member
    new = rewrap(private_key, "a brand new passphrase", kdf=FAST)
    assert new.public_key == record.public_key
    assert new.kdf.salt != record.kdf.salt
    assert bytes(unlock(new, "a brand new passphrase")) == bytes(private_key)
    with pytest.raises(WrongPassphrase):
        unlock(new, PASS)


def test_member_keys_bytes_round_trip(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, private_key = member
    again = MemberKeys.from_bytes(record.to_bytes())
    assert again == record
    assert bytes(unlock(again, PASS)) == bytes(private_key)
    with pytest.raises(CryptoError):
        MemberKeys.from_bytes(b"XX" + record.to_bytes()[2:])


def test_kdf_params_are_validated() -> None:
    with pytest.raises(CryptoError):
        KdfParams(b"short", *FAST)
    with pytest.raises(CryptoError):
        KdfParams(b"\0" * 16, 0, FAST.memlimit)
    with pytest.raises(CryptoError):
        KdfParams(b"\0" * 16, FAST.opslimit, 1024)


def test_seal_to_and_open(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, private_key = member
    secret = new_secret_key()
    assert len(secret) == 32
    assert new_secret_key() != secret
    sealed = seal_to(record.public_key, secret)
    assert secret not in sealed
    assert open_sealed(private_key, sealed) == secret
    with pytest.raises(CannotDecrypt):
        open_sealed(PrivateKey.generate(), sealed)
    with pytest.raises(CannotDecrypt):
        open_sealed(private_key, _flip(sealed, -1))
    with pytest.raises(CannotDecrypt):
        open_sealed(private_key, b"short")


def test_seal_key_is_bound_to_its_key_id(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, private_key = member
    key = new_secret_key()
    sealed = seal_key(record.public_key, G3_2, key)
    assert open_key(private_key, G3_2, sealed) == key
    for other in (G3_1, KeyId("g4", 2), F1):
        with pytest.raises(CannotDecrypt):
            open_key(private_key, other, sealed)
    with pytest.raises(CannotDecrypt):
        open_key(private_key, G3_2, seal_to(record.public_key, key))


# ---------------------------------------------------------------- keyed hash

SERVER_KEY = bytes(range(32))


def test_keyed_hash_is_stable_and_separated() -> None:
    h = keyed_hash(SERVER_KEY, "alice", purpose="pseudonym")
    assert h == keyed_hash(SERVER_KEY, "alice", purpose="pseudonym")
    assert len(h) == 64 and int(h, 16) >= 0
    assert h != keyed_hash(SERVER_KEY, "alice", purpose="display-name")
    assert h != keyed_hash(bytes(range(1, 33)), "alice", purpose="pseudonym")
    assert h != keyed_hash(SERVER_KEY, "bob", purpose="pseudonym")
    assert "alice" not in h
    assert h != hashlib.sha256(b"alice").hexdigest()
    # Case-folding is the caller's job: the function hashes exactly what it is given.
    assert h != keyed_hash(SERVER_KEY, "Alice", purpose="pseudonym")
    assert h == keyed_hash(SERVER_KEY, "Alice".casefold(), purpose="pseudonym")


def test_keyed_hash_follows_its_documented_construction() -> None:
    subkey = nacl.hash.blake2b(
        b"pseudonym", digest_size=32, key=SERVER_KEY, person=b"veche-keyed-v1", encoder=RawEncoder
    )
    expected = nacl.hash.blake2b(b"alice", digest_size=32, key=subkey, encoder=RawEncoder).hex()
    assert keyed_hash(SERVER_KEY, "alice", purpose="pseudonym") == expected


def test_keyed_hash_validates_inputs() -> None:
    with pytest.raises(CryptoError):
        keyed_hash(b"too short", "alice", purpose="pseudonym")
    with pytest.raises(CryptoError):
        keyed_hash(SERVER_KEY, "alice", purpose="")
    long_key = b"k" * 100  # longer than BLAKE2b's 64-byte key: pre-hashed, still works
    assert keyed_hash(long_key, "a", purpose="p") != keyed_hash(b"k" * 99, "a", purpose="p")


# ---------------------------------------------------------------- envelopes


def test_envelope_round_trip_and_format() -> None:
    ring, keys = _ring(G3_1)
    blob = ring.encrypt("g3", "Proposal: buy a van", context="proposal:7:body")
    assert blob.startswith(b"V1\x02g3\x00\x00\x00\x01")
    assert key_id_of(blob) == G3_1
    assert len(blob) == 2 + 1 + 2 + 4 + 24 + len("Proposal: buy a van") + 16
    assert ring.decrypt(blob, context="proposal:7:body") == "Proposal: buy a van"
    assert Keyring(keys).decrypt(blob, context="proposal:7:body") == "Proposal: buy a van"


def test_bytes_round_trip() -> None:
    ring, _ = _ring(F1)
    ballot = json.dumps({"ranking": [3, 1, 2]}).encode()
    blob = ring.encrypt_bytes("f", ballot, context="ballot:9")
    assert ring.decrypt_bytes(blob, context="ballot:9") == ballot


def test_same_plaintext_encrypts_differently() -> None:
    ring, _ = _ring(F1)
    assert ring.encrypt("f", "x", context="c") != ring.encrypt("f", "x", context="c")


def test_wrong_context_is_refused() -> None:
    ring, _ = _ring(G3_1)
    blob = ring.encrypt("g3", "secret text", context="proposal:7:body")
    for context in ("proposal:8:body", "proposal:7:title", "proposal:7:body "):
        with pytest.raises(CannotDecrypt):
            ring.decrypt(blob, context=context)


@pytest.mark.parametrize("where", ["magic", "scope", "epoch", "nonce", "ciphertext", "tag"])
def test_tampering_anywhere_is_refused(where: str) -> None:
    ring, _ = _ring(G3_1, KeyId("g2", 1), G3_2)
    blob = Keyring({G3_1: ring.get(G3_1)}).encrypt("g3", "secret text", context="c")
    index = {"magic": 0, "scope": 4, "epoch": 8, "nonce": 12, "ciphertext": 40, "tag": -1}[where]
    tampered = _flip(blob, index)
    with pytest.raises(CannotDecrypt):
        ring.decrypt(tampered, context="c")


def test_a_text_opened_once_opens_nothing_else() -> None:
    """The keyring keeps what it opened; an attacker's variants of that blob, or the same
    blob read as another record, are still refused after it has opened once."""
    ring, _ = _ring(G3_1)
    blob = ring.encrypt("g3", "secret text", context="comment:p7:1")
    assert ring.decrypt(blob, context="comment:p7:1") == "secret text"
    assert ring.decrypt(bytearray(blob), context="comment:p7:1") == "secret text"
    for context in ("comment:p7:2", "comment:p8:1", "comment:p7:1 "):
        with pytest.raises(CannotDecrypt):
            ring.decrypt(blob, context=context)
    for index in (0, 4, 12, 40, len(blob) - 1):
        with pytest.raises(CannotDecrypt):
            ring.decrypt(_flip(blob, index), context="comment:p7:1")
    # A keyring without the key learns nothing from another that opened it.
    with pytest.raises(CannotDecrypt):
        Keyring().decrypt(blob, context="comment:p7:1")
    assert "secret text" not in repr(ring)


def test_a_keyring_keeps_a_bounded_number_of_opened_texts() -> None:
    ring, _ = _ring(G3_1)
    blobs = [ring.encrypt("g3", f"text {i}", context="c") for i in range(OPENED_HELD + 50)]
    for i, blob in enumerate(blobs):
        assert ring.decrypt(blob, context="c") == f"text {i}"
    assert len(ring._opened) <= OPENED_HELD
    assert [ring.decrypt(b, context="c") for b in blobs[:3]] == ["text 0", "text 1", "text 2"]


def test_relabelled_key_id_is_refused_even_with_the_same_key() -> None:
    """Header is in the AAD: moving a blob to another key id fails even if key bytes match."""
    key = new_secret_key()
    ring = Keyring({G3_1: key, KeyId("g4", 1): key, G3_2: key})
    blob = ring.encrypt("g3", "secret text", context="c")
    assert key_id_of(blob) == G3_2
    for other in (G3_1, KeyId("g4", 1)):
        relabelled = other.header() + blob[len(G3_2.header()) :]
        assert key_id_of(relabelled) == other
        with pytest.raises(CannotDecrypt):
            ring.decrypt(relabelled, context="c")


def test_epoch_one_blob_needs_the_epoch_one_key() -> None:
    k1, k2 = new_secret_key(), new_secret_key()
    blob = Keyring({G3_1: k1}).encrypt("g3", "old text", context="c")
    assert Keyring({G3_1: k1, G3_2: k2}).decrypt(blob, context="c") == "old text"
    with pytest.raises(MissingKey):
        Keyring({G3_2: k2}).decrypt(blob, context="c")
    with pytest.raises(CannotDecrypt):  # the epoch-2 key held under the epoch-1 label
        Keyring({G3_1: k2}).decrypt(blob, context="c")


def test_latest_picks_highest_epoch_and_encrypt_uses_it() -> None:
    ring, _ = _ring(KeyId("g3", 2), KeyId("g3", 10), KeyId("g3", 1), KeyId("g30", 99), F1)
    assert ring.latest("g3") == KeyId("g3", 10)
    assert ring.latest("f") == F1
    assert ring.latest("g4") is None
    assert key_id_of(ring.encrypt("g3", "x", context="c")) == KeyId("g3", 10)
    assert ring.has(KeyId("g3", 2)) and not ring.has(KeyId("g3", 3))
    assert len(ring) == 5
    assert next(iter(ring)) == F1


def test_missing_key_is_cannot_decrypt() -> None:
    ring, _ = _ring(G3_1)
    blob = ring.encrypt("g3", "x", context="c")
    with pytest.raises(CannotDecrypt):
        Keyring().decrypt(blob, context="c")
    with pytest.raises(CannotDecrypt):
        Keyring({KeyId("g4", 1): new_secret_key()}).decrypt(blob, context="c")
    with pytest.raises(CryptoError):
        Keyring().encrypt("g3", "x", context="c")
    with pytest.raises(MissingKey):
        ring.get(G3_2)


def test_try_decrypt_falls_back() -> None:
    ring, _ = _ring(G3_1)
    blob = ring.encrypt("g3", "hello", context="c")
    assert ring.try_decrypt(blob, context="c") == "hello"
    assert ring.try_decrypt(None, context="c") == ""
    assert ring.try_decrypt(blob, context="other", fallback="[sealed]") == "[sealed]"
    assert Keyring().try_decrypt(blob, context="c", fallback="?") == "?"
    assert ring.try_decrypt(b"garbage", context="c", fallback="?") == "?"


def test_malformed_blobs_are_refused() -> None:
    ring, _ = _ring(G3_1)
    for blob in (b"", b"V1", b"V2\x01f\x00\x00\x00\x01" + b"\0" * 40, b"V1\x02g3\x00\x00"):
        with pytest.raises(CannotDecrypt):
            ring.decrypt(blob, context="c")
        with pytest.raises(CannotDecrypt):
            key_id_of(blob)
    bad_scope = b"V1\x02x3\x00\x00\x00\x01" + b"\0" * 40
    with pytest.raises(CannotDecrypt):
        key_id_of(bad_scope)
    zero_epoch = b"V1\x01f\x00\x00\x00\x00" + b"\0" * 40
    with pytest.raises(CannotDecrypt):
        key_id_of(zero_epoch)


def test_a_header_read_before_names_its_key_and_no_other() -> None:
    ring, _ = _ring(G3_1)
    blob = ring.encrypt("g3", "hello", context="c")
    for _ in range(2):  # the second time, the header is known already
        assert key_id_of(blob) == KeyId("g3", 1)
        assert ring.decrypt(blob, context="c") == "hello"
    # The same blob under another scope or epoch is another header, read afresh.
    other_epoch = blob[:5] + b"\x00\x00\x00\x02" + blob[9:]
    assert key_id_of(other_epoch) == KeyId("g3", 2)
    with pytest.raises(CannotDecrypt):
        ring.decrypt(other_epoch, context="c")
    with pytest.raises(CannotDecrypt):
        key_id_of(blob[:3] + b"x3" + blob[5:])


def test_inputs_are_validated() -> None:
    for scope in ("", "g", "G3", "g03", "h1", "g-1", "f1", "g3 "):
        with pytest.raises(CryptoError):
            KeyId(scope, 1)
    for epoch in (0, -1, 2**32):
        with pytest.raises(CryptoError):
            KeyId("f", epoch)
    ring, _ = _ring(F1)
    with pytest.raises(CryptoError):
        ring.encrypt("f", "x", context="")
    with pytest.raises(CryptoError):
        ring.add(F1, b"short")
    with pytest.raises(CryptoError):
        ring.add(F1, new_secret_key())  # a different key for a key id already held
    with pytest.raises(CryptoError):
        ring.latest("nope")
    assert group_scope(3) == "g3"
    assert KeyId.parse("g3:2") == G3_2
    assert str(G3_2) == "g3:2"


def test_reprs_contain_no_key_material(member: tuple[MemberKeys, PrivateKey]) -> None:
    record, private_key = member
    key = new_secret_key()
    ring = Keyring({G3_1: key})
    text = repr(ring) + str(ring)
    assert "g3:1" in text
    for form in (key.hex(), repr(key), base64.b64encode(key).decode()):
        assert form not in text
    assert isinstance(private_key, PrivateKey)
    private_text = repr(private_key) + str(private_key) + f"{private_key}" + repr([private_key])
    assert bytes(private_key).hex() not in private_text
    assert repr(bytes(private_key)) not in private_text
    record_text = repr(record)
    assert repr(record.sealed_private_key) not in record_text
    assert record.sealed_private_key.hex() not in record_text
    assert "sealed_private_key" not in record_text
    # Every private key the module hands out hides itself, including after a round trip.
    for key_obj in (
        unlock(record, PASS),
        unwrap_from_session(*wrap_for_session(private_key)),
        new_member_keys(PASS, kdf=FAST)[1],
    ):
        assert isinstance(key_obj, PrivateKey)
        assert bytes(key_obj).hex() not in str(key_obj) + repr(key_obj)
        assert repr(bytes(key_obj)) not in str(key_obj) + repr(key_obj)
    # PyNaCl's own class would leak through str(): that is why the subclass exists.
    plain = nacl.public.PrivateKey(bytes(private_key))
    assert repr(bytes(private_key)) in str(plain)
    assert bytes(unwrap_from_session(*wrap_for_session(plain))) == bytes(private_key)


# ---------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=4), context=st.text(min_size=1))
def test_property_round_trip_and_no_plaintext_in_blob(text: str, context: str) -> None:
    ring = Keyring({G3_1: bytes(32)})
    blob = ring.encrypt("g3", text, context=context)
    assert text.encode() not in blob
    assert ring.decrypt(blob, context=context) == text


@settings(max_examples=100, deadline=None)
@given(data=st.binary(min_size=1, max_size=200), index=st.integers(min_value=0))
def test_property_any_single_bit_flip_is_refused(data: bytes, index: int) -> None:
    ring = Keyring({G3_1: bytes(range(32))})
    blob = ring.encrypt_bytes("g3", data, context="c")
    tampered = _flip(blob, index % len(blob))
    with pytest.raises(CannotDecrypt):
        ring.decrypt_bytes(tampered, context="c")


@settings(max_examples=50, deadline=None)
@given(
    ids=st.lists(
        st.builds(
            KeyId,
            st.one_of(st.just("f"), st.integers(0, 50).map(group_scope)),
            st.integers(1, 2**32 - 1),
        ),
        unique=True,
        max_size=8,
    )
)
def test_property_invitation_round_trip(ids: list[KeyId]) -> None:
    keys = {k: new_secret_key() for k in ids}
    assert unpack_keys("s3cret-token", pack_keys("s3cret-token", keys)) == keys


# ---------------------------------------------------------------- session


def test_session_round_trip(member: tuple[MemberKeys, PrivateKey]) -> None:
    _, private_key = member
    cookie, blob = wrap_for_session(private_key)
    assert len(base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))) == 32
    assert all(c.isalnum() or c in "-_" for c in cookie)
    assert bytes(private_key) not in base64.b64decode(blob)
    assert bytes(unwrap_from_session(cookie, blob)) == bytes(private_key)
    cookie2, blob2 = wrap_for_session(private_key)
    assert cookie2 != cookie and blob2 != blob


def test_session_wrong_or_missing_cookie(member: tuple[MemberKeys, PrivateKey]) -> None:
    _, private_key = member
    cookie, blob = wrap_for_session(private_key)
    other_cookie, _ = wrap_for_session(private_key)
    for bad in (other_cookie, "", "not base64!!", cookie[:-4], "A" * 43):
        with pytest.raises(CannotDecrypt):
            unwrap_from_session(bad, blob)
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    for bad_blob in (base64.b64encode(bytes(raw)).decode(), "", "%%%", blob[:-8]):
        with pytest.raises(CannotDecrypt):
            unwrap_from_session(cookie, bad_blob)


# ---------------------------------------------------------------- invitations


def test_invitation_keys_round_trip_and_wrong_secret() -> None:
    keys = {F1: new_secret_key(), G3_2: new_secret_key()}
    blob = pack_keys("the-secret", keys)
    for key in keys.values():
        assert key not in blob and key.hex().encode() not in blob
    assert unpack_keys("the-secret", blob) == keys
    with pytest.raises(CannotDecrypt):
        unpack_keys("the-secreT", blob)
    with pytest.raises(CannotDecrypt):
        unpack_keys("the-secret", _flip(blob, -1))
    with pytest.raises(CannotDecrypt):
        unpack_keys("the-secret", b"")
    assert unpack_keys("x", pack_keys("x", {})) == {}


def test_invitation_payload_format() -> None:
    key = bytes(range(32))
    blob = pack_keys("s", {G3_2: key, F1: key})
    derived = nacl.hash.blake2b(b"s", digest_size=32, person=b"veche-invite-v1", encoder=RawEncoder)
    payload = json.loads(nacl.secret.SecretBox(derived).decrypt(blob))
    assert payload == {"f:1": key.hex(), "g3:2": key.hex()}


def test_lookup_hash_is_sha256_and_not_the_derived_key() -> None:
    secret = "tok_abc123-XYZ"
    assert invitation_lookup_hash(secret) == hashlib.sha256(secret.encode()).hexdigest()
    derived = nacl.hash.blake2b(
        secret.encode(), digest_size=32, person=b"veche-invite-v1", encoder=RawEncoder
    )
    assert bytes.fromhex(invitation_lookup_hash(secret)) != derived
    # Knowing the stored lookup hash does not open the packed keys.
    blob = pack_keys(secret, {F1: new_secret_key()})
    with pytest.raises(nacl.exceptions.CryptoError):
        nacl.secret.SecretBox(bytes.fromhex(invitation_lookup_hash(secret))).decrypt(blob)
