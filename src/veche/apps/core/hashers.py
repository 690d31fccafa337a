"""Password hashing: Argon2id at or above the OWASP minimum."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class VecheArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, 64 MiB, 3 passes, 1 lane.

    OWASP's floor is 19 MiB / t=2 / p=1. One lane because a sync gunicorn worker
    hashes on one core anyway, and memory is what costs an attacker most.
    The algorithm name stays ``argon2`` so Django re-hashes older parameters
    on the next login (``must_update``).
    """

    time_cost = 3
    memory_cost = 65536  # KiB
    parallelism = 1
