"""`make screenshots`: a picture of each console screen with example data, for the README.

Starts the real server on a fresh SQLite file in a temporary folder, fills it through the
API as an administrator would (groups, users, a committed import, a deactivation, an
import waiting in review with errors), and drives Debian's Chromium through each screen.
Writes docs/screenshots/*.png.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from settings import Settings  # noqa: E402
from tests.api.bulk import revert, reverted_batch  # noqa: E402
from tests.api.importing import Importer, csv_file  # noqa: E402
from tests.api.operations import CREATE_GROUP, CREATE_USER, DEACTIVATE  # noqa: E402
from tests.console.browser import LAUNCH_ARGS, NO_BROWSER, browser_path, visit  # noqa: E402
from tests.support import ADMIN, TEST_SECRET, ThreadedServer, token  # noqa: E402

OUT = ROOT / "docs" / "screenshots"

PEOPLE = [
    ("Ana", "Silva", "ana.silva@acme.com"),
    ("José", "Martínez", "jose.martinez@acme.com"),
    ("Zoë", "Lefèvre", "zoe.lefevre@acme.com"),
    ("Mohammed", "Hassan", "m.hassan@acme.com"),
    ("Wei", "Chen", "wei.chen@acme.com"),
    ("Søren", "Jørgensen", "soren.jorgensen@acme.com"),
    ("Priya", "Sharma", "priya.sharma@acme.com"),
    ("Łukasz", "Kowalski", "lukasz.kowalski@acme.com"),
    ("Siobhán", "O'Neill", "siobhan.oneill@acme.com"),
    ("Kenji", "Tanaka", "kenji.tanaka@acme.com"),
    ("Amelia", "Taylor", "amelia.taylor@acme.com"),
    ("Matteo", "Rossi", "matteo.rossi@acme.com"),
]
REVIEW_ROWS = [
    "Grace,Hopper,grace.hopper@acme.com,",
    "Alan,Turing,alan.turing@acme,",
    ",Lovelace,ada@acme.com,",
    "Edsger,Dijkstra,edsger@acme.com,",
    "Edsger,Dijkstra,edsger@acme.com,",
    "Barbara,Liskov,barbara.liskov@acme.com,",
    "Ana,Silva,ana.silva@acme.com,",  # registered already: EXISTING
]
INTERNS = [
    "Noor,Haddad,noor.haddad@acme.com,",
    "Tomás,Novák,tomas.novak@acme.com,",
    "Ines,Costa,ines.costa@acme.com,",
]


def seed(server: ThreadedServer) -> dict[str, str]:
    admin = token(ADMIN, subject="ana.admin@acme.com")
    api = server.api
    for name, permissions in (
        ("Support", ["tickets.read", "tickets.write"]),
        ("Sales", ["crm.read"]),
    ):
        api.data(CREATE_GROUP, {"name": name, "permissions": permissions}, as_=admin)
    importer = Importer(api, as_=admin)
    rows = [f"{first},{last},{email}," for first, last, email in PEOPLE]
    batch = importer.started(csv_file(*rows), filename="new-hires-november.csv")
    importer.committed(batch["id"])
    lone = api.data(
        CREATE_USER,
        {"input": {"firstName": "Hélène", "lastName": "Dubois", "email": "helene@acme.com"}},
        as_=admin,
    )["createUser"]["id"]
    api.data(DEACTIVATE, {"id": lone, "reason": "Left the company"}, as_=admin)
    interns = importer.started(csv_file(*INTERNS), filename="interns-wrong-list.csv")
    importer.committed(interns["id"])
    revert(api, interns["id"], "Sent to the wrong list", as_=admin)
    reverted_batch(api, interns["id"])
    review = importer.started(csv_file(*REVIEW_ROWS), filename="contractors.csv")
    return {
        "user": lone,
        "review": review["id"],
        "completed": batch["id"],
        "reverted": interns["id"],
    }


def main() -> int:
    path = browser_path()
    if path is None:
        print(NO_BROWSER, file=sys.stderr)
        return 1
    logging.getLogger("httpx").setLevel(logging.WARNING)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings.from_env(
            {
                "ROSTER_DATABASE_URL": f"sqlite:///{scratch}/roster.db",
                "ROSTER_OUTBOX_DIR": f"{scratch}/outbox",
                "ROSTER_ERASURE_LEDGER": f"{scratch}/erasures.jsonl",
                "ROSTER_JWT_SECRET": TEST_SECRET,
            }
        )
        with ThreadedServer(settings) as server, sync_playwright() as playwright:
            ids = seed(server)
            browser = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
            with visit(
                browser, server.base_url, viewport={"width": 1360, "height": 860}
            ) as console:
                for name, shoot in shots(ids):
                    page = console.page()
                    shoot(page, console.base_url)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=OUT / f"{name}.png")
                    print(f"wrote {(OUT / f'{name}.png').relative_to(ROOT)}")
                    page.close()
            browser.close()
    return 0


def signed_in(page: Page, base: str, path: str) -> None:
    page.goto(f"{base}{path}#token={token(ADMIN, subject='ana.admin@acme.com')}")
    expect(page.locator("main h1")).to_be_visible()


def shots(ids: dict[str, str]) -> list[tuple[str, Callable[[Page, str], None]]]:
    def sign_in(page: Page, base: str) -> None:
        page.goto(base + "/")
        expect(page.get_by_role("heading", name="Sign in to Roster")).to_be_visible()

    def at(path: str) -> Callable[[Page, str], None]:
        return lambda page, base: signed_in(page, base, path)

    def in_a_spreadsheet(page: Page, base: str) -> None:
        signed_in(page, base, f"/imports/{ids['review']}")
        page.get_by_role("heading", name="Correct in a spreadsheet").scroll_into_view_if_needed()

    def erase_user(page: Page, base: str) -> None:
        signed_in(page, base, f"/users/{ids['user']}")
        page.get_by_role("button", name="Erase…").click()
        dialog = page.get_by_role("dialog", name="Erase Hélène Dubois?")
        dialog.get_by_label("Reason (required)").fill("Asked to be forgotten (ticket 4711)")
        dialog.get_by_label("Type helene@acme.com to confirm").fill("helene@acme.com")
        expect(dialog.get_by_role("button", name="Erase for good")).to_be_enabled()

    def bulk_action(page: Page, base: str) -> None:
        signed_in(page, base, "/users")
        page.get_by_role("checkbox", name="Select Wei Chen").check()
        page.get_by_role("checkbox", name="Select Kenji Tanaka").check()
        page.get_by_role("toolbar", name="Bulk actions").get_by_role(
            "button", name="Resend invitation"
        ).click()
        expect(page.get_by_role("dialog")).to_be_visible()

    return [
        ("01-sign-in", sign_in),
        ("02-user-management", at("/users")),
        ("03-user", at(f"/users/{ids['user']}")),
        ("03b-erase-user", erase_user),
        ("04-import-users", at("/imports/new")),
        ("04b-download-csv-template", at("/imports/new?step=template")),
        ("04c-drop-zone", at("/imports/new?step=upload")),
        ("05-review", at(f"/imports/{ids['review']}")),
        ("05b-access", at(f"/imports/{ids['review']}?step=access")),
        ("05c-correct-in-a-spreadsheet", in_a_spreadsheet),
        ("06-import-summary", at(f"/imports/{ids['completed']}")),
        ("07-imports", at("/imports")),
        ("08-audit", at("/audit")),
        ("09-bulk-action", bulk_action),
        ("10-reverted-import", at(f"/imports/{ids['reverted']}")),
    ]


if __name__ == "__main__":
    sys.exit(main())
