"""The static cost of an operation, in the spirit of Shopify's and GitHub's
GraphQL APIs: what the server may have to resolve, known before it runs.

    scalar, enum, __typename       0
    object (or interface, union)   1 + its selection
    connection (first/last)        2 + page x (each node's selection + 1);
                                   edges and pageInfo are part of the 2
    list of objects                size x (1 + its selection); the size is
                                   declared with @listSize on the field
                                   (assumedSize, or the value of one of its
                                   slicingArguments), DEFAULT_LIST_SIZE if not
    interface or union             the costliest of its possible types
    root mutation field            MUTATION_COST + its selection

A connection's page is its `first` or `last` (the larger when both are
given), capped at GRAPHQL_MAX_PAGE_SIZE, which the resolver enforces anyway;
without either it is that cap. `@skip`/`@include` are ignored: the cost is
an upper bound.

A document is compiled once into a small expression in which only the
multipliers that come from variables are left open (`Sum`, `Max`, `Size`);
everything else is folded into constants. Each fragment is compiled once
and shared by every spread of it, so compiling is linear in the document
even when fragments spread each other many times, and evaluating with a
request's variables visits each shared part once.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)
from strawberry.schema_directive import Location

DEFAULT_LIST_SIZE = 10
MUTATION_COST = 10
CONNECTION_COST = 2
PAGE_ARGUMENTS = ("first", "last")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="listSize",
    description=(
        "How many items a list field is assumed to hold when a query's cost is "
        "worked out: assumedSize, or the value of one of slicingArguments when sent."
    ),
)
class ListSize:
    assumed_size: int | None = strawberry.UNSET
    slicing_arguments: list[str] | None = strawberry.UNSET


def list_size(
    assumed_size: int | None = None, *, slicing_arguments: list[str] | None = None
) -> list[ListSize]:
    """The `directives=` of a list field: its assumed (or argument-given) size."""
    return [ListSize(
        assumed_size=strawberry.UNSET if assumed_size is None else assumed_size,
        slicing_arguments=slicing_arguments or strawberry.UNSET,
    )]


# --- The compiled expression ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Size:
    """A multiplier that comes from arguments: the largest of the values sent
    (literals or variables), else `fallback`; at most `cap` when given."""

    literals: tuple[int, ...]
    variables: tuple[tuple[str, int | None], ...]  # (name, the variable's default)
    fallback: int
    cap: int | None

    def value(self, variables: Mapping[str, Any]) -> int:
        values = list(self.literals)
        for name, default in self.variables:
            sent = variables.get(name, default)
            if isinstance(sent, float) and sent.is_integer():
                sent = int(sent)  # graphql-core's Int takes 10.0 as 10
            if isinstance(sent, int) and not isinstance(sent, bool):
                values.append(sent)
        size = max(values) if values else self.fallback
        size = max(size, 0)
        return min(size, self.cap) if self.cap is not None else size


@dataclass(frozen=True, slots=True, eq=False)
class Sum:
    base: int
    terms: tuple[tuple[int | Size, Expr], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Max:
    options: tuple[Expr, ...]


Expr = int | Sum | Max


def add(base: int, terms: list[tuple[int | Size, Expr]]) -> Expr:
    """`base + sum(multiplier * expr)`, with the constant part folded.

    A child sum with one open term, taken once, is merged into this one, so
    the objects wrapped around a connection leave no level behind; merging
    no more than that keeps fragments that spread each other from being
    copied over and over.
    """
    open_terms: list[tuple[int | Size, Expr]] = []
    for multiplier, expr in terms:
        if multiplier == 0 or expr == 0:
            continue
        if isinstance(multiplier, int) and isinstance(expr, int):
            base += multiplier * expr
        elif multiplier == 1 and isinstance(expr, Sum) and len(expr.terms) == 1:
            base += expr.base
            open_terms.append(expr.terms[0])
        else:
            open_terms.append((multiplier, expr))
    return Sum(base, tuple(open_terms)) if open_terms else base


def largest(options: list[Expr]) -> Expr:
    constants = [option for option in options if isinstance(option, int)]
    others: list[Expr] = [option for option in options if not isinstance(option, int)]
    if not others:
        return max(constants, default=0)
    if constants:
        others.append(max(constants))
    return others[0] if len(others) == 1 else Max(tuple(others))


def evaluate(expr: Expr, variables: Mapping[str, Any] | None = None) -> int:
    """The cost of a compiled operation for these variables."""
    if isinstance(expr, int):
        return expr
    return _evaluate(expr, variables if isinstance(variables, Mapping) else {}, {})


def _evaluate(expr: Expr, variables: Mapping[str, Any], seen: dict[int, int]) -> int:
    if isinstance(expr, int):
        return expr
    known = seen.get(id(expr))
    if known is not None:
        return known
    if isinstance(expr, Sum):
        value = expr.base
        for size, term in expr.terms:
            count = size if isinstance(size, int) else size.value(variables)
            if count:
                value += count * _evaluate(term, variables, seen)
    else:
        value = max(_evaluate(option, variables, seen) for option in expr.options)
    seen[id(expr)] = value
    return value


# --- Compiling a document -----------------------------------------------------------------


@dataclass(frozen=True)
class SchemaShape:
    """What the compiler needs to know about the schema's connections."""

    connections: frozenset[str]
    wrappers: frozenset[str]  # edge and PageInfo types: free inside a connection

    @classmethod
    def of(cls, schema: GraphQLSchema) -> SchemaShape:
        connections, wrappers = set(), set()
        for named in schema.type_map.values():
            if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
                continue
            fields = named.fields
            if "edges" in fields and "pageInfo" in fields:
                connections.add(named.name)
                wrappers.add(get_named_type(fields["edges"].type).name)
                wrappers.add(get_named_type(fields["pageInfo"].type).name)
        return cls(frozenset(connections), frozenset(wrappers))


