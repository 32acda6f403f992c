"""Malformed cursors and global IDs are the client's mistake: a coded error
(or null), never INTERNAL_SERVER_ERROR, never a logged traceback, and never
the raw input repeated back."""

import base64

import pytest
from strawberry.relay import to_base64

from apps.catalog.models import Product
from tests.conftest import Client, client_for, error_codes, make_user
from tests.factories import make_category, make_product, make_review, make_variant

pytestmark = pytest.mark.django_db

# A string that must never come back in an answer.
PROBE = "PROBE<img src=x>"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


BAD_CURSORS = {
    "not-base64": "x",
    "empty": "",
    "base64-without-colon": "Zm9v",
    "wrong-prefix": b64("foo:1"),
    "offset-not-a-number": b64("arrayconnection:abc"),
    "negative-offset": b64("arrayconnection:-5"),
    "offset-past-64-bits": b64("arrayconnection:" + "9" * 25),
    "not-ascii": "\u00ff\u00fe",
    "probe": PROBE,
}

CONNECTIONS = {
    "products": ("anonymous", "query($c: String) { products(first: 2, {arg}: $c) "
                              "{ edges { node { id } } } }"),
    "categories": ("anonymous", "query($c: String) { categories(first: 2, {arg}: $c) "
                                "{ totalCount } }"),
    "category.products": ("anonymous", 'query($c: String) { category(slug: "shoes") { '
                                       "products(first: 2, {arg}: $c) { totalCount } } }"),
    "product.reviews": ("customer", 'query($c: String) { product(slug: "boot") { '
                                    "reviews(first: 2, {arg}: $c) { totalCount } } }"),
    "lowStockVariants": ("staff", "query($c: String) { lowStockVariants(first: 2, {arg}: $c) "
                                  "{ totalCount } }"),
    "stockMovements": ("staff", "query($c: String) { stockMovements(first: 2, {arg}: $c) "
                                "{ totalCount } }"),
}


@pytest.fixture
def callers(customer, staff):
    return {"anonymous": Client(), "customer": client_for(customer), "staff": client_for(staff)}


@pytest.fixture
def catalog():
    category = make_category(slug="shoes")
    product = make_product(slug="boot", category=category)
    make_review(product=product)
    return product


@pytest.mark.parametrize("arg", ["after", "before"])
@pytest.mark.parametrize("connection", CONNECTIONS)
@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS)
def test_malformed_cursor_is_bad_user_input(connection, arg, cursor, callers, catalog,
                                            server_errors):
    who, query = CONNECTIONS[connection]
    response = callers[who].request(
        "POST", json={"query": query.replace("{arg}", arg), "variables": {"c": cursor}})
    assert response.status_code == 200
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    assert f"`{arg}` is not a cursor" in response.json()["errors"][0]["message"]
    assert PROBE not in response.text
    assert server_errors() == []


def test_cursors_the_server_made_still_page(catalog):
    for index in range(4):
        make_product(slug=f"p{index}")
    query = """query($after: String) { products(first: 2, after: $after) {
        edges { node { id } } pageInfo { endCursor hasNextPage } } }"""
    seen, after = [], None
    while True:
        page = Client().execute(query, {"after": after})["products"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == Product.objects.count()
    # `before` the second page's end cursor, from the last one.
    last = Client().execute(
        "query($b: String) { products(last: 1, before: $b) { edges { node { id } } } }",
        {"b": after})["products"]["edges"]
    assert [edge["node"]["id"] for edge in last] == [seen[2]]


def test_offset_at_the_limit_is_an_empty_page():
    far = b64(f"arrayconnection:{2**62}")
    data = Client().execute("query($c: String) { categories(first: 100, after: $c) { totalCount "
                            "edges { node { id } } } }", {"c": far})
    assert data["categories"]["edges"] == []
    # The product lists are paged by keyset (schema/pagination.py): an
    # offset cursor is not one of theirs.
    result = Client().post("query($c: String) { products(first: 100, after: $c) { totalCount } }",
                           {"c": far})
    assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]


NODE = "query($id: ID!) { node(id: $id) { id } }"

MALFORMED_IDS = {
    "empty": "",
    "garbage": "garbage",
    "probe": PROBE,
    "not-ascii": "\u00ff\u00fe",
}

