"""Errors before execution: each coded where it is made (not by its text),
without "did you mean" hints unless suggestions are on, and answered
without a `data` entry (GraphQL over HTTP).

Where the codes rest on graphql-core or strawberry internals, a test here
fails when an upgrade moves them.
"""

import pytest
from django.test import override_settings
from graphql import GraphQLError, parse
from graphql import specified_rules as graphql_rules
from graphql.validation.rules import overlapping_fields_can_be_merged

from schema.errors import BAD_USER_INPUT, VALIDATION_FAILED
from schema.executor import variables_error
from schema.extensions import _limit_rules
from schema.parsing import parse_document
from schema.validation import coded
from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

PRODUCTS = "query($f: ProductFilter) { products(first: 1, filters: $f) { totalCount } }"
ORDERED = "query($o: [ProductOrder!]) { products(first: 1, ordering: $o) { totalCount } }"

# Each shape in which graphql-core offers a hint: (query, variables).
HINTED = {
    "unknown field": ('{ categry(slug: "x") { id } }', None),
    "unknown argument": ('{ category(slugg: "x") { id } }', None),
    "unknown type": ("query($s: Strin) { category(slug: $s) { id } }", None),
    "unknown fragment type": ("{ ... on Quer { __typename } }", None),
    "enum value inline": ("{ products(first: 1, ordering: [{name: AS}]) { totalCount } }", None),
    "enum value variable": (ORDERED, {"o": [{"name": "AS"}]}),
    "input field inline": ('{ products(first: 1, filters: {serch: "x"}) { totalCount } }', None),
    "input field variable": (PRODUCTS, {"f": {"serch": "x"}}),
    "nested input field variable": (PRODUCTS, {"f": {"AND": [{"inStok": True}]}}),
}


@pytest.mark.parametrize("shape", HINTED)
def test_no_hints_when_suggestions_are_off(client, shape):
    query, variables = HINTED[shape]
    result = client.post(query, variables)
    assert result["errors"], result
    assert not any("Did you mean" in error["message"] for error in result["errors"])


@pytest.mark.parametrize("shape", HINTED)
@override_settings(GRAPHQL_FIELD_SUGGESTIONS=True)
def test_hints_when_suggestions_are_on(client, shape):
    # Each shape above does produce a hint, so the test before means something.
    query, variables = HINTED[shape]
    result = client.post(query, variables)
    assert any("Did you mean" in error["message"] for error in result["errors"]), result


@pytest.mark.parametrize(("shape", "code"), [
    ("unknown field", VALIDATION_FAILED),
    ("input field inline", VALIDATION_FAILED),
    ("input field variable", BAD_USER_INPUT),
    ("enum value variable", BAD_USER_INPUT),
])
def test_hidden_hints_keep_the_rest_of_the_message(client, shape, code):
    query, variables = HINTED[shape]
    (error,) = client.post(query, variables)["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"].endswith((".", "}")), error["message"]


# --- Codes by where the error is made ----------------------------------------------------


def test_every_rule_is_coded():
    rules = _limit_rules(False, 10_000, max_depth=15, max_aliases=30, max_selections=5000)
    wrapped = {rule.__mro__[1] for rule in rules}
    for rule in graphql_rules:
        if rule is overlapping_fields_can_be_merged.OverlappingFieldsCanBeMergedRule:
            # Metered: a subclass of it, coded.
            assert any(issubclass(r, rule) and r is not rule for r in wrapped)
        else:
            assert rule in wrapped, rule
    assert all(rule.__init__ is not rule.__mro__[1].__init__ for rule in rules)


def test_a_coded_rule_codes_what_it_reports_directly_and_through_its_context():
    from graphql import ValidationRule, build_schema, validate

    class Reporter(ValidationRule):
        def enter_document(self, *_args):
            self.report_error(GraphQLError("one"))
            self.context.report_error(GraphQLError("two"))

    schema = build_schema("type Query { a: Int }")
    errors = validate(schema, parse("{ a }"), [coded(Reporter, "SOME_CODE")])
    assert [(e.message, e.extensions) for e in errors] == [
        ("one", {"code": "SOME_CODE"}), ("two", {"code": "SOME_CODE"}),
    ]


@pytest.mark.parametrize(("query", "code"), [
    ("{ __typename ", "GRAPHQL_PARSE_FAILED"),
    ("{ __typename } }", "GRAPHQL_PARSE_FAILED"),
    ('{ "unterminated }', "GRAPHQL_PARSE_FAILED"),
    ("{ " + "__typename " * 5001 + "}", "GRAPHQL_VALIDATION_FAILED"),
    # The lexer enforces the token limit on runs of comments itself.
    ("{ __typename\n" + "#\n" * 6000 + "}", "GRAPHQL_VALIDATION_FAILED"),
    # Exactly at the limit, and one over: comments count as tokens.
    ("{ __typename\n" + "#\n" * 4997 + "}", None),
    ("{ __typename\n" + "#\n" * 4998 + "}", "GRAPHQL_VALIDATION_FAILED"),
])
def test_parse_errors_and_the_token_limit(client, query, code):
    result = client.post(query)
    if code is None:
        assert result == {"data": {"__typename": "Query"}}
    else:
        assert error_codes(result) == [code]


