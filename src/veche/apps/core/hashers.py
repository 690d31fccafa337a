"""Expensive hashing: Argon2id's parameters, and one budget for all of it on this server.

Every Argon2id run a request asks for (checking a passphrase at login, sealing a new
member's key at joining) goes through :func:`run_expensive`:

- **At most ``VECHE_HASHING_SLOTS`` runs at once across every process of the server**
  (gunicorn's workers included): a run holds an exclusive ``flock`` on one of that many
  lock files in ``VECHE_HASHING_LOCK_DIR``. Guesses at names that exist and at names that
  do not go through the same slots, so the CPU spent on guessing is bounded whatever is
  guessed, and logins queue while pages keep the other cores.
- **A bounded wait**: a request waits at most ``VECHE_HASHING_WAIT_SECONDS`` for a slot,
  then :class:`HashingBusy` (the page says "busy, try again in a moment"). At most
  ``VECHE_HASHING_WAITERS_PER_PROCESS`` requests of one process wait at once; more are
  told at once, so waiting logins never hold every thread a worker has for pages.
- **At a lower priority**: the hash runs in a per-process thread whose nice value is
  ``VECHE_HASHING_NICE`` (Linux), so the scheduler prefers page rendering to it.

See docs/decisions/0071-login-delays-and-hashing-budget.md and 0072-one-argon2-per-login.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

T = TypeVar("T")


class VecheArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, 64 MiB, 3 passes, 1 lane.

    Members' passphrases are no longer hashed with it (the Argon2id that seals their
    private key is the only check: decision 0072); it stays the configured hasher for
    anything that still calls Django's ``make_password``, at the same cost.
    OWASP's floor is 19 MiB / t=2 / p=1. One lane because a worker hashes on one core
    anyway, and memory is what costs an attacker most.
    """

    time_cost = 3
    memory_cost = 65536  # KiB
    parallelism = 1


class HashingBusy(Exception):
    """No hashing slot came free within the bounded wait: try again in a moment."""


_lock = threading.Lock()
_waiting = 0
_executor: ThreadPoolExecutor | None = None
_executor_nice: int | None = None


def _reset_after_fork() -> None:
    # A thread pool does not survive fork(): each gunicorn worker makes its own.
    global _executor, _executor_nice, _waiting, _lock
    _executor = None
    _executor_nice = None
    _waiting = 0
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _lower_priority(nice: int) -> None:
    # On Linux a thread has its own nice value; raising it needs no privilege.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def _pool() -> ThreadPoolExecutor:
    global _executor, _executor_nice
    nice = int(getattr(settings, "VECHE_HASHING_NICE", 0))
    with _lock:
        if _executor is None or _executor_nice != nice:
            slots = max(1, int(settings.VECHE_HASHING_SLOTS))
            _executor = ThreadPoolExecutor(
                max_workers=slots,
                thread_name_prefix="veche-hashing",
                initializer=_lower_priority,
                initargs=(nice,),
            )
            _executor_nice = nice
        return _executor


def _lock_dir() -> Path:
    path = Path(settings.VECHE_HASHING_LOCK_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def hashing_slot(wait: float | None = None) -> Iterator[None]:
    """Hold one of the server's hashing slots for the block; raise HashingBusy if none
    comes free within ``wait`` seconds (default ``VECHE_HASHING_WAIT_SECONDS``)."""
    global _waiting
    if wait is None:
        wait = float(settings.VECHE_HASHING_WAIT_SECONDS)
    with _lock:
        if _waiting >= int(settings.VECHE_HASHING_WAITERS_PER_PROCESS):
            raise HashingBusy
        _waiting += 1
    held: int | None = None
    try:
        held = _acquire(wait)
    finally:
        with _lock:
            _waiting -= 1
    try:
        yield
    finally:
        fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)


def _acquire(wait: float) -> int:
    """Return an open descriptor holding an exclusive lock on a free slot file."""
    slots = max(1, int(settings.VECHE_HASHING_SLOTS))
    directory = _lock_dir()
    # A new open file description per attempt: flock() locks belong to descriptions,
    # so two threads of one process exclude each other too.
    fds = [
        os.open(directory / f"hashing-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        for i in range(slots)
    ]
    held: int | None = None
    try:
        deadline = time.monotonic() + wait
        pause = 0.002
        while True:
            for fd in random.sample(fds, len(fds)):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                held = fd
                return fd
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise HashingBusy
            time.sleep(min(pause, remaining))
            pause = min(pause * 1.5, 0.02)
    finally:
        for fd in fds:
            if fd != held:
                os.close(fd)


def run_expensive(function: Callable[..., T], *args: object, wait: float | None = None) -> T:
    """Return ``function(*args)``, run within the server's hashing budget.

    Raises HashingBusy if no slot comes free within the bounded wait.
    """
    with hashing_slot(wait):
        return _pool().submit(function, *args).result()
