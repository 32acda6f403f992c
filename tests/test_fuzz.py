"""Property-based fuzzing through the real endpoint.

hypothesis-graphql writes valid documents for every root query and
mutation field of the built schema, with literal arguments of every shape
the schema allows (IDs of real objects, of other types and garbage among
them); the contract's own operations are sent with generated variables.
Each document goes out as an anonymous caller, a customer and staff. The
server may refuse anything, but only with a coded error: no 5xx, no
INTERNAL_SERVER_ERROR (or uncoded) error, no traceback in the logs.

The profile comes from FUZZ_PROFILE: `ci` (the default, a few examples a
field, deterministic) or `long` (`make fuzz`). FUZZ_EXAMPLES overrides the
number of examples of either; FUZZ_CODES=1 adds to the summary line how often
each error code and message came back, to see what the generated input
reaches (a fuzzer whose documents all fail validation tests little).

hypothesis-graphql writes documents only; the variables of the contract's
operations come from `variable_values` below.
"""

import json
import logging
import os
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from schema.schema import schema
from tests.conftest import Client, client_for, make_user
from tests.factories import (
    make_cart,
    make_category,
    make_media,
    make_product,
    make_review,
    make_shipping_method,
    make_stock,
    make_variant,
    make_warehouse,
)
from tests.test_bad_input import operation_document, operation_names

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"

_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
           HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=4, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_CHECKS)
settings.register_profile("long", max_examples=40, deadline=None, database=None,
                          suppress_health_check=_CHECKS)
PROFILE = os.environ.get("FUZZ_PROFILE", "ci")
EXAMPLES = os.environ.get("FUZZ_EXAMPLES")
FUZZ = settings(settings.get_profile(PROFILE),
                **({"max_examples": int(EXAMPLES)} if EXAMPLES else {}))

SDL = schema.as_str()
GRAPHQL_SCHEMA = schema._schema
QUERY_FIELDS = sorted(GRAPHQL_SCHEMA.query_type.fields)
MUTATION_FIELDS = sorted(GRAPHQL_SCHEMA.mutation_type.fields)
NODE_TYPES = sorted(
    name for name, type_ in GRAPHQL_SCHEMA.type_map.items()
    if isinstance(type_, graphql.GraphQLObjectType)
    and any(interface.name == "Node" for interface in type_.interfaces)
)

# Global IDs of the objects the `world` fixture made, read when a value is
# drawn (the strategies are built before any fixture runs).
REAL_IDS: list[str] = []

real_ids = st.integers(min_value=0, max_value=10**6).map(
    lambda index: REAL_IDS[index % len(REAL_IDS)] if REAL_IDS else "")
other_ids = st.builds(
    to_base64,
    st.sampled_from([*NODE_TYPES, "Nope", "Rating", "Query", ""]),
    st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=8)),
)
# Cart tokens of the `world` fixture, read when a value is drawn.
REAL_TOKENS: list[str] = []
# Text without NUL: NUL is refused before anything runs (tests/test_http.py),
# which would hide what the rest of the input does.
CHARACTERS = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")


def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(CHARACTERS, max_size=max_size)


ids = st.one_of(real_ids, real_ids, other_ids, text(12))
datetimes = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.just(UTC)).map(lambda value: value.isoformat()),
    st.sampled_from(["", "now", "2026-02-30T00:00:00Z", "2026-01-01", "9999-12-31T23:59:59-14:00",
                     "0000-01-01T00:00:00Z"]),
)
dates = st.one_of(
    st.dates().map(lambda value: value.isoformat()),
    st.sampled_from(["", "today", "2026-02-30", "2026-01-01T00:00:00Z", "0000-01-01", "1-1-1"]),
)
decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2,
                min_value=Decimal("-1e12"), max_value=Decimal("1e12")).map(str),
    st.sampled_from(["", "NaN", "-Infinity", "1e400", "0.0000000001", "9" * 40, "1,5", "٣"]),
)
real_tokens = st.integers(min_value=0, max_value=10**6).map(
    lambda index: REAL_TOKENS[index % len(REAL_TOKENS)] if REAL_TOKENS else "")
