"""The console's GraphQL operations (the `.graphql` files under ui/src) against the schema
the server serves: each file holds one named operation that validates, so a change to the
API that would break the console fails here, before any browser starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate

from schema.app import schema
from tests.support import ROOT

OPERATIONS = sorted((ROOT / "ui" / "src").rglob("*.graphql"))
SERVED = build_schema(schema.as_str())


def test_the_console_has_operations() -> None:
    assert len(OPERATIONS) >= 1


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: str(p.relative_to(ROOT / "ui" / "src")))
def test_each_operation_validates_against_the_served_schema(path: Path) -> None:
    document = parse(path.read_text(), no_location=False)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"{path.name}: one operation per file"
    assert operations[0].name is not None, f"{path.name}: the operation needs a name"
    errors = validate(SERVED, document)
    assert errors == [], "\n".join(str(e) for e in errors)


def test_the_console_operations_have_distinct_names() -> None:
    names = [
        d.name.value
        for path in OPERATIONS
        for d in parse(path.read_text()).definitions
        if isinstance(d, OperationDefinitionNode) and d.name
    ]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
