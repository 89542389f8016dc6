"""The served schema against the contract kept in the repository (schema.graphql, written
by `make schema`): in code, and as clients see it by introspection over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    IntrospectionQuery,
    build_client_schema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_introspection_query,
    lexicographic_sort_schema,
    print_schema,
)

from schema.app import schema
from tests.api.operations import CONTRACT, server_for_module


@pytest.fixture(scope="module")
def contract() -> GraphQLSchema:
    return build_schema(CONTRACT.read_text())


@pytest.fixture(scope="module")
def introspected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphQLSchema]:
    with server_for_module(tmp_path_factory.mktemp("contract")) as server:
        result = server.api.data(get_introspection_query(descriptions=True))
        yield build_client_schema(cast(IntrospectionQuery, result))


@pytest.fixture(scope="module", params=["in code", "over HTTP"])
def served(request: pytest.FixtureRequest) -> GraphQLSchema:
    if request.param == "in code":
        return build_schema(schema.as_str())
    introspected: GraphQLSchema = request.getfixturevalue("introspected")
    return introspected


def test_the_served_schema_breaks_nothing_of_the_contract(
    contract: GraphQLSchema, served: GraphQLSchema
) -> None:
    assert find_breaking_changes(contract, served) == []


def test_the_served_schema_changes_nothing_dangerously(
    contract: GraphQLSchema, served: GraphQLSchema
) -> None:
    assert find_dangerous_changes(contract, served) == []


def test_the_served_schema_loosens_no_type_of_the_contract(
    contract: GraphQLSchema, served: GraphQLSchema
) -> None:
    assert find_breaking_changes(served, contract) == []


def test_every_name_of_the_contract_is_served(
    contract: GraphQLSchema, served: GraphQLSchema
) -> None:
    assert names_in(contract) - names_in(served) == set()


def test_the_served_schema_is_the_contract_word_for_word(
    contract: GraphQLSchema, served: GraphQLSchema
) -> None:
    """Descriptions and defaults included: an addition is written to schema.graphql by
    `make schema` and committed with the change that makes it."""
    assert printed(served) == printed(contract)


def test_the_root_types_are_query_mutation_and_subscription(served: GraphQLSchema) -> None:
    roots = (served.query_type, served.mutation_type, served.subscription_type)
    assert [root.name if root else None for root in roots] == ["Query", "Mutation", "Subscription"]


def names_in(graph: GraphQLSchema) -> set[str]:
    """Every type, field, argument, enum value and union member, as dotted names."""
    names: set[str] = set()
    for name, kind in graph.type_map.items():
        if name.startswith("__"):
            continue
        names.add(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                names.add(f"{name}.{field_name}")
                names.update(f"{name}.{field_name}({arg})" for arg in field.args)
        elif isinstance(kind, GraphQLInputObjectType):
            names.update(f"{name}.{field_name}" for field_name in kind.fields)
        elif isinstance(kind, GraphQLEnumType):
            names.update(f"{name}.{value}" for value in kind.values)
        elif isinstance(kind, GraphQLUnionType):
            names.update(f"{name}|{member.name}" for member in kind.types)
    return names


def printed(graph: GraphQLSchema) -> str:
    return print_schema(lexicographic_sort_schema(graph))