uuids = st.one_of(real_tokens, st.uuids().map(str), text(36),
                  st.sampled_from(["", "00000000-0000-0000-0000-000000000000", "{x}"]))

# Strings that name something the `world` fixture made, so that lookups by
# slug, SKU or email find it now and then and the fields below them run.
KNOWN_STRINGS = ["fuzz", "hidden", "FUZZ-1", "HIDDEN-1", "ada@fuzz.example",
                 "sam@fuzz.example", PASSWORD]
strings = st.one_of(st.sampled_from(KNOWN_STRINGS), text(30))
# Mostly page sizes around the cap of 100, sometimes anything an Int holds.
ints = st.one_of(st.integers(min_value=-3, max_value=110),
                 st.integers(min_value=-(2**31), max_value=2**31 - 1))

# Literal arguments: value nodes, as hypothesis-graphql wants them.
LITERALS = {
    "String": strings.map(nodes.String),
    "Int": ints.map(nodes.Int),
    "ID": ids.map(nodes.String),
    "DateTime": datetimes.map(nodes.String),
    "Date": dates.map(nodes.String),
    "Decimal": decimals.map(nodes.String),
    "UUID": uuids.map(nodes.String),
    # An Upload cannot be a literal; a string where the file should be is
    # what a broken client sends.
    "Upload": text(8).map(nodes.String),
}


@pytest.fixture
def world(db):
    """Something of every kind for the IDs to name, and the three callers."""
    customer = make_user(email="ada@fuzz.example", password=PASSWORD, first_name="Ada")
    staff = make_user(email="sam@fuzz.example", password=PASSWORD, perms=list(Perm),
                      first_name="Sam")
    category = make_category(slug="fuzz")
    product = make_product(slug="fuzz", category=category)
    hidden = make_product(slug="hidden", is_published=False)
    variant = make_variant(product=product, sku="FUZZ-1")
    make_variant(product=hidden, sku="HIDDEN-1")
    warehouse = make_warehouse(slug="fuzz")
    make_stock(variant=variant, warehouse=warehouse, quantity_on_hand=3)
    review = make_review(product=product, user=customer)
    media = make_media(product=product)
    address = customer.addresses.create(
        first_name="Ada", last_name="Lovelace", street_address_1="1 St James's Square",
        city="London", postal_code="SW1Y 4JH", country="GB")
    guest_cart = make_cart(lines=[(variant, 1)])
    customer_cart = make_cart(user=customer, lines=[(variant, 1)])
    method = make_shipping_method(countries=("GB",))
    REAL_TOKENS[:] = [str(guest_cart.token), str(customer_cart.token)]
    REAL_IDS[:] = [
        to_base64("Cart", customer_cart.pk), to_base64("CartLine", guest_cart.lines.get().pk),
        to_base64("ShippingMethod", method.pk),
        to_base64("Product", product.pk), to_base64("Product", hidden.pk),
        to_base64("ProductVariant", variant.pk), to_base64("Category", category.pk),
        to_base64("Warehouse", warehouse.pk), to_base64("Review", review.pk),
        to_base64("ProductMedia", media.pk), to_base64("User", customer.pk),
        to_base64("User", staff.pk), to_base64("Address", address.pk),
    ]
    yield {"anonymous": Client(), "customer": client_for(customer), "staff": client_for(staff)}
    REAL_IDS.clear()
    REAL_TOKENS.clear()


# Requests sent and what failed, over the session (the summary line).
TALLY = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_tally(request):
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter and capture and TALLY["requests"]:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nfuzz ({PROFILE}): {TALLY['requests']} requests, {TALLY['5xx']} 5xx, "
                f"{TALLY['internal']} internal errors, {TALLY['logged']} with logged errors")
            if os.environ.get("FUZZ_CODES"):
                for key, count in sorted(TALLY.items()):
                    reporter.write_line(f"  {count:6} {key}")


