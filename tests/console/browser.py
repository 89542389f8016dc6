"""The browser the console tests drive: Debian's Chromium (or ROSTER_BROWSER), through
Playwright for Python, with every request to a host other than the server refused and
recorded, so that each test also proves the console works offline."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route

from domain.profiles import Profile
from tests.support import token

NO_BROWSER = (
    "The browser tests need Chromium: install Debian's chromium (apt-get install chromium) "
    "or set ROSTER_BROWSER to a Chromium or Chrome binary."
)

#: As root in a container, without a GPU, and without the background requests this
#: machine's closed network refuses.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_path() -> str | None:
    return os.environ.get("ROSTER_BROWSER") or shutil.which("chromium")


@dataclass
class Visit:
    """One browser context on one server: its pages, and what they did that they must not."""

    context: BrowserContext
    base_url: str
    #: The hosts (host:port) the pages may reach: the server's, and those `allow_hosts` adds.
    allowed: set[str] = field(default_factory=set)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def page(self) -> Page:
        return self.context.new_page()

    def guard(self, route: Route) -> None:
        """Lets a request through to an allowed host; refuses and records any other."""
        url = route.request.url
        if urlsplit(url).netloc in self.allowed or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("blockedbyclient")

    def watch(self, page: Page) -> None:
        """Every page of the context (popups included) is watched for errors."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        # A refused request (a 4xx the test provokes) is logged by the browser as an error;
        # CSP violations and script errors are what this catches.
        text = message.text
        if message.type == "error" and "Failed to load resource" not in text:
            self.errors.append(f"console error: {text}")

    def sign_in(
        self, *profiles: Profile, subject: str = "ana@example.com", path: str = "/"
    ) -> Page:
        """A page signed in by link (`/#token=<JWT>`), as `make run` prints it."""
        page = self.page()
        page.goto(f"{self.base_url}{path}#token={token(*profiles, subject=subject)}")
        page.get_by_role("navigation", name="Console").wait_for()
        return page


@contextmanager
def visit(browser: Browser, base_url: str, **options: Any) -> Iterator[Visit]:
    context = browser.new_context(
        base_url=base_url,
        accept_downloads=True,
        locale=options.pop("locale", "en-GB"),
        timezone_id=options.pop("timezone_id", "Europe/Lisbon"),
        **options,
    )
    context.set_default_timeout(15_000)
    state = Visit(context, base_url, allowed={urlsplit(base_url).netloc})
    context.route("**/*", state.guard)
    context.on("page", state.watch)
    try:
        yield state
    finally:
        context.close()
    assert not state.outside, f"The console asked other hosts: {state.outside}"
    assert not state.errors, "\n".join(state.errors)


def allow_hosts(state: Visit, *hosts: str) -> None:
    """Lets the pages also reach these hosts (an identity provider on localhost)."""
    state.allowed.update(hosts)


_axe = Axe()


def assert_accessible(page: Page, what: str) -> None:
    """An axe scan of the page as it is: no serious or critical violation."""
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    details = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in bad
    )
    assert not bad, f"{what}: accessibility violations\n{details}"
