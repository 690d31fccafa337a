"""What one request reads more than once, read once: the federation's row, its charter.

A dict that lives for one request (:class:`RequestCacheMiddleware`, outermost but for the
security headers). Outside a request (the CLI, tests calling services) nothing is cached:
:func:`cached` then simply computes. A write that changes a cached value calls
:func:`forget` so the rest of the request sees the change.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")
_cache: ContextVar[dict[str, Any] | None] = ContextVar("veche_request_cache", default=None)


def cached(key: str, make: Callable[[], T]) -> T:
    """Return ``make()``, computed once per request under ``key``."""
    store = _cache.get()
    if store is None:
        return make()
    if key not in store:
        store[key] = make()
    return store[key]  # type: ignore[no-any-return]


def active() -> bool:
    """Whether a request is under way (its cache exists)."""
    return _cache.get() is not None


def keep(key: str, value: Any) -> None:
    """Keep ``value`` under ``key`` for the rest of this request (outside one: nothing)."""
    store = _cache.get()
    if store is not None:
        store[key] = value


def take(key: str) -> Any:
    """Return what this request kept under ``key``, and drop it (None if nothing)."""
    store = _cache.get()
    return None if store is None else store.pop(key, None)


def forget(*keys: str) -> None:
    """Drop ``keys`` from this request's cache (after a write that changes them)."""
    store = _cache.get()
    if store is not None:
        for key in keys:
            store.pop(key, None)


class RequestCacheMiddleware:
    """Give each request its own, empty cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _cache.set({})
        try:
            return self.get_response(request)
        finally:
            _cache.reset(token)
