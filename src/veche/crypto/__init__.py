"""veche.crypto — the key hierarchy (libsodium through PyNaCl; no Django).

See docs/decisions/0030-key-hierarchy.md.
"""

from __future__ import annotations

from veche.crypto.access import (
    access_lookup_hash,
    new_access_secret,
    pack_feed_keys,
    unpack_feed_keys,
    unwrap_token_key,
    wrap_token_key,
)
from veche.crypto.envelope import (
    FEDERATION,
    KeyId,
    Keyring,
    group_scope,
    key_id_of,
    open_key,
    seal_key,
)
from veche.crypto.invitations import invitation_lookup_hash, pack_keys, unpack_keys
from veche.crypto.keys import (
    DEFAULT_KDF,
    FAST_KDF_FOR_TESTS,
    KEY_BYTES,
    CannotDecrypt,
    CryptoError,
    KdfCost,
    KdfParams,
    MemberKeys,
    MissingKey,
    PrivateKey,
    WrongPassphrase,
    keyed_hash,
    new_member_keys,
    new_secret_key,
    open_sealed,
    rewrap,
    seal_to,
    unlock,
)
from veche.crypto.session import unwrap_from_session, wrap_for_session

__all__ = [
    "DEFAULT_KDF",
    "FAST_KDF_FOR_TESTS",
    "FEDERATION",
    "KEY_BYTES",
    "CannotDecrypt",
    "CryptoError",
    "KdfCost",
    "KdfParams",
    "KeyId",
    "Keyring",
    "MemberKeys",
    "MissingKey",
    "PrivateKey",
    "WrongPassphrase",
    "access_lookup_hash",
    "group_scope",
    "invitation_lookup_hash",
    "key_id_of",
    "keyed_hash",
    "new_access_secret",
    "new_member_keys",
    "new_secret_key",
    "open_key",
    "open_sealed",
    "pack_feed_keys",
    "pack_keys",
    "rewrap",
    "seal_key",
    "seal_to",
    "unlock",
    "unpack_feed_keys",
    "unpack_keys",
    "unwrap_from_session",
    "unwrap_token_key",
    "wrap_for_session",
    "wrap_token_key",
]