def test_the_token_limit_is_told_from_a_syntax_error_by_count_not_text():
    with pytest.raises(GraphQLError) as over:
        parse_document("{ a b c d }", max_tokens=3)
    assert over.value.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    with pytest.raises(GraphQLError) as broken:
        parse_document("{ a b", max_tokens=3)
    assert broken.value.extensions == {"code": "GRAPHQL_PARSE_FAILED"}


def test_nesting_past_the_parser_limit_is_a_parse_error():
    with pytest.raises(GraphQLError) as nested:
        parse_document("{ a(b: " + "[" * 300 + "]" * 300 + ") }", max_tokens=5000)
    assert nested.value.extensions == {"code": "GRAPHQL_PARSE_FAILED"}


@pytest.mark.parametrize(("variables", "code"), [
    ({"id": {"no": 1}}, BAD_USER_INPUT),  # does not coerce
    ({}, BAD_USER_INPUT),  # a required variable missing
    ({"id": None}, BAD_USER_INPUT),
])
def test_variable_coercion_errors_are_bad_user_input(client, variables, code):
    result = client.post("query Q($id: ID!) { node(id: $id) { id } }", variables)
    assert error_codes(result) == [code]
    assert "data" not in result


def test_unknown_operation_name_is_bad_request(client):
    response = client.request("POST", json={"query": "query A { __typename }",
                                            "operationName": "B"})
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


def test_validation_errors_of_graphql_core_keep_their_messages(client):
    # Pinned: a graphql-core upgrade that rewords these fails here, so the
    # API's messages change on purpose only.
    result = client.post("{ nope }")
    assert result["errors"][0]["message"] == "Cannot query field 'nope' on type 'Query'."
    result = client.post("query Q($id: ID!) { node(id: $id) { id } }", {"id": {"no": 1}})
    assert result["errors"][0]["message"] == (
        "Variable '$id' has invalid value: ID cannot represent value: {'no': 1}"
    )


def test_graphql_core_still_meters_field_merging():
    # schema/validation.py lowers this budget; without it the repeated-field
    # shapes of test_query_shapes.py take seconds again.
    assert overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET == 500_000
    assert hasattr(overlapping_fields_can_be_merged.RuleContext(), "remaining_complexity_budget")


def test_variables_are_checked_without_recursion():
    value: object = "x"
    for _ in range(100_000):
        value = [value]
    assert variables_error({"v": value}) == "Input values nest at most 32 deep."
    assert variables_error({"v": [{"k": "a\x00"}]}) == "Strings cannot contain the NUL character."
    assert variables_error({"a\x00": 1}) == "Strings cannot contain the NUL character."
    assert variables_error({"v": [[1, 2], {"k": "fine"}]}) is None


# --- No data before execution, several operations -----------------------------------------

FAILS_BEFORE_EXECUTION = {
    "parse": ("{ __typename ", None),
    "validation": ("{ nope }", None),
    "coercion": ("query Q($id: ID!) { node(id: $id) { id } }", {"id": {"no": 1}}),
    "several operations": ("query A { __typename } query B { __typename }", None),
}


@pytest.mark.parametrize("case", FAILS_BEFORE_EXECUTION)
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_no_data_entry_when_the_request_fails_before_execution(client, case, accept):
    query, variables = FAILS_BEFORE_EXECUTION[case]
    body = {"query": query, **({"variables": variables} if variables is not None else {})}
    response = client.request("POST", json=body, headers={"Accept": accept})
    result = response.json()
    assert "data" not in result
    assert result["errors"] and all(e["extensions"]["code"] for e in result["errors"])
    assert response.status_code == (200 if accept == "application/json" else 400)
    assert response.headers["content-type"].startswith(accept)


def test_a_field_error_keeps_data_null(client):
    # Execution started: `products` is non-null, so its error nulls `data`,
    # which stays in the response (with 200 for either media type).
    response = client.request(
        "POST", json={"query": "{ products(first: 101) { totalCount } }"},
        headers={"Accept": "application/graphql-response+json"},
    )
    result = response.json()
    assert result["data"] is None and error_codes(result) == ["BAD_USER_INPUT"]
    assert response.status_code == 200


def test_several_operations_need_an_operation_name(client):
    query = "query A { a: __typename } query B { b: __typename }"
    refused = client.post(query)
    assert error_codes(refused) == [BAD_USER_INPUT]
    assert refused["errors"][0]["message"] == (
        "Must provide operation name if query contains multiple operations."
    )
    assert client.post(query, operation_name="B") == {"data": {"b": "Query"}}
    assert client.post(query, operation_name="A") == {"data": {"a": "Query"}}


def test_several_operations_over_get_need_an_operation_name(client):
    response = client.request(
        "GET", params={"query": "query A { __typename } query B { __typename }"},
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    assert error_codes(response.json()) == [BAD_USER_INPUT]


def test_one_named_operation_runs_without_an_operation_name(client):
    assert client.post("query Only { ...F } fragment F on Query { __typename }") == {
        "data": {"__typename": "Query"}
    }


def test_a_document_that_is_not_valid_is_refused_before_its_operation_is_chosen(client):
    # Validation first, then the operation name: the validation errors are
    # the ones reported.
    result = client.post("query A { nope } query B { __typename }")
    assert error_codes(result) == [VALIDATION_FAILED]