class Compiler:
    """Compiles one operation of a validated document."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 operation: OperationDefinitionNode, *, max_page_size: int):
        self.schema = schema
        self.shape = _shape(schema)
        self.max_page_size = max_page_size
        self.fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        self.defaults = {
            definition.variable.name.value: _int_literal(definition.default_value)
            for definition in operation.variable_definitions or ()
        }
        self.compiled: dict[tuple[str, int | Size | None], Expr] = {}
        self.operation = operation

    def operation_cost(self) -> Expr:
        root = self.schema.get_root_type(self.operation.operation)
        assert root is not None  # validation has checked the operation's type
        if self.operation.operation != OperationType.MUTATION:
            return self.selection(self.operation.selection_set, root)
        fields = sum(isinstance(node, FieldNode) and node.name.value != "__typename"
                     for node in self.operation.selection_set.selections)
        return add(MUTATION_COST * fields, [(1, self.selection(self.operation.selection_set,
                                                                root))])

    def selection(self, selection_set: SelectionSetNode, parent: GraphQLNamedType,
                  page: int | Size | None = None) -> Expr:
        """The cost of a selection on `parent`; `page` is the page size when
        `parent` is a connection."""
        parts = self._parts(selection_set, parent, page)
        if not isinstance(parent, GraphQLAbstractType):
            return add(0, [(1, expr) for _, expr in parts])
        options = []
        for possible in self.schema.get_possible_types(parent):
            applying = [expr for condition, expr in parts
                        if condition is None or self._applies(condition, possible)]
            options.append(add(0, [(1, expr) for expr in applying]))
        return largest(options)

    def _applies(self, condition: GraphQLNamedType, possible: GraphQLObjectType) -> bool:
        if isinstance(condition, GraphQLAbstractType):
            return self.schema.is_sub_type(condition, possible)
        return condition is possible

    def _parts(self, selection_set: SelectionSetNode, parent: GraphQLNamedType,
               page: int | Size | None) -> list[tuple[GraphQLNamedType | None, Expr]]:
        """Each selection's cost, with the type it is conditioned on (None when
        it applies to every possible type of `parent`)."""
        parts: list[tuple[GraphQLNamedType | None, Expr]] = []
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                parts.append((None, self.field(node, parent, page)))
            elif isinstance(node, InlineFragmentNode):
                condition = (self.schema.get_type(node.type_condition.name.value)
                             if node.type_condition else None)
                parts.append((condition if condition is not parent else None,
                              self.selection(node.selection_set, condition or parent, page)))
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                condition = self.schema.get_type(fragment.type_condition.name.value)
                assert condition is not None  # validation has checked it exists
                parts.append((condition if condition is not parent else None,
                              self.fragment(fragment, condition, page)))
        return parts

    def fragment(self, fragment: FragmentDefinitionNode, condition: GraphQLNamedType,
                 page: int | Size | None) -> Expr:
        page = page if condition.name in self.shape.connections else None
        key = (fragment.name.value, page)
        if key not in self.compiled:
            self.compiled[key] = self.selection(fragment.selection_set, condition, page)
        return self.compiled[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType,
              page: int | Size | None) -> Expr:
        name = node.name.value
        if name.startswith("__"):
            # __typename is free; introspection (off in production) is
            # bounded by the schema's size and costs one point.
            return 0 if name == "__typename" else 1
        definition: GraphQLField = parent.fields[name]  # type: ignore[attr-defined]
        named = get_named_type(definition.type)
        if is_leaf_type(named) or node.selection_set is None:
            return 0
        if named.name in self.shape.connections and _takes_page(definition):
            size = self._size(node, PAGE_ARGUMENTS, fallback=self.max_page_size,
                              cap=self.max_page_size)
            return add(CONNECTION_COST, [(1, self.selection(node.selection_set, named, size))])
        own = 0 if named.name in self.shape.wrappers else 1
        inner = add(own, [(1, self.selection(node.selection_set, named))])
        if parent.name in self.shape.connections and name in ("edges", "nodes"):
            return add(0, [(self.max_page_size if page is None else page, inner)])
        if _is_list(definition.type):
            return add(0, [(self._list_size(node, definition), inner)])
        return inner

    def _list_size(self, node: FieldNode, definition: GraphQLField) -> int | Size:
        declared = _declared_size(definition)
        if declared is None:
            return DEFAULT_LIST_SIZE
        assumed = declared.assumed_size
        fallback = assumed if isinstance(assumed, int) else DEFAULT_LIST_SIZE
        if not declared.slicing_arguments:
            return fallback
        return self._size(node, tuple(declared.slicing_arguments), fallback=fallback, cap=None)

    def _size(self, node: FieldNode, arguments: tuple[str, ...], *, fallback: int,
              cap: int | None) -> int | Size:
        literals, variables = [], []
        for argument in node.arguments or ():
            if argument.name.value not in arguments:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                variables.append((value.name.value, self.defaults.get(value.name.value)))
            elif (number := _int_literal(value)) is not None:
                literals.append(number)
        size = Size(tuple(literals), tuple(variables), fallback, cap)
        return size if variables else size.value({})


@functools.cache
def _shape(schema: GraphQLSchema) -> SchemaShape:
    return SchemaShape.of(schema)


def _int_literal(value: Any) -> int | None:
    return int(value.value) if isinstance(value, IntValueNode) else None


def _takes_page(definition: GraphQLField) -> bool:
    return any(name in definition.args for name in PAGE_ARGUMENTS)


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _declared_size(definition: GraphQLField) -> ListSize | None:
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    for directive in getattr(strawberry_field, "directives", None) or ():
        if isinstance(directive, ListSize):
            return directive
    return None


# --- Cached per document ----------------------------------------------------------------------


class CompiledCosts:
    """The compiled cost of the last `maxsize` operations (query and name)."""

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[str, str | None, int], Expr] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *, schema: GraphQLSchema, query: str, document: DocumentNode,
            operation_name: str | None, max_page_size: int) -> Expr:
        key = (query, operation_name, max_page_size)
        with self._lock:
            expr = self._entries.get(key)
            if expr is not None:
                self._entries.move_to_end(key)
                return expr
        expr = compile_operation(schema=schema, document=document,
                                 operation_name=operation_name, max_page_size=max_page_size)
        with self._lock:
            self._entries[key] = expr
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return expr


def compile_operation(*, schema: GraphQLSchema, document: DocumentNode,
                      operation_name: str | None, max_page_size: int) -> Expr:
    """The cost expression of one operation of a validated document."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    return Compiler(schema, document, operation, max_page_size=max_page_size).operation_cost()


def operation_cost(*, schema: GraphQLSchema, document: DocumentNode,
                   operation_name: str | None = None, variables: Mapping[str, Any] | None = None,
                   max_page_size: int = 100) -> int:
    """Compile and evaluate in one go (tests, reports)."""
    expr = compile_operation(schema=schema, document=document, operation_name=operation_name,
                             max_page_size=max_page_size)
    return evaluate(expr, variables)

