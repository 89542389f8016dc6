"""The "Import Users" wizard in the browser, step by step as the help article shows it:
the import screen, "Download CSV Template", the drop zone with real files (every encoding
and delimiter the API reads, a file with every row error, a refused file), the review
table (X icons, filters, editing in place, excluding and including rows), the access
("Assign Groups", "Mirror User", "Customize individually"), "Create users" with live
progress to the summary, and a batch resumed from its address. Every outcome is also
checked through the API, and every screen is scanned by axe.

Two servers serve the module: `server`, whose import worker runs, for the tests whose
batches need nothing else; and `manual`, without a worker (the test runs it), so that a
large file's checking and a commit can be watched while they wait.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate
from playwright.sync_api import Browser, FilePayload, Locator, Page, expect

from settings import Settings
from tests.api.importing import Importer, csv_file, people
from tests.api.operations import Administrator, server_for_module, store_for_module
from tests.console.browser import Visit, assert_accessible, visit
from tests.support import ADMIN, VIEWER, ThreadedServer, token

ROOT = Path(__file__).resolve().parents[2]
STEPS = ["Import", "Download CSV Template", "Upload and review", "Access", "Create users"]
HEADER_SC = "first_name;last_name;email;username"
HEADER_TAB = "first_name\tlast_name\temail\tusername"
USER = """query($email: String!) { userByEmail(email: $email) {
  id email status importBatchId
  access { permissions effectivePermissions groups { id name } }
} }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """The server of the `console` fixture, shared by the module: each test imports people
    of its own domain, so that no test sees another's users."""
    with server_for_module(tmp_path_factory.mktemp("wizard")) as running:
        yield running


@pytest.fixture(scope="module")
def manual(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A server whose import worker does not run: a batch of more than 10 rows waits in
    VALIDATING, and a commit in COMMITTING, until the test runs the worker. Files over
    64 KiB are too large for it."""
    extra = {
        "ROSTER_IMPORT_WORKER": "off",
        "ROSTER_IMPORT_INLINE_ROWS": "10",
        "ROSTER_MAX_UPLOAD_BYTES": str(64 * 1024),
    }
    with (
        store_for_module(tmp_path_factory.mktemp("manual")) as env,
        ThreadedServer(Settings.from_env({**env, **extra})) as running,
    ):
        yield running


@pytest.fixture
def manual_console(browser: Browser, manual: ThreadedServer) -> Iterator[Visit]:
    with visit(browser, manual.base_url) as state:
        yield state


# ---------------------------------------------------------------- helpers


def admin(server: ThreadedServer) -> Administrator:
    return Administrator(server.api)


def importer(server: ThreadedServer, subject: str = "ana@example.com") -> Importer:
    return Importer(server.api, as_=token(ADMIN, subject=subject))


def user(server: ThreadedServer, email: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = server.api.data(USER, {"email": email}, as_=token(ADMIN))[
        "userByEmail"
    ]
    return found


def file_payload(content: bytes, name: str = "people.csv") -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": content}


def open_wizard(console: Visit, *, as_: Any = ADMIN, subject: str = "ana@example.com") -> Page:
    page = console.sign_in(as_, subject=subject, path="/imports/new")
    # File choosers are intercepted from now on: `expect_file_chooser` alone turns that on
    # without waiting, and a chooser opened by a key press at once could be missed.
    page.on("filechooser", lambda _: None)
    expect(page.get_by_role("heading", name="Import Users", level=1)).to_be_visible()
    return page


def current_step(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Import steps").locator("[aria-current=step]")


def upload(page: Page, content: bytes, name: str = "people.csv") -> None:
    """Step 3 from anywhere in a new import: the file chosen with "Choose a file"."""
    page.goto("/imports/new?step=upload")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose a file", exact=True).click()
    chooser.value.set_files(file_payload(content, name))


def drop(page: Page, content: bytes, name: str = "people.csv") -> None:
    """Drags a file onto the drop zone, as a browser does: a DataTransfer holding a File."""
    transfer = page.evaluate_handle(
        """([name, bytes]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: "text/csv" }));
            return transfer;
        }""",
        [name, list(content)],
    )
    zone = drop_zone(page)
    for event in ("dragenter", "dragover", "drop"):
        zone.dispatch_event(event, {"dataTransfer": transfer})


def drop_zone(page: Page) -> Locator:
    return page.get_by_role("button", name=re.compile("^Drag the file here"))


def review_ready(page: Page) -> None:
    expect(page.get_by_role("heading", name="Upload and review", level=2)).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("^Rows of"))).to_be_visible()


def batch_id_of(page: Page) -> str:
    expect(page).to_have_url(re.compile(r"/imports/[0-9a-f-]{36}"))
    found = re.search(r"/imports/([0-9a-f-]{36})", page.url)
    assert found
    return found.group(1)


def row(page: Page, number: int) -> Locator:
    """A row of the review table, by its row number (the row's header cell)."""
    table = page.get_by_role("table", name=re.compile("^Rows of"))
    return table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=str(number), exact=True)
    )


def work_until(server: ThreadedServer, batch_id: str, *statuses: str) -> None:
    """Runs the `manual` server's worker until the batch is in one of `statuses`."""
    worker = server.app.state.services.worker
    watcher = importer(server)
    for _ in range(20):
        if watcher.batch(batch_id)["status"] in statuses:
            return
        worker.run_once()
    raise AssertionError(f"batch {batch_id} never reached {statuses}")


