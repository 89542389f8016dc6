"""The whole import over HTTP: upload, review, a correction, access, commit, the users."""

from __future__ import annotations

from tests.api.importing import Importer, csv_file, people
from tests.api.operations import Administrator
from tests.support import ThreadedServer

FIND_USER = """
query($search: String!) { users(search: $search) { totalCount edges { node {
  id email username status importBatchId access { groups { id } permissions }
} } } }"""


def test_a_small_file_is_reviewed_before_start_import_answers(server: ThreadedServer) -> None:
    batch = Importer(server.api).start(people(3), filename="staff.csv")

    assert batch["__typename"] == "ImportBatch"
    assert (batch["status"], batch["filename"], batch["createdBy"]) == (
        "IN_REVIEW",
        "staff.csv",
        "importer",
    )
    assert batch["progress"]["total"] == batch["progress"]["valid"] == 3


def test_rows_are_registered_with_the_chosen_groups(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    group = Administrator(server.api).create_group("Sales")["id"]
    batch = importer.started(people(5))

    importer.set_access(batch["id"], mode="ASSIGN_GROUPS", groupIds=[group])
    done = importer.committed(batch["id"])

    assert done["status"] == "COMPLETED"
    assert (done["progress"]["created"], done["progress"]["processed"]) == (5, 5)
    rows = importer.row_nodes(batch["id"])
    assert {row["status"] for row in rows} == {"CREATED"}
    found = server.api.data(FIND_USER, {"search": "person.3@acme.com"}, as_=importer.token)
    [user] = [edge["node"] for edge in found["users"]["edges"]]
    assert user["id"] == rows[2]["userId"]
    assert (user["status"], user["importBatchId"]) == ("PENDING", batch["id"])
    assert [g["id"] for g in user["access"]["groups"]] == [group]


def test_a_corrected_row_clears_the_duplicate_it_had(server: ThreadedServer) -> None:
    importer = Importer(server.api)
    content = csv_file("Ann,Lee,ann@acme.com,", "Bob,Ray,ANN@acme.com,", "Cy,Ng,cy@acme.com,")
    batch = importer.started(content)
    assert batch["progress"]["invalid"] == 2

    row = importer.update_row(batch["id"], 2, firstName="Bob", lastName="Ray", email="bob@acme.com")

    assert (row["__typename"], row["status"], row["email"]) == (
        "ImportRow",
        "VALID",
        "bob@acme.com",
    )
    assert importer.row_nodes(batch["id"], "INVALID") == []
    assert importer.batch(batch["id"])["progress"]["valid"] == 3
