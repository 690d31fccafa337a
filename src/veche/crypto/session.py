"""Keeping an unlocked private key between requests without storing it in clear.

At login the private key is encrypted (``SecretBox``) under 32 random bytes. The
ciphertext goes into the server-side session; the random bytes go only into the member's
cookie. A copy of the session store alone (a seized disk or backup) does not open it;
the server can open it only while it receives the cookie, i.e. during that member's
requests. Logging out (deleting the session) destroys the ciphertext.
"""

from __future__ import annotations

import base64
import binascii

import nacl.exceptions
import nacl.public
import nacl.secret
import nacl.utils

from veche.crypto.keys import CannotDecrypt, PrivateKey

__all__ = ["unwrap_from_session", "wrap_for_session"]

_SECRET_BYTES = nacl.secret.SecretBox.KEY_SIZE


def _b64decode(text: str, *, urlsafe: bool) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise CannotDecrypt("missing or malformed session key")
    padded = text + "=" * (-len(text) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded.encode("ascii"))
        return base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        raise CannotDecrypt("missing or malformed session key") from None


def wrap_for_session(private_key: nacl.public.PrivateKey) -> tuple[str, str]:
    """Return ``(cookie_secret, session_blob)``.

    ``cookie_secret`` is URL-safe base64 (no padding) of 32 random bytes, for an
    HttpOnly, Secure, SameSite cookie; ``session_blob`` is base64, for the session.
    """
    secret = nacl.utils.random(_SECRET_BYTES)
    blob = nacl.secret.SecretBox(secret).encrypt(bytes(private_key))
    cookie = base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")
    return cookie, base64.b64encode(bytes(blob)).decode("ascii")


def unwrap_from_session(cookie_secret: str, blob: str) -> PrivateKey:
    """Open a ``wrap_for_session`` blob; raise CannotDecrypt (wrong/missing cookie, tampering)."""
    secret = _b64decode(cookie_secret, urlsafe=True)
    if len(secret) != _SECRET_BYTES:
        raise CannotDecrypt("missing or malformed session key")
    ciphertext = _b64decode(blob, urlsafe=False)
    try:
        raw = nacl.secret.SecretBox(secret).decrypt(ciphertext)
        return PrivateKey(raw)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotDecrypt("session keys cannot be opened") from None
