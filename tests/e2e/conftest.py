"""Fixtures for the real-browser tests: Debian's Chromium, JavaScript off, a live server.

The browser is Debian's own Chromium (``/usr/bin/chromium``), driven by Playwright;
``playwright install`` is never needed. Without it the browser tests are skipped,
unless ``VECHE_REQUIRE_BROWSER=1`` (set in CI), when they fail instead.

The server is pytest-django's ``LiveServer`` with one change: static files go through
veche's own static view and middleware (as in production) instead of Django's
``StaticFilesHandler``, so the stylesheet carries the same security headers as pages.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("VECHE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_missing_reason() -> str | None:
    """Return why the browser tests cannot run here, or None if they can."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def launch_chromium(playwright: Any) -> Any:
    """Launch Debian's Chromium headless, with no background traffic."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _forbidden(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("JavaScript is off: read the page with content() or locators")


def no_script_page(context: Any) -> Any:
    """Return a new page of ``context`` on which evaluating JavaScript fails loudly."""
    page = context.new_page()
    for name in ("evaluate", "evaluate_handle", "add_init_script", "expose_function"):
        setattr(page, name, _forbidden)
    return page


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = chromium_missing_reason()
    if reason:
        if os.environ.get("VECHE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"VECHE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM
    # calls the fixtures make here are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = launch_chromium(playwright)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Return a factory of fresh browser contexts (own cookies) with JavaScript disabled."""
    contexts: list[Any] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("viewport", {"width": 1000, "height": 800})
        context = browser.new_context(java_script_enabled=False, **kwargs)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def veche_server(transactional_db: Any, settings: Any) -> Iterator[Any]:
    """A live server whose static files pass through veche's middleware, as in production."""
    from pytest_django.live_server_helper import LiveServer

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    server = LiveServer(os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"), start=False)
    # LiveServerThread wraps the WSGI handler in static_handler when it starts: keep it bare.
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()
