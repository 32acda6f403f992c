"""Bad input never gives a 500 or an INTERNAL_SERVER_ERROR.

Every operation of the contract documents that validates is sent with
hostile variable values (empty, negative, huge, malformed and foreign IDs,
odd decimals), as an anonymous caller, a customer and staff. Each answer
must be a clear error (a payload entry or a coded top-level error) or data.
"""

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    parse,
    print_ast,
    type_from_ast,
    validate,
)
from strawberry.relay import to_base64

from schema.schema import schema
from tests.conftest import Client, client_for
from tests import contract
from tests.contract import EXPECTED_FAILURES, document, document_names
from tests.factories import make_product, make_variant

GRAPHQL_SCHEMA = schema._schema

# Each style is one way of being wrong, applied to every variable at once.
STYLES = {
    "empty": {"ID": "", "String": "", "Int": 0, "Float": 0.0, "Decimal": "0", "UUID":
              "00000000-0000-0000-0000-000000000000", "DateTime": "1970-01-01T00:00:00Z",
              "Date": "1970-01-01"},
    "negative": {"ID": to_base64("Product", -1), "String": "-", "Int": -1, "Float": -1.5,
                 "Decimal": "-1.00", "UUID": "ffffffff-ffff-ffff-ffff-ffffffffffff",
                 "DateTime": "0001-01-01T00:00:00Z", "Date": "0001-01-01"},
    "huge": {"ID": to_base64("Product", 2**63), "String": "x" * 5000, "Int": 2**31 - 1,
             "Float": 1e308, "Decimal": "9" * 40, "UUID": "12345678-1234-5678-1234-567812345678",
             "DateTime": "9999-12-31T23:59:59Z", "Date": "9999-12-31"},
    "malformed": {"ID": "not-a-global-id", "String": "<script>alert(1)</script>\x00",
                  "Int": 7, "Float": 0.1, "Decimal": "NaN", "UUID":
                  "00000000-0000-0000-0000-000000000001", "DateTime": "2026-02-30T00:00:00Z",
                  "Date": "2026-02-30"},
    "foreign": {"ID": "FOREIGN", "String": "a@b.c", "Int": 1, "Float": 4.5, "Decimal": "1e-10",
                "UUID": "00000000-0000-0000-0000-000000000002",
                "DateTime": "2026-01-01T00:00:00+14:00", "Date": "2026-01-01"},
}


def value_for(type_, style: str, foreign_id: str, depth: int = 0):
    if isinstance(type_, GraphQLNonNull):
        return value_for(type_.of_type, style, foreign_id, depth)
    if isinstance(type_, GraphQLList):
        return [value_for(type_.of_type, style, foreign_id, depth)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = list(type_.fields.items())
        if type_.is_one_of:
            fields = fields[:1]
        elif depth > 1:  # recursive inputs (AND/OR/NOT): required fields only
            fields = [(n, f) for n, f in fields if isinstance(f.type, GraphQLNonNull)]
        return {name: value_for(f.type, style, foreign_id, depth + 1) for name, f in fields}
    if isinstance(type_, GraphQLScalarType):
        if type_.name == "Boolean":
            return style != "empty"
        value = STYLES[style].get(type_.name, "x")
        return foreign_id if value == "FOREIGN" else value
    raise AssertionError(type_)


def operation_names() -> list[str]:
    """"document:Operation" for every query and mutation of the documents
    that validate. Computed at collection, so it never raises: a document that
    does not parse is tests/test_contract.py's failure to report."""
    found = []
    for name in document_names():
        if name in EXPECTED_FAILURES:
            continue  # not built yet
        try:
            definitions = parse(document(name)).definitions
        except GraphQLError:
            continue
        found += [
            f"{name}:{d.name.value}" for d in definitions
            if isinstance(d, OperationDefinitionNode) and d.name
            and d.operation != OperationType.SUBSCRIPTION
        ]
    return found


def operation_document(operation: str) -> tuple[OperationDefinitionNode, list]:
    """The operation named "document:Operation", with the fragments it uses
    (sent with the file's other fragments too, it would fail validation as
    NoUnusedFragments and never run)."""
    name, _, operation_name = operation.partition(":")
    parsed = parse(contract.operations(name, operation_name))
    assert not validate(GRAPHQL_SCHEMA, parsed), f"{name} does not validate: see test_contract"
    definition, *fragments = parsed.definitions
    assert isinstance(definition, OperationDefinitionNode)
    return definition, fragments


def _uses_upload(definition) -> bool:
    return any("Upload" in print_ast(v.type) for v in definition.variable_definitions)


@pytest.mark.parametrize("operation", operation_names())
def test_hostile_variables_get_clear_answers(db, operation, customer, staff):
    definition, fragments = operation_document(operation)
    product = make_product(slug="real")
    variant = make_variant(product=product, sku="REAL-1")
    # A real object of the wrong type where another is expected.
    foreign_id = to_base64("ProductVariant", variant.pk)
    query = "\n".join(print_ast(node) for node in [definition, *fragments])
    callers = {"anonymous": Client(), "customer": client_for(customer), "staff": client_for(staff)}
    for style in STYLES:
        variables = {
            v.variable.name.value: value_for(
                type_from_ast(GRAPHQL_SCHEMA, v.type), style, foreign_id
            )
            for v in definition.variable_definitions or []
            if not _uses_upload(definition) or "Upload" not in print_ast(v.type)
        }
        for who, client in callers.items():
            response = client.request("POST", json={"query": query, "variables": variables})
            assert response.status_code in (200, 400), (style, who, response.text[:500])
            body = response.json()
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            assert "INTERNAL_SERVER_ERROR" not in codes, (style, who, body["errors"][:3])
            assert None not in codes, (style, who, body["errors"][:3])