def failures(callers: dict, caplog, body: dict) -> list:
    """What went wrong sending `body` as each caller; empty when all is well."""
    found = []
    for who, client in callers.items():
        caplog.clear()
        response = client.request("POST", json=body)
        TALLY["requests"] += 1
        if response.status_code >= 500:
            TALLY["5xx"] += 1
            found.append((who, response.status_code, response.text[:500]))
            continue
        errors = response.json().get("errors") or []
        codes = [(error.get("extensions") or {}).get("code") for error in errors]
        TALLY.update(f"code:{code}" for code in set(codes) or ["ok"])
        if os.environ.get("FUZZ_CODES"):
            TALLY.update(f"msg:{e['message'][:60]}" for e in errors)
        if "INTERNAL_SERVER_ERROR" in codes or None in codes:
            TALLY["internal"] += 1
            found.append((who, codes, errors[:3]))
        logged = [record.getMessage() for record in caplog.records
                  if record.levelno >= logging.ERROR
                  and record.name in ("commerce.graphql", "django.request")]
        if logged:
            TALLY["logged"] += 1
            found.append((who, "logged", logged[:3]))
    return found


@pytest.fixture
def errors_log(caplog):
    caplog.set_level(logging.ERROR)
    return caplog


ROOT_FIELDS = [("query", field) for field in QUERY_FIELDS] + [
    ("mutation", field) for field in MUTATION_FIELDS]


@pytest.mark.parametrize("operation, field", ROOT_FIELDS,
                         ids=[f"{operation}:{field}" for operation, field in ROOT_FIELDS])
def test_fuzz_root_field(operation, field, world, errors_log):
    strategy = queries if operation == "query" else mutations

    @FUZZ
    @given(document=strategy(SDL, fields=[field], custom_scalars=LITERALS, allow_x00=False))
    def run(document: str) -> None:
        assert failures(world, errors_log, {"query": document}) == [], document

    run()


@pytest.mark.parametrize("strategy", [queries, mutations], ids=["queries", "mutations"])
def test_fuzz_documents_with_one_violation(strategy, world, errors_log):
    """Documents the schema refuses (a wrong argument type, a missing required
    argument, an unknown enum value), over every root field at once."""

    @settings(FUZZ, max_examples=FUZZ.max_examples * 10)
    @given(document=strategy(SDL, custom_scalars=LITERALS, allow_x00=False, mode=Mode.NEGATIVE))
    def run(document: str) -> None:
        assert failures(world, errors_log, {"query": document}) == [], document

    run()


# --- The contract's operations, with generated variables ---------------------------------

# A value of another JSON type, for variable coercion to refuse.
WRONG = st.sampled_from([{}, [], "x", 1.5, True, -1, {"a": None}])
VALUES = {
    "Int": ints,
    "Float": st.floats(allow_nan=False, allow_infinity=False),
    "String": strings,
    "Boolean": st.booleans(),
    "ID": ids,
    "DateTime": datetimes,
    "Date": dates,
    "Decimal": decimals,
    "UUID": uuids,
    "Upload": st.none(),
}


