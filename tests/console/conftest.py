"""Fixtures of the browser tests: one Chromium per test module, a fresh server (real
uvicorn, real store) and a fresh browser context per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.console.browser import LAUNCH_ARGS, NO_BROWSER, Visit, browser_path, visit
from tests.support import ThreadedServer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = browser_path()
    if path is None:
        if os.environ.get("ROSTER_REQUIRE_BROWSER"):
            pytest.fail(NO_BROWSER)
        pytest.skip(NO_BROWSER)
    # sync_playwright in a module-scoped fixture of our own: pytest-playwright (and a
    # session-wide Playwright loop) breaks the async tests of pytest-asyncio.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console(browser: Browser, server: ThreadedServer) -> Iterator[Visit]:
    """A browser context on a fresh server; other hosts are refused and must not be asked."""
    with visit(browser, server.base_url) as state:
        yield state
