"""The cost of a query: how many fields it can make the server resolve, known before it runs.

Depth, alias and token limits bound the document, not the work: ten aliases of a page of
500 rows below a page of 500 batches pass them all and build millions of objects. The
cost counts every field once per object it is resolved on: a field with a `first`
argument (a page) multiplies what is below it by its page size (the literal, the
variable's value, or the field's default), every other field by 1; the sum over the
fields of the operation, fragments included, is its cost. It is an upper bound (a page
may hold fewer items, and the page's own `totalCount` and `pageInfo` are counted once
per item too), and it needs no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLObjectType

from schema.errors import MAX_PAGE

PAGE_ARGUMENT = "first"


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
) -> int:
    """The cost of the operation the request runs (0 when there is none to run: the
    validation or the execution says why)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    given = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in given and isinstance(definition.default_value, IntValueNode):
            given[name] = int(definition.default_value.value)
    walk = _Walk(schema, document, given)
    return walk.selections(operation.selection_set, root, 1, frozenset())


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        times: int,
        spread: frozenset[str],
    ) -> int:
        """The cost of `selection_set` on `parent`, resolved on `times` objects."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, times, spread)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, on or parent, times, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spread:
                    continue  # unknown or cyclic: validation refuses the document
                on = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self.selections(fragment.selection_set, on, times, spread | {name})
        return total

    def field(
        self, node: FieldNode, parent: GraphQLNamedType, times: int, spread: frozenset[str]
    ) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return times  # __typename on a union
        definition = parent.fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return times  # a leaf, or introspection (bounded by the schema)
        below = times * self.page_size(node, definition.args.get(PAGE_ARGUMENT))
        field_type = get_named_type(definition.type)
        return times + self.selections(node.selection_set, field_type, below, spread)

    def page_size(self, node: FieldNode, argument: GraphQLArgument | None) -> int:
        if argument is None:
            return 1
        value: Any = argument.default_value
        for given in node.arguments or ():
            if given.name.value != PAGE_ARGUMENT:
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                found = self.variables.get(given.value.name.value)
                value = value if found is None else found  # null means the default
        if not isinstance(value, int) or isinstance(value, bool):
            return MAX_PAGE  # no default to go by: count the largest page
        # Out of range is refused by the field itself, with a clearer message than this.
        return min(max(value, 0), MAX_PAGE)