def variable_values(type_, depth: int = 0) -> st.SearchStrategy:
    """JSON values for a variable of `type_`, now and then of the wrong kind."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return _values_of(type_.of_type, depth)
    return st.one_of(st.none(), _values_of(type_, depth))


def _values_of(type_, depth: int) -> st.SearchStrategy:
    if isinstance(type_, graphql.GraphQLList):
        return st.lists(variable_values(type_.of_type, depth), max_size=3)
    if isinstance(type_, graphql.GraphQLEnumType):
        return _mostly(st.sampled_from(list(type_.values)))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        fields = type_.fields
        if type_.is_one_of:
            return st.sampled_from(sorted(fields)).flatmap(
                lambda name: st.fixed_dictionaries(
                    {name: _values_of(graphql.get_nullable_type(fields[name].type), depth + 1)}))
        required = {name: variable_values(f.type, depth + 1) for name, f in fields.items()
                    if graphql.is_required_input_field(f)}
        optional = {} if depth > 1 else {
            name: variable_values(f.type, depth + 1) for name, f in fields.items()
            if not graphql.is_required_input_field(f)}
        return st.fixed_dictionaries(required, optional=optional)
    return _mostly(VALUES.get(type_.name, text(8)))


def _mostly(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """`strategy`, and one draw in ten a value of the wrong kind."""
    return st.integers(0, 9).flatmap(lambda n: WRONG if n == 0 else strategy)


CONTRACT = operation_names()


@pytest.mark.parametrize("operation", CONTRACT)
def test_fuzz_contract_operations(operation, world, errors_log):
    definition, fragments = operation_document(operation)
    document = "\n".join(graphql.print_ast(node) for node in [definition, *fragments])
    variables = st.fixed_dictionaries({
        v.variable.name.value: variable_values(graphql.type_from_ast(GRAPHQL_SCHEMA, v.type))
        for v in definition.variable_definitions or []
    })

    @FUZZ
    @given(values=variables)
    def run(values: dict) -> None:
        body = {"query": document, "variables": values}
        assert failures(world, errors_log, body) == [], values

    run()


# --- Raw requests: bodies and query strings that may not even be GraphQL ---------------

CONTENT_TYPES = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/graphql-response+json",
    "multipart/form-data", "multipart/form-data; boundary=xyz", "multipart/form-data; boundary=",
    "text/plain", "application/x-www-form-urlencoded", "application/graphql", "", "nonsense",
])
KEYS = st.sampled_from(["query", "variables", "operationName", "extensions", "persistedQuery",
                        "sha256Hash", "x"])


def _json_containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(children, max_size=3),
                     st.dictionaries(KEYS, children, max_size=4))


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text(20),
    _json_containers, max_leaves=8,
)
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_LIKE.map(lambda value: json.dumps(value).encode()),
    st.builds(lambda head, tail: head + tail,
              st.sampled_from([b'{"query": "{ __typename }"', b"--xyz\r\n", b'{"query": ']),
              st.binary(max_size=40)),
)


def test_fuzz_raw_requests(errors_log):
    """Whatever arrives, the answer is a coded error or data: never a 5xx,
    never an HTML page, never a logged error. Cheap, so many examples."""
    from urllib.parse import quote_from_bytes

    @settings(FUZZ, max_examples=FUZZ.max_examples * 25)
    @given(method=st.sampled_from(["GET", "POST"]), content_type=CONTENT_TYPES, body=BODIES,
           query_string=st.binary(max_size=40), preflight=st.booleans())
    def run(method, content_type, body, query_string, preflight):
        headers = {"Accept": "application/json"}
        if preflight:
            headers["Apollo-Require-Preflight"] = "true"
        if content_type:
            headers["Content-Type"] = content_type
        url = "/graphql/?" + quote_from_bytes(query_string, safe="=&")
        errors_log.clear()
        response = Client().request(method, url, content=body if method == "POST" else None,
                                    headers=headers)
        TALLY["requests"] += 1
        assert response.status_code < 500, response.text[:300]
        assert response.headers["content-type"].startswith("application/json"), (
            response.status_code, response.text[:300])
        answer = response.json()
        assert answer.get("errors") or "data" in answer
        codes = [(error.get("extensions") or {}).get("code") for error in answer.get("errors") or []]
        assert "INTERNAL_SERVER_ERROR" not in codes and None not in codes, answer
        assert [r.getMessage() for r in errors_log.records if r.levelno >= logging.ERROR] == []

    run()


def test_every_root_field_is_fuzzed():
    assert QUERY_FIELDS and MUTATION_FIELDS and CONTRACT
    assert {field for operation, field in ROOT_FIELDS if operation == "query"} == set(
        GRAPHQL_SCHEMA.query_type.fields)
    assert {field for operation, field in ROOT_FIELDS if operation == "mutation"} == set(
        GRAPHQL_SCHEMA.mutation_type.fields)


def test_the_failure_check_sees_internal_errors(world, errors_log, monkeypatch):
    """The fuzz tests fail on what they should: a resolver that raises."""
    from schema import pagination

    def boom(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(pagination, "check_cursors", boom)
    tally = TALLY.copy()  # this failure is on purpose: leave it out of the summary
    found = failures({"anonymous": world["anonymous"]}, errors_log,
                     {"query": "{ categories { totalCount } }"})
    TALLY.clear()
    TALLY.update(tally)
    assert [(who, what) for who, what, _ in found] == [
        ("anonymous", ["INTERNAL_SERVER_ERROR"]), ("anonymous", "logged")]

