"""What the bulk action and revert tests share: their operations, and users in the states
they need."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from tests.api.importing import PROGRESS_FIELDS, Importer, people
from tests.api.operations import Administrator
from tests.support import AUDITOR, Api, ThreadedServer, token

PROBLEM = "... on Problem { code message } ... on InvalidInput { field }"
BULK_FIELDS = "id action status actor reason createdAt completedAt total processed changed skipped"
START_BULK = f"""
mutation($action: BulkAction!, $ids: [ID!], $filter: UserFilter, $reason: String) {{
  startBulkAction(action: $action, userIds: $ids, filter: $filter, reason: $reason) {{
    __typename ... on BulkActionProgress {{ {BULK_FIELDS} }} {PROBLEM}
  }}
}}"""
BULK = f"query($id: ID!) {{ bulkActionProgress(id: $id) {{ {BULK_FIELDS} }} }}"
BULK_PROGRESS = f"subscription($id: ID!) {{ bulkActionProgress(id: $id) {{ {BULK_FIELDS} }} }}"
REVERT_FIELDS = f"""
id status progress {{ {PROGRESS_FIELDS} reverted kept }}
revert {{
  status actor reason startedAt completedAt total processed reverted skipped kept
  keptUsers(first: 50) {{ totalCount edges {{ node {{ id email status }} }} }}
}}"""
REVERT = f"""
mutation($batchId: ID!, $reason: String!) {{
  revertImport(batchId: $batchId, reason: $reason) {{
    __typename ... on ImportBatch {{ {REVERT_FIELDS} }} {PROBLEM}
  }}
}}"""
REVERTED_BATCH = f"query($id: ID!) {{ importBatch(id: $id) {{ {REVERT_FIELDS} }} }}"
HISTORY = "query($id: ID!) { userStatusHistory(userId: $id) { from to actor source reason } }"
BATCH_USERS = """
query($batch: ID, $status: [UserStatus!]) {
  users(importBatchId: $batch, status: $status, first: 500, sort: {field: EMAIL}) {
    totalCount edges { node { id email status } }
  }
}"""


def start_bulk(api: Api, action: str, *, as_: str | None = None, **given: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.data(
        START_BULK, {"action": action, **given}, as_=as_ or Administrator(api).token
    )["startBulkAction"]
    return result


def bulk_done(api: Api, action_id: str, timeout: float = 30) -> dict[str, Any]:
    """The action once COMPLETED."""
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, Any] = api.data(BULK, {"id": action_id}, as_=Administrator(api).token)[
            "bulkActionProgress"
        ]
        if found["status"] == "COMPLETED":
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def revert(api: Api, batch_id: str, reason: str = "wrong file", **more: Any) -> dict[str, Any]:
    as_ = more.get("as_") or Administrator(api).token
    result: dict[str, Any] = api.data(REVERT, {"batchId": batch_id, "reason": reason}, as_=as_)[
        "revertImport"
    ]
    return result


def reverted_batch(api: Api, batch_id: str, timeout: float = 30) -> dict[str, Any]:
    """The batch once REVERTED."""
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, Any] = api.data(
            REVERTED_BATCH, {"id": batch_id}, as_=Administrator(api).token
        )["importBatch"]
        if found["status"] == "REVERTED":
            return found
        assert time.monotonic() < deadline, found["status"]
        time.sleep(0.05)


def history(api: Api, user_id: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = api.data(HISTORY, {"id": user_id}, as_=token(AUDITOR))[
        "userStatusHistory"
    ]
    return changes


def batch_users(api: Api, batch_id: str | None, *statuses: str) -> list[dict[str, Any]]:
    """The batch's users by email (every user for None)."""
    page = api.data(
        BATCH_USERS,
        {"batch": batch_id, "status": list(statuses) or None},
        as_=Administrator(api).token,
    )["users"]
    assert page["totalCount"] == len(page["edges"])
    return [edge["node"] for edge in page["edges"]]


def imported(api: Api, count: int, domain: str) -> tuple[str, list[dict[str, Any]]]:
    """A COMPLETED batch of `count` people @domain, and its users by email."""
    importer = Importer(api)
    batch_id: str = importer.started(people(count, domain=domain))["id"]
    assert importer.committed(batch_id)["status"] == "COMPLETED"
    return batch_id, batch_users(api, batch_id)


def expire(server: ThreadedServer, *user_ids: str) -> None:
    """The users' invitations run out (as the sweeper would find them a week later)."""
    services = server.app.state.services
    later = datetime.now(UTC) + timedelta(days=8)
    for user_id in user_ids:
        saved = services.roster.expire_invitation(UUID(user_id), now=later)
    services.read_model.wait_for(saved.position)
