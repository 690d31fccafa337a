"""The production password hasher is Argon2id at or above OWASP's minimum."""

from __future__ import annotations

import argon2

from veche.apps.core.hashers import VecheArgon2PasswordHasher
from veche.config import settings as veche_settings


def test_argon2id_is_the_first_configured_hasher():
    assert veche_settings.PASSWORD_HASHERS[0] == (
        "veche.apps.core.hashers.VecheArgon2PasswordHasher"
    )


def test_argon2id_parameters_meet_owasp_minimum():
    encoded = VecheArgon2PasswordHasher().encode("correct horse battery staple", "saltsaltsalt")
    params = argon2.extract_parameters(encoded.removeprefix("argon2"))
    assert params.type is argon2.Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism == 1
    assert VecheArgon2PasswordHasher().verify("correct horse battery staple", encoded)