def choose_access(page: Page, mode: str) -> None:
    page.get_by_role("radio", name=mode).check()


def create_users(page: Page) -> None:
    page.get_by_role("button", name="Create users").click()


def completed(page: Page) -> None:
    expect(page.get_by_role("heading", name="Import complete")).to_be_visible()


# ---------------------------------------------------------------- the whole wizard


def test_the_whole_wizard_to_completed_with_live_progress(
    manual_console: Visit, manual: ThreadedServer
) -> None:
    group = admin(manual).create_group("Whole Sales", ["sales.read"])
    page = open_wizard(manual_console)

    # Step 1: what will happen.
    expect(current_step(page)).to_have_text(re.compile("Import"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("Every row is checked before anyone is registered")
    expect(main).to_contain_text("invitation at their access email")
    expect(main).to_contain_text("Pending until they accept")
    assert_accessible(page, "step 1, the import screen")
    page.get_by_role("button", name="Next", exact=True).click()

    # Step 2: the template.
    expect(current_step(page)).to_have_text(re.compile("Download CSV Template"))
    template_link = page.get_by_role("link", name="Download CSV Template")
    expect(template_link).to_have_attribute("href", "/imports/template.csv")
    expect(template_link).to_have_attribute("download", "roster-import-template.csv")
    expect(main).to_contain_text("keep the file in .csv")
    expect(main).to_contain_text("keep the column names")
    assert_accessible(page, "step 2, the template")
    page.get_by_role("button", name="Next", exact=True).click()

    # Step 3: a file of 12 rows is checked in the background (more than 10 on this server).
    expect(current_step(page)).to_have_text(re.compile("Upload and review"))
    expect(drop_zone(page)).to_be_visible()
    assert_accessible(page, "step 3, the drop zone")
    rows = [f"Person,No{n},person.{n}@whole.acme.com," for n in range(1, 13)]
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Choose a file", exact=True).click()
    chooser.value.set_files(file_payload(csv_file(*rows), "whole.csv"))

    batch_id = batch_id_of(page)
    checking = page.get_by_role("progressbar", name="Rows checked")
    expect(checking).to_be_visible()
    expect(checking).to_have_attribute("max", "12")
    expect(main).to_contain_text("0 of 12 rows checked")
    assert_accessible(page, "step 3, checking a large file")
    work_until(manual, batch_id, "IN_REVIEW")
    review_ready(page)
    expect(page.get_by_role("button", name="All (12)")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="Errors (0)")).to_be_visible()
    assert_accessible(page, "step 3, the review")

    # Meanwhile someone registers person 12: that row fails at commit time.
    admin(manual).register("Person", "Twelve", "person.12@whole.acme.com")

    # Step 4: access.
    page.get_by_role("button", name="Next", exact=True).click()
    expect(current_step(page)).to_have_text(re.compile("Access"))
    choose_access(page, "Assign Groups")
    page.get_by_role("checkbox", name="Whole Sales").check()
    assert_accessible(page, "step 4, Assign Groups")
    create_users(page)

    # Live progress: the commit waits for the worker, and the page follows it.
    creating = page.get_by_role("progressbar", name="Users created")
    expect(creating).to_be_visible()
    expect(current_step(page)).to_have_text(re.compile("Create users"))
    expect(main).to_contain_text("0 of 12 rows processed: 0 created, 0 failed")
    assert_accessible(page, "creating users")
    work_until(manual, batch_id, "COMPLETED")
    completed(page)
    expect(page.get_by_role("definition").nth(0)).to_have_text("11")  # created
    expect(page.get_by_role("definition").nth(1)).to_have_text("1")  # failed
    failures = page.get_by_role("region", name="Rows that could not be registered")
    expect(failures).to_contain_text("person.12@whole.acme.com")
    expect(failures).to_contain_text("already registered")
    expect(page.get_by_role("link", name="Download error report")).to_be_visible()
    expect(page.get_by_role("link", name="Go to User Management")).to_have_attribute(
        "href", "/users"
    )
    assert_accessible(page, "the summary")

    for n in range(1, 12):
        created = user(manual, f"person.{n}@whole.acme.com")
        assert created is not None
        assert (created["status"], created["importBatchId"]) == ("PENDING", batch_id)
        assert [g["id"] for g in created["access"]["groups"]] == [group["id"]]
    batch = importer(manual).batch(batch_id)
    assert (batch["status"], batch["progress"]["created"], batch["progress"]["failed"]) == (
        "COMPLETED",
        11,
        1,
    )


# ---------------------------------------------------------------- step 2: the template


def test_the_template_downloads_the_servers_bytes(console: Visit, server: ThreadedServer) -> None:
    page = open_wizard(console)
    page.get_by_role("button", name="Next", exact=True).click()

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download CSV Template").click()

    download = downloading.value
    served = httpx.get(server.base_url + "/imports/template.csv")
    template = server.api.data("{ importTemplate { filename content } }", as_=token(ADMIN))[
        "importTemplate"
    ]
    assert download.suggested_filename == template["filename"] == "roster-import-template.csv"
    saved = Path(download.path()).read_bytes()
    assert saved == served.content
    assert saved.startswith(codecs.BOM_UTF8)
    assert saved.decode("utf-8") == template["content"]


# ---------------------------------------------------------------- step 3: files

LATIN = ["José,Müller,jose@{d},", "Françoise,Brontë,francoise@{d},fbronte"]


@pytest.mark.parametrize(
    ("how", "content"),
    [
        pytest.param("chosen", csv_file(*LATIN, encoding="utf-8-sig"), id="utf-8-bom"),
        pytest.param(
            "dropped",
            codecs.BOM_UTF16_LE + csv_file(*LATIN, encoding="utf-16-le"),
            id="utf-16-le-dropped",
        ),
        pytest.param(
            "dropped",
            csv_file(*(r.replace(",", ";") for r in LATIN), header=HEADER_SC, encoding="cp1252"),
            id="cp1252-semicolons-dropped",
        ),
        pytest.param(
            "space",
            csv_file(*(r.replace(",", "\t") for r in LATIN), header=HEADER_TAB, encoding="utf-8"),
            id="utf-8-tabs-chosen-with-space",
        ),
    ],
)
def test_the_encodings_and_delimiters_spreadsheets_save_are_read(
    console: Visit, server: ThreadedServer, how: str, content: bytes, request: pytest.FixtureRequest
) -> None:
    domain = f"{request.node.callspec.id}.enc.acme.com"
    content = content.replace(b"{d}", domain.encode()).replace(
        "{d}".encode("utf-16-le"), domain.encode("utf-16-le")
    )
    page = open_wizard(console)
    if how == "dropped":
        page.goto("/imports/new?step=upload")
        drop(page, content, "people.csv")
    elif how == "space":
        page.goto("/imports/new?step=upload")
        with page.expect_file_chooser() as chooser:
            drop_zone(page).press("Space")
        chooser.value.set_files(file_payload(content))
    else:
        upload(page, content)

    review_ready(page)
    expect(row(page, 1)).to_contain_text("José")
    expect(row(page, 1)).to_contain_text("Müller")
    expect(row(page, 2)).to_contain_text("Françoise")
    expect(row(page, 2)).to_contain_text("Brontë")
    expect(row(page, 2)).to_contain_text("fbronte")
    expect(page.get_by_role("button", name="Errors (0)")).to_be_visible()
    rows = importer(server).row_nodes(batch_id_of(page))
    assert [(r["firstName"], r["lastName"], r["status"]) for r in rows] == [
        ("José", "Müller", "VALID"),
        ("Françoise", "Brontë", "VALID"),
    ]


def test_a_file_with_every_row_error_shows_an_x_icon_on_each_faulty_cell(
    console: Visit, server: ThreadedServer
) -> None:
    admin(server).register("Tom", "Kay", "tom@errors.acme.com", username="tom.kay.errors")
    long_name = "x" * 101
    content = csv_file(
        ",Lee,required@errors.acme.com,",  # 1 REQUIRED (first name)
        "Ann,Lee,not-an-email,",  # 2 INVALID_EMAIL
        "Ann,Lee,user@errors.acme.com,ann lee!",  # 3 INVALID_USERNAME
        f"{long_name},Lee,long@errors.acme.com,",  # 4 TOO_LONG
        "=SUM(A1),Lee,unsafe@errors.acme.com,",  # 5 UNSAFE_VALUE
        "Dup,One,dup@errors.acme.com,",  # 6 DUPLICATE_IN_FILE
        "Dup,Two,DUP@errors.acme.com,",  # 7 DUPLICATE_IN_FILE
        "Tom,Kay,tom@errors.acme.com,",  # 8 registered already: EXISTING, no error
        "Tim,Kay,tim@errors.acme.com,Tom.Kay.Errors",  # 9 USERNAME_TAKEN
        "Val,Id,valid@errors.acme.com,",  # 10 valid
    )
    page = open_wizard(console)
    upload(page, content, "errors.csv")
    review_ready(page)
    batch_id = batch_id_of(page)

    rows = importer(server).row_nodes(batch_id)
    codes = {e["code"] for r in rows for e in r["errors"]}
    assert codes == {
        "REQUIRED",
        "INVALID_EMAIL",
        "INVALID_USERNAME",
        "TOO_LONG",
        "UNSAFE_VALUE",
        "DUPLICATE_IN_FILE",
        "USERNAME_TAKEN",
    }
    labels = {"first_name": "first name", "last_name": "last name", "email": "email"}
    labels["username"] = "username"
    for shown in rows:
        line = row(page, shown["rowNumber"])
        expect(line.get_by_role("img")).to_have_count(len(shown["errors"]))
        for error in shown["errors"]:
            where = labels[error["column"]] if error["column"] else "row"
            icon = line.get_by_role("img", name=f"Error in {where}: {error['message']}", exact=True)
            expect(icon).to_be_visible()
            expect(icon).to_have_attribute("title", error["message"])
            # The icon is in the faulty column's cell.
            column = ["first_name", "last_name", "email", "username"].index(error["column"])
            expect(line.get_by_role("cell").nth(column + 1).get_by_role("img")).to_have_count(1)
    expect(page.get_by_role("button", name="All (10)")).to_be_visible()
    expect(page.get_by_role("button", name="Errors (8)")).to_be_visible()
    assert_accessible(page, "the review with every row error")

    page.get_by_role("button", name="Errors (8)").click()
    expect(row(page, 10)).to_have_count(0)
    expect(row(page, 9)).to_be_visible()

    # The error report, downloaded with the bearer token: the server's bytes.
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download error report").click()
    download = downloading.value
    served = httpx.get(
        f"{server.base_url}/imports/{batch_id}/errors.csv",
        headers={"authorization": f"Bearer {token(ADMIN)}"},
    )
    assert served.status_code == 200
    assert download.suggested_filename == f"errors-{batch_id}.csv"
    assert Path(download.path()).read_bytes() == served.content


@pytest.mark.parametrize(
    ("content", "reason", "missing", "unexpected"),
    [
        pytest.param(
            csv_file("Ann,ann@refused.acme.com", header="First Name,Email"),
            "Columns of the template are missing from this file.",
            ["last_name"],
            [],
            id="missing",
        ),
        pytest.param(
            csv_file("Ann,ann@refused.acme.com,x", header="first_name,email,department"),
            "Columns of the template are missing from this file.",
            ["last_name"],
            ["department"],
            id="missing-and-unexpected",
        ),
    ],
)
def test_a_refused_file_shows_its_reason_and_the_columns_next_to_the_template(
    console: Visit,
    server: ThreadedServer,
    content: bytes,
    reason: str,
    missing: list[str],
    unexpected: list[str],
) -> None:
    page = open_wizard(console)
    upload(page, content, "refused.csv")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(reason)
    answer = importer(server).start(content)
    assert answer["__typename"] == "InvalidFile"
    assert (answer["missingColumns"], answer["unexpectedColumns"]) == (missing, unexpected)
    expect(alert).to_contain_text(answer["message"])
    if missing:
        listed = alert.get_by_role("list", name=re.compile("^Missing columns"))
        expect(listed.get_by_role("listitem")).to_have_text(missing)
    if unexpected:
        listed = alert.get_by_role("list", name=re.compile("^Unexpected columns"))
        expect(listed.get_by_role("listitem")).to_have_text(unexpected)
    expect(alert.get_by_role("link", name="Download CSV Template")).to_have_attribute(
        "href", "/imports/template.csv"
    )
    expect(page).to_have_url(re.compile(r"/imports/new\?step=upload$"))
    assert_accessible(page, "a refused file")


def test_files_the_server_refuses_over_http_are_explained(
    manual_console: Visit, manual: ThreadedServer
) -> None:
    batches = "{ importBatches(first: 100) { edges { node { id } } } }"
    before = manual.api.data(batches, as_=token(ADMIN))
    page = open_wizard(manual_console)
    # Over the largest size (64 KiB here): InvalidFile TOO_LARGE.
    upload(page, csv_file(*[f"Ann,Lee,a{n}@big.acme.com," for n in range(3000)]))
    expect(page.get_by_role("alert")).to_contain_text(
        "This file is larger than the server accepts."
    )
    # Far over it: refused with HTTP 413 before it is read.
    upload(page, b"first_name,last_name,email\r\n" + b"A,B,c@d.com\r\n" * 120_000)
    expect(page.get_by_role("alert")).to_have_text(
        "The file is larger than the server accepts: split it into smaller files and import each."
    )
    expect(page).to_have_url(re.compile(r"/imports/new\?step=upload$"))
    assert manual.api.data(batches, as_=token(ADMIN)) == before


# ---------------------------------------------------------------- step 3: the review


def test_a_row_is_edited_in_place_enter_saves_and_esc_cancels(
    console: Visit, server: ThreadedServer
) -> None:
    content = csv_file(
        "Ann,Lee,ann@edit.acme.com,",
        "Ann,Lee,ANN@edit.acme.com,",
        "Bob,Ray,bob.edit.acme.com,",
    )
    page = open_wizard(console)
    upload(page, content, "edit.csv")
    review_ready(page)
    batch_id = batch_id_of(page)
    expect(page.get_by_role("button", name="Errors (3)")).to_be_visible()

    # Esc cancels: nothing changes, here or on the server.
    page.get_by_role("button", name="Edit row 3").click()
    email = page.get_by_role("textbox", name="Email, row 3")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("^Correct the access email"))
    assert_accessible(page, "a row being edited")
    email.fill("bob@edit.acme.com")
    email.press("Escape")
    expect(email).to_have_count(0)
    expect(page.get_by_role("button", name="Edit row 3")).to_be_focused()
    expect(row(page, 3)).to_contain_text("bob.edit.acme.com")
    assert importer(server).row_nodes(batch_id)[2]["email"] == "bob.edit.acme.com"

    # Enter saves.
    page.get_by_role("button", name="Edit row 3").click()
    expect(page.get_by_role("textbox", name="First name, row 3")).to_be_focused()
    email.fill("bob@edit.acme.com")
    email.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Row 3 saved")).to_have_text(
        "Row 3 saved: it is valid now."
    )
    expect(row(page, 3)).to_contain_text("bob@edit.acme.com")
    expect(row(page, 3).get_by_role("img")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit row 3")).to_be_focused()

    # A duplicate pair resolved by editing one row (opened by double-click): the other
    # row's flag goes too.
    expect(
        row(page, 1).get_by_role("img", name=re.compile("^Error in email: Row 2"))
    ).to_be_visible()
    row(page, 2).get_by_role("cell").nth(3).dblclick()  # the email cell
    second = page.get_by_role("textbox", name="Email, row 2")
    expect(second).to_be_focused()
    second.fill("ann.lee@edit.acme.com")
    page.get_by_role("textbox", name="First name, row 2").press("Enter")
    expect(row(page, 2)).to_contain_text("ann.lee@edit.acme.com")
    expect(row(page, 1).get_by_role("img")).to_have_count(0)
    expect(row(page, 2).get_by_role("img")).to_have_count(0)
    expect(page.get_by_role("button", name="Errors (0)")).to_be_visible()

    rows = importer(server).row_nodes(batch_id)
    assert [(r["email"], r["status"], r["errors"]) for r in rows] == [
        ("ann@edit.acme.com", "VALID", []),
        ("ann.lee@edit.acme.com", "VALID", []),
        ("bob@edit.acme.com", "VALID", []),
    ]


def test_selected_rows_are_excluded_and_included_with_the_filter_counts(
    console: Visit, server: ThreadedServer
) -> None:
    content = csv_file(
        "Ann,Lee,ann@exclude.acme.com,",
        ",Ray,bob@exclude.acme.com,",
        "Cy,Ng,cy@exclude.acme.com,",
        "Di,Wu,not-an-email,",
    )
    page = open_wizard(console)
    upload(page, content, "exclude.csv")
    review_ready(page)
    batch_id = batch_id_of(page)
    expect(page.get_by_role("button", name="All (4)")).to_be_visible()
    expect(page.get_by_role("button", name="Errors (2)")).to_be_visible()
    expect(page.get_by_role("button", name="Excluded (0)")).to_be_visible()

    page.get_by_role("checkbox", name="Select row 2").check()
    page.get_by_role("checkbox", name="Select row 3").check()
    expect(page.get_by_text("2 rows selected")).to_be_visible()
    page.get_by_role("button", name="Exclude selected").click()
    expect(page.get_by_role("status").filter(has_text="excluded")).to_have_text("2 rows excluded.")
    expect(page.get_by_role("button", name="Errors (1)")).to_be_visible()
    expect(page.get_by_role("button", name="Excluded (2)")).to_be_visible()
    expect(row(page, 2)).to_contain_text("Excluded")
    statuses = [r["status"] for r in importer(server).row_nodes(batch_id)]
    assert statuses == ["VALID", "EXCLUDED", "EXCLUDED", "INVALID"]

    page.get_by_role("button", name="Excluded (2)").click()
    expect(page.get_by_role("button", name="Excluded (2)")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(
        page.get_by_role("table", name=re.compile("^Rows of")).get_by_role("rowheader")
    ).to_have_text(["2", "3"])
    assert_accessible(page, "the excluded rows")
    page.get_by_role("checkbox", name="Select all rows on this page").check()
    expect(page.get_by_role("checkbox", name="Select row 2")).to_be_checked()
    page.get_by_role("button", name="Include selected").click()
    expect(page.get_by_role("status").filter(has_text="included")).to_have_text(
        "2 rows included again."
    )
    expect(page.get_by_role("button", name="Excluded (0)")).to_be_visible()
    expect(page.get_by_role("button", name="Errors (2)")).to_be_visible()
    expect(page.get_by_text("No row is excluded.")).to_be_visible()
    statuses = [r["status"] for r in importer(server).row_nodes(batch_id)]
    assert statuses == ["VALID", "INVALID", "VALID", "INVALID"]


def test_the_review_pages_through_every_row(console: Visit, server: ThreadedServer) -> None:
    page = open_wizard(console)
    upload(page, people(230, domain="pages.acme.com"), "pages.csv")
    review_ready(page)
    table = page.get_by_role("table", name=re.compile("^Rows of"))
    expect(page.get_by_text("Rows 1–100 of 230")).to_be_visible()
    expect(table.get_by_role("rowheader").first).to_have_text("1")
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Rows 101–200 of 230")).to_be_visible()
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Rows 201–230 of 230")).to_be_visible()
    expect(table.get_by_role("rowheader").last).to_have_text("230")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(table.get_by_role("rowheader").first).to_have_text("101")


# ---------------------------------------------------------------- step 4: access


def test_the_error_report_is_corrected_in_a_spreadsheet_and_uploaded_into_the_batch(
    console: Visit, server: ThreadedServer
) -> None:
    content = csv_file(
        "Ann,Lee,ann@revise.acme.com,",
        "Bob,Ray,bob.revise.acme.com,",
        "Cy,Ng,ANN@revise.acme.com,",
    )
    page = open_wizard(console)
    upload(page, content, "revise.csv")
    review_ready(page)
    batch_id = batch_id_of(page)
    expect(page.get_by_role("button", name="Errors (3)")).to_be_visible()
    spreadsheet = page.get_by_role("region", name="Correct in a spreadsheet")
    with page.expect_download() as downloading:
        spreadsheet.get_by_role("link", name="Download error report").click()
    lines = Path(downloading.value.path()).read_text("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines] == ["row", "1", "2", "3"]

    def revise(text: str) -> None:
        with page.expect_file_chooser() as chooser:
            spreadsheet.get_by_role("button", name="Upload corrected file").click()
        chooser.value.set_files(file_payload(text.encode(), "corrected.csv"))

    # A row number the batch lacks: refused naming the line, nothing changes.
    revise(lines[0] + "\r\n9,Dee,Ho,dee@revise.acme.com,,\r\n")
    expect(spreadsheet.get_by_role("alert")).to_contain_text("Line 2: there is no row 9")
    expect(page.get_by_role("button", name="All (3)")).to_be_visible()

    # The report with rows 2 and 3 corrected and a new line: taken in as it is.
    corrected = [
        lines[0],
        lines[1],
        lines[2].replace("bob.revise", "bob@revise"),
        lines[3].replace("ANN@", "cy@"),
        ",Dee,Ho,dee@revise.acme.com,,",
    ]
    revise("\r\n".join(corrected) + "\r\n")
    expect(spreadsheet.get_by_role("status")).to_have_text(
        "corrected.csv is taken in, with 1 new row: 0 rows still with errors."
    )
    expect(page.get_by_role("button", name="All (4)")).to_be_visible()
    expect(page.get_by_role("button", name="Errors (0)")).to_be_visible()
    expect(row(page, 3)).to_contain_text("cy@revise.acme.com")
    expect(row(page, 4)).to_contain_text("dee@revise.acme.com")
    expect(row(page, 1).get_by_role("img")).to_have_count(0)
    assert_accessible(page, "the review after a corrected file")
    rows = importer(server).row_nodes(batch_id)
    assert [(r["email"], r["status"]) for r in rows] == [
        ("ann@revise.acme.com", "VALID"),
        ("bob@revise.acme.com", "VALID"),
        ("cy@revise.acme.com", "VALID"),
        ("dee@revise.acme.com", "VALID"),
    ]


def start_review(console: Visit, content: bytes, name: str = "people.csv", **sign_in: Any) -> Page:
    page = open_wizard(console, **sign_in)
    upload(page, content, name)
    review_ready(page)
    return page


def to_access(page: Page) -> None:
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_role("heading", name="Access", level=2)).to_be_visible()


def test_assign_groups_gives_every_new_user_the_groups_chosen(
    console: Visit, server: ThreadedServer
) -> None:
    sales = admin(server).create_group("Assign Sales", ["sales.read"])
    support = admin(server).create_group("Assign Support", ["tickets.read"])
    admin(server).create_group("Assign Other")
    page = start_review(console, people(2, domain="assign.acme.com"))
    batch_id = batch_id_of(page)
    to_access(page)

    choose_access(page, "Assign Groups")
    page.get_by_role("checkbox", name="Assign Sales").check()
    page.get_by_role("checkbox", name="Assign Support").check()
    expect(page.get_by_role("checkbox", name="Assign Sales")).to_have_accessible_description(
        "sales.read"
    )
    page.get_by_role("button", name="Save access").click()
    expect(page.get_by_role("status").filter(has_text="Access saved")).to_be_visible()
    access = importer(server).batch(batch_id)["access"]
    assert access["mode"] == "ASSIGN_GROUPS"
    assert sorted(access["groupIds"]) == sorted([sales["id"], support["id"]])

    create_users(page)
    completed(page)
    for n in (1, 2):
        created = user(server, f"person.{n}@assign.acme.com")
        assert created is not None
        assert created["status"] == "PENDING"
        assert sorted(g["name"] for g in created["access"]["groups"]) == [
            "Assign Sales",
            "Assign Support",
        ]
        assert created["access"]["effectivePermissions"] == ["sales.read", "tickets.read"]


def test_mirror_user_gives_every_new_user_the_access_of_the_user_found(
    console: Visit, server: ThreadedServer
) -> None:
    ops = admin(server).create_group("Mirror Ops", ["ops.read"])
    model = admin(server).register("Mira", "Model", "mira@mirror.acme.com")
    admin(server).set_access(model["id"], [ops["id"]], ["reports.read"])
    admin(server).register("Miro", "Other", "miro@mirror.acme.com")
    page = start_review(console, people(2, domain="mirrored.acme.com"))
    batch_id = batch_id_of(page)
    to_access(page)

    choose_access(page, "Mirror User")
    create_users(page)
    expect(page.get_by_role("alert")).to_have_text(
        "Find the user whose access to mirror, and pick them in the list."
    )
    page.get_by_label("Find a user by name or email").fill("mir")
    found = page.get_by_role("group", name="Users found")
    expect(found.get_by_role("radio")).to_have_count(2)
    page.get_by_label("Find a user by name or email").fill("mira@mirror")
    expect(found.get_by_role("radio")).to_have_count(1)
    found.get_by_role("radio", name="Mira Model (mira@mirror.acme.com)").check()
    expect(page.get_by_text("Mirroring Mira Model")).to_contain_text(
        "groups Mirror Ops; permissions ops.read, reports.read"
    )
    assert_accessible(page, "step 4, Mirror User")
    create_users(page)
    completed(page)

    assert importer(server).batch(batch_id)["access"] == {
        "mode": "MIRROR_USER",
        "groupIds": [],
        "mirrorUserId": model["id"],
    }
    for n in (1, 2):
        created = user(server, f"person.{n}@mirrored.acme.com")
        assert created is not None
        assert created["status"] == "PENDING"
        assert [g["id"] for g in created["access"]["groups"]] == [ops["id"]]
        assert created["access"]["permissions"] == ["reports.read"]


def test_customize_individually_gives_each_row_its_own_access(
    console: Visit, server: ThreadedServer
) -> None:
    first = admin(server).create_group("Custom First", ["first.read"])
    admin(server).create_group("Custom Second")
    content = csv_file(
        "Ann,Lee,ann@custom.acme.com,",
        "Bob,Ray,bob@custom.acme.com,",
        "Cy,Ng,cy@custom.acme.com,",
        "Di,Wu,not-an-email,",
    )
    page = start_review(console, content)
    batch_id = batch_id_of(page)
    to_access(page)

    choose_access(page, "Customize individually")
    # The valid rows only.
    customize = page.get_by_role("table", name="Access of each new user")
    expect(customize.get_by_role("rowheader")).to_have_text(["1", "2", "3"])
    page.get_by_role("checkbox", name="Custom First for row 1").check()
    page.get_by_role("textbox", name="Permissions for row 2").fill("billing.read, billing.write")
    assert_accessible(page, "step 4, Customize individually")
    create_users(page)
    dialog = page.get_by_role("dialog", name="Exclude the rows with errors?")
    dialog.get_by_role("button", name="Exclude them and create users").click()
    completed(page)

    rows = {r["rowNumber"]: r for r in importer(server).row_nodes(batch_id)}
    assert rows[1]["access"] == {"groupIds": [first["id"]], "permissions": []}
    ann, bob, cy = (user(server, f"{n}@custom.acme.com") for n in ("ann", "bob", "cy"))
    assert ann
    assert bob
    assert cy
    assert ([g["id"] for g in ann["access"]["groups"]], ann["access"]["permissions"]) == (
        [first["id"]],
        [],
    )
    assert (bob["access"]["groups"], bob["access"]["permissions"]) == (
        [],
        ["billing.read", "billing.write"],
    )
    assert (cy["access"]["groups"], cy["access"]["permissions"]) == ([], [])


def test_create_users_with_rows_in_error_asks_to_exclude_them_naming_how_many(
    console: Visit, server: ThreadedServer
) -> None:
    content = csv_file(
        "Ann,Lee,ann@confirm.acme.com,",
        ",Ray,bob@confirm.acme.com,",
        "Cy,Ng,cy@confirm.acme.com,",
        "Di,Wu,not-an-email,",
    )
    page = start_review(console, content)
    batch_id = batch_id_of(page)
    to_access(page)

    # No access chosen yet: said so, nothing sent.
    create_users(page)
    expect(page.get_by_role("alert")).to_contain_text("Choose how the new users get access")
    choose_access(page, "Assign Groups")
    create_users(page)
    dialog = page.get_by_role("dialog", name="Exclude the rows with errors?")
    expect(dialog).to_contain_text("2 rows have errors and will be excluded.")
    assert_accessible(page, "the confirmation to exclude rows in error")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    batch = importer(server).batch(batch_id)
    assert (batch["status"], batch["access"]["mode"]) == ("IN_REVIEW", "ASSIGN_GROUPS")

    create_users(page)
    dialog.get_by_role("button", name="Exclude them and create users").click()
    completed(page)
    expect(page.get_by_role("definition").nth(2)).to_have_text("2")  # excluded
    batch = importer(server).batch(batch_id)
    progress = batch["progress"]
    assert (batch["status"], progress["created"], progress["excluded"]) == ("COMPLETED", 2, 2)
    assert user(server, "ann@confirm.acme.com") is not None
    assert user(server, "bob@confirm.acme.com") is None


def test_an_import_in_review_is_cancelled_after_confirmation(
    console: Visit, server: ThreadedServer
) -> None:
    page = start_review(console, people(2, domain="cancel.acme.com"))
    batch_id = batch_id_of(page)
    page.get_by_role("button", name="Cancel import").click()
    dialog = page.get_by_role("dialog", name="Cancel this import?")
    expect(dialog).to_contain_text("Nobody from people.csv will be registered")
    assert_accessible(page, "the confirmation to cancel")
    dialog.get_by_role("button", name="Keep the import").click()
    expect(dialog).to_have_count(0)
    assert importer(server).batch(batch_id)["status"] == "IN_REVIEW"

    page.get_by_role("button", name="Cancel import").click()
    dialog.get_by_role("button", name="Cancel import").click()
    expect(page.get_by_role("heading", name="Import cancelled")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("nobody from its file was registered")
    assert_accessible(page, "a cancelled import")
    assert importer(server).batch(batch_id)["status"] == "CANCELLED"
    assert user(server, "person.1@cancel.acme.com") is None


# ---------------------------------------------------------------- resuming, profiles, keyboard


def test_a_batch_resumes_at_its_state_from_its_address(
    console: Visit, server: ThreadedServer
) -> None:
    api = importer(server)
    model = admin(server).register("Res", "Model", "model@resume.acme.com")
    in_review = api.started(people(2, domain="review.resume.acme.com"), "review.csv")["id"]
    assert (
        api.set_access(in_review, mode="MIRROR_USER", mirrorUserId=model["id"])["__typename"]
        == "ImportBatch"
    )
    done = api.started(people(2, domain="done.resume.acme.com"), "done.csv")["id"]
    api.committed(done)
    cancelled = api.started(people(2, domain="cancelled.resume.acme.com"), "gone.csv")["id"]
    api.cancel(cancelled)
    page = console.sign_in(ADMIN)

    page.goto(f"/imports/{in_review}")
    review_ready(page)
    expect(page.get_by_text("File review.csv, uploaded by ana@example.com")).to_be_visible()
    expect(current_step(page)).to_have_text(re.compile("Upload and review"))
    page.goto(f"/imports/{in_review}?step=access")
    expect(current_step(page)).to_have_text(re.compile("Access"))
    expect(page.get_by_role("radio", name="Mirror User")).to_be_checked()
    expect(page.get_by_text("Mirroring Res Model (model@resume.acme.com)")).to_be_visible()

    page.goto(f"/imports/{done}")
    completed(page)
    expect(page.get_by_role("definition").nth(0)).to_have_text("2")

    page.goto(f"/imports/{cancelled}")
    expect(page.get_by_role("heading", name="Import cancelled")).to_be_visible()
    expect(current_step(page)).to_have_count(0)

    page.goto("/imports/00000000-0000-4000-8000-000000000000")
    expect(page.get_by_role("alert")).to_have_text(
        "No import has this address: it may have been mistyped."
    )


def test_a_batch_checked_or_committed_in_the_background_resumes_live(
    manual_console: Visit, manual: ThreadedServer
) -> None:
    api = importer(manual)
    batch_id = api.start(people(12, domain="live.resume.acme.com"), "live.csv")["id"]
    page = manual_console.sign_in(ADMIN, path=f"/imports/{batch_id}")
    expect(page.get_by_role("progressbar", name="Rows checked")).to_be_visible()
    expect(page.get_by_role("status", name="Import phase")).to_have_text("Checking the file")
    page.close()

    work_until(manual, batch_id, "IN_REVIEW")
    api.set_access(batch_id, mode="ASSIGN_GROUPS", groupIds=[])
    assert api.commit(batch_id)["__typename"] == "ImportBatch"
    # A new page on the batch's address, while it is committing: the progress, live.
    page = manual_console.sign_in(ADMIN, path=f"/imports/{batch_id}")
    expect(page.get_by_role("progressbar", name="Users created")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("0 of 12 rows processed")
    expect(page.get_by_role("status", name="Import phase")).to_have_text("Registering users")
    work_until(manual, batch_id, "COMPLETED")
    completed(page)
    expect(page.get_by_role("definition").nth(0)).to_have_text("12")


def test_a_viewer_imports_users(console: Visit, server: ThreadedServer) -> None:
    page = start_review(
        console, people(2, domain="viewer.acme.com"), as_=VIEWER, subject="vic@example.com"
    )
    batch_id = batch_id_of(page)
    to_access(page)
    choose_access(page, "Assign Groups")
    create_users(page)
    completed(page)

    batch = importer(server).batch(batch_id)
    assert (batch["createdBy"], batch["status"]) == ("vic@example.com", "COMPLETED")
    created = user(server, "person.1@viewer.acme.com")
    assert created is not None
    assert created["status"] == "PENDING"


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Presses Tab until `target` has the focus: it can be reached by keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def test_the_whole_wizard_by_keyboard(console: Visit, server: ThreadedServer) -> None:
    group = admin(server).create_group("Keyboard Group")
    page = open_wizard(console)
    next_button = page.get_by_role("button", name="Next", exact=True)

    tab_to(page, next_button)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Download CSV Template")).to_be_focused()
    tab_to(page, page.get_by_role("link", name="Download CSV Template"))
    tab_to(page, next_button)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Upload and review")).to_be_focused()

    zone = drop_zone(page)
    tab_to(page, zone)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    content = csv_file("Ann,Lee,ann@keys.acme.com,", "Bob,Ray,bob.keys.acme.com,")
    chooser.value.set_files(file_payload(content, "keys.csv"))
    review_ready(page)
    batch_id = batch_id_of(page)

    # Correct row 2 by keyboard.
    tab_to(page, page.get_by_role("button", name="Edit row 2"))
    page.keyboard.press("Enter")
    email = page.get_by_role("textbox", name="Email, row 2")
    tab_to(page, email)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("bob@keys.acme.com")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Edit row 2")).to_be_focused()
    expect(page.get_by_role("button", name="Errors (0)")).to_be_visible()

    tab_to(page, next_button)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Access", level=2)).to_be_focused()
    assign = page.get_by_role("radio", name="Assign Groups")
    tab_to(page, assign)
    page.keyboard.press("Space")
    expect(assign).to_be_checked()
    box = page.get_by_role("checkbox", name="Keyboard Group")
    tab_to(page, box)
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Create users"))
    page.keyboard.press("Enter")
    completed(page)
    expect(page.get_by_role("heading", name="Import complete")).to_be_focused()

    rows = importer(server).row_nodes(batch_id)
    assert [(r["email"], r["status"]) for r in rows] == [
        ("ann@keys.acme.com", "CREATED"),
        ("bob@keys.acme.com", "CREATED"),
    ]
    bob = user(server, "bob@keys.acme.com")
    assert bob is not None
    assert [g["id"] for g in bob["access"]["groups"]] == [group["id"]]


def test_the_wizards_operations_are_valid_against_the_schema() -> None:
    """Each operation of the wizard (one per file, named) against the API's contract."""
    contract = build_schema((ROOT / "schema.graphql").read_text())
    files = sorted((ROOT / "ui/src/operations/import").glob("*.graphql"))
    assert files
    for path in files:
        document = parse(path.read_text())
        assert validate(contract, document) == [], path.name
        [operation] = document.definitions
        assert isinstance(operation, OperationDefinitionNode), path.name
        assert operation.name is not None, path.name
        assert operation.name.value == path.stem, path.name
