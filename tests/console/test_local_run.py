"""`roster serve` (what `make run` runs) prints a link that opens the console signed in,
from an empty folder: the SQLite file, the secret and the console all work unprepared."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.console.browser import visit
from tests.support import ROOT, free_port


def test_the_printed_link_opens_the_console_signed_in(browser: Browser, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    env |= {"ROSTER_PORT": str(port), "ROSTER_MAIL_DELIVERY": "off"}
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "serve"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        link = None
        deadline = time.monotonic() + 30
        while link is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(rf"http://127\.0\.0\.1:{port}/#token=\S+", log.read_text())
            link = found.group(0) if found else None
            time.sleep(0.1)
        assert link, log.read_text()
        while "Application startup complete" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        with visit(browser, f"http://127.0.0.1:{port}") as console:
            page = console.page()
            page.goto(link)
            sidebar = page.get_by_role("navigation", name="Console")
            expect(sidebar).to_contain_text("local-admin")
            expect(page).to_have_url(f"http://127.0.0.1:{port}/users")
        assert (tmp_path / "data" / "roster.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)
