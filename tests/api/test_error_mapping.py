"""One mapping of failures for every route: each expected failure has its code, and the
same failure reads the same over GraphQL and on the plain routes (the WebSocket's are in
test_import_progress)."""

from __future__ import annotations

import importlib
import pkgutil
from uuid import UUID

import httpx
import pytest

import domain
import jobs
import projections
import schema
import store
from domain.errors import DomainError
from schema.errors import has_problem, refusal_code
from tests.api.operations import error_codes
from tests.support import ADMIN, AUDITOR, ThreadedServer, token


def every_subclass(kind: type[DomainError]) -> set[type[DomainError]]:
    found: set[type[DomainError]] = set()
    for sub in kind.__subclasses__():
        found |= {sub, *every_subclass(sub)}
    return found


def domain_errors() -> list[type[DomainError]]:
    """Every DomainError subclass the project defines, whichever module holds it."""
    for package in (domain, jobs, projections, schema, store):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    return sorted(every_subclass(DomainError), key=lambda kind: kind.__qualname__)


def test_the_project_defines_domain_errors_to_check() -> None:
    assert {kind.__name__ for kind in domain_errors()} >= {
        "NotFoundError",
        "InvalidStateError",
        "InvalidInputError",
        "ConflictError",
        "InvalidInvitationError",
        "InvalidFileError",
    }


@pytest.mark.parametrize("kind", domain_errors(), ids=lambda kind: kind.__name__)
def test_every_domain_error_refuses_with_a_code(kind: type[DomainError]) -> None:
    assert refusal_code(kind) not in (None, "INTERNAL_SERVER_ERROR")


@pytest.mark.parametrize("kind", domain_errors(), ids=lambda kind: kind.__name__)
def test_every_domain_error_is_a_problem_member(kind: type[DomainError]) -> None:
    assert has_problem(kind)


def test_an_error_outside_the_mapping_is_a_fault() -> None:
    class Surprise(Exception):
        pass

    assert refusal_code(Surprise) is None


def test_a_bad_cursor_is_bad_user_input_over_http(server: ThreadedServer) -> None:
    result = server.api.post('{ users(after: "nonsense") { totalCount } }', as_=token(AUDITOR))

    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["argument"] == "after"


def test_an_unknown_batch_is_not_found_on_the_error_report(server: ThreadedServer) -> None:
    response = httpx.get(
        f"{server.base_url}/imports/{UUID(int=9)}/errors.csv",
        headers={"authorization": f"Bearer {token(ADMIN)}"},
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_the_error_report_without_a_profile_that_reads_is_forbidden(
    server: ThreadedServer,
) -> None:
    response = httpx.get(
        f"{server.base_url}/imports/{UUID(int=9)}/errors.csv",
        headers={"authorization": f"Bearer {token()}"},
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