IDS_THAT_NAME_NOTHING = {
    "unknown-type": to_base64("Nope", 1),
    "not-a-node": to_base64("Rating", 1),
    "input-type": to_base64("ProductFilter", 1),
    "not-an-integer": to_base64("Product", "abc"),
    "empty-type-and-id": b64(":"),
    "empty-id": b64("Product:"),
    "negative": to_base64("Product", -1),
    "past-64-bits": to_base64("Product", 2**70),
    "probe-inside": to_base64("Product", PROBE),
}


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff"])
@pytest.mark.parametrize("value", MALFORMED_IDS.values(), ids=MALFORMED_IDS)
def test_malformed_node_id_is_bad_user_input(who, value, callers, server_errors):
    response = callers[who].request("POST", json={"query": NODE, "variables": {"id": value}})
    body = response.json()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] == {"node": None}
    assert PROBE not in response.text
    assert server_errors() == []


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff"])
@pytest.mark.parametrize("value", IDS_THAT_NAME_NOTHING.values(), ids=IDS_THAT_NAME_NOTHING)
def test_node_id_that_names_nothing_is_null(who, value, callers, server_errors):
    response = callers[who].request("POST", json={"query": NODE, "variables": {"id": value}})
    assert response.json()["data"] == {"node": None}
    assert "errors" not in response.json()
    assert server_errors() == []


def test_malformed_node_id_as_a_literal(server_errors):
    body = Client().post('{ node(id: "garbage") { id } }')
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert server_errors() == []


def test_node_still_finds_what_it_should(catalog, customer):
    variant = make_variant(product=catalog, sku="B-1")
    result = Client().execute(
        "query($id: ID!) { node(id: $id) { __typename ... on ProductVariant { sku } } }",
        {"id": to_base64("ProductVariant", variant.pk)})
    assert result == {"node": {"__typename": "ProductVariant", "sku": "B-1"}}
    # A user is visible only to themself: a stranger's ID is null.
    stranger = make_user()
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert client_for(customer).execute(query, {"id": to_base64("User", stranger.pk)}) == {
        "node": None}
    assert client_for(customer).execute(query, {"id": to_base64("User", customer.pk)}) == {
        "node": {"id": to_base64("User", customer.pk)}}


@pytest.mark.parametrize("value", [PROBE, "", to_base64("Product", 1), to_base64("Nope", PROBE)])
def test_id_arguments_of_queries_never_echo(value, staff_client, server_errors):
    response = staff_client.request("POST", json={
        "query": "query($id: ID) { stockMovements(variantId: $id) { totalCount } }",
        "variables": {"id": value}})
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    assert "not a ProductVariant ID" in response.text
    assert PROBE not in response.text
    response = Client().request("POST", json={
        "query": "query($id: ID!) { products(filters: {categories: [$id]}) { totalCount } }",
        "variables": {"id": value}})
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    assert PROBE not in response.text
    assert server_errors() == []


@pytest.mark.parametrize("value", [PROBE, "", to_base64("Category", 1), to_base64("Product", "x")])
def test_id_arguments_of_mutations_are_not_found(value, staff_client, server_errors):
    response = staff_client.request("POST", json={
        "query": "mutation($id: ID!) { productDelete(id: $id) { errors { field code message } } "
                 "productBulkDelete(ids: [$id]) { errors { field code } } }",
        "variables": {"id": value}})
    data = response.json()["data"]
    assert data["productDelete"]["errors"][0]["code"] == "NOT_FOUND"
    assert data["productBulkDelete"]["errors"][0] == {"field": "ids.0", "code": "NOT_FOUND"}
    assert PROBE not in response.text
    assert server_errors() == []


def test_every_connection_checks_its_cursors():
    """Cursors are checked in CountableConnection only: every connection of
    the schema (later domains' too) must be one."""
    from strawberry.types.base import StrawberryObjectDefinition

    from schema.pagination import CountableConnection
    from schema.schema import schema

    connections = {
        name: definition.origin for name, definition in
        ((t.name, schema.get_type_by_name(t.name)) for t in schema._schema.type_map.values())
        if isinstance(definition, StrawberryObjectDefinition) and name.endswith("Connection")
    }
    assert connections
    assert {name: origin for name, origin in connections.items()
            if not issubclass(origin, CountableConnection)} == {}
