"""Compiled plans (schema/compiled.py): every answer, errors included, is the
one the ordinary executor gives (GRAPHQL_COMPILED_PLANS=0), whether the
compiled readers answer or fall back; and they do answer the storefront's
product list."""

from collections import Counter
from typing import Any

import pytest
import warnings
from django.test import override_settings

from schema.catalog import types as catalog_types
from schema.executor import Executor
from tests.conftest import error_codes
from tests.test_catalog_queries import gid, seed_catalog, storefront

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def executed_every_time(settings) -> None:
    """No answer from the response cache: each request is executed."""
    settings.GRAPHQL_RESPONSE_CACHE = False


@pytest.fixture
def executed(monkeypatch) -> Counter:
    """The fields graphql-core executed the ordinary way, by (type, field)."""
    counted: Counter = Counter()
    ordinary = Executor.execute_field

    def execute_field(self: Any, parent_type: Any, source: Any, field_details_list: Any,
                      *args: Any) -> Any:
        counted[(parent_type.name, field_details_list[0].node.name.value)] += 1
        return ordinary(self, parent_type, source, field_details_list, *args)

    monkeypatch.setattr(Executor, "execute_field", execute_field)
    return counted


def both(client, query: str, variables: dict | None = None, **kwargs: Any) -> dict:
    """The answer, compiled and not, asserted the same (errors included)."""
    with override_settings(GRAPHQL_COMPILED_PLANS=False):
        ordinary = client.post(query, variables, **kwargs)
    with override_settings(GRAPHQL_COMPILED_PLANS=True):
        compiled = client.post(query, variables, **kwargs)
    assert compiled == ordinary
    return compiled


def test_the_storefront_list_is_answered_by_the_readers(client, executed):
    seed_catalog(6)
    result = both(client, storefront(), {"first": 100}, operation_name="ProductList")
    assert len(result["data"]["products"]["edges"]) == 6
    assert result["data"]["products"]["edges"][0]["node"]["priceRange"]["start"]["amount"]
    executed.clear()
    client.post(storefront(), {"first": 100}, operation_name="ProductList")
    # Only the root, its count and nothing under `edges` or `pageInfo`.
    assert set(executed) == {("Query", "products"), ("ProductConnection", "totalCount")}


def test_the_switch_turns_them_off(client, executed):
    seed_catalog(2)
    with override_settings(GRAPHQL_COMPILED_PLANS=False):
        client.post(storefront(), {"first": 10}, operation_name="ProductList")
    assert executed[("ProductEdge", "node")] == 2


def test_aliases_typename_and_fragments(client, executed):
    seed_catalog(4)
    query = """
    query ($first: Int!) {
      products(first: $first) {
        edges { c: cursor  e: __typename
          node { __typename  n: name  ...Card  ... on Product { again: slug }
                 ... on Node { id }  ... { category { __typename  id  label: name } } } }
      }
    }
    fragment Card on Product { slug  name  rating { count  average  count2: count } }
    """
    result = both(client, query, {"first": 3})
    node = result["data"]["products"]["edges"][0]["node"]
    assert node["__typename"] == "Product" and node["again"] == node["slug"]
    assert set(node["category"]) == {"__typename", "id", "label"}
    executed.clear()
    client.post(query, {"first": 3})
    assert executed[("ProductEdge", "node")] == 0  # compiled, not executed


@pytest.mark.parametrize("shown", [True, False])
def test_include_and_skip_with_variables(client, shown):
    seed_catalog(3)
    query = """
    query ($shown: Boolean!) {
      products(first: 10) {
        edges { node { name  slug @include(if: $shown)  id @skip(if: $shown)
                       category @include(if: $shown) { name }
                       ... on Product @skip(if: $shown) { isAvailable } } }
      }
    }
    """
    for value in (shown, not shown, shown):  # one plan per value, neither reused for the other
        node = both(client, query, {"shown": value})["data"]["products"]["edges"][0]["node"]
        assert ("slug" in node) is value and ("category" in node) is value
        assert ("id" in node) is not value and ("isAvailable" in node) is not value


def test_a_field_with_a_rule_is_not_compiled(client, executed):
    seed_catalog(2)
    query = "{ products(first: 2) { edges { node { name variants { sku stocks { quantity } } } } } }"
    result = both(client, query)
    assert result["errors"] and result["errors"][0]["path"][-1] == "stocks"
    assert error_codes(result) == ["UNAUTHENTICATED"]  # the first variant's: non-null, it nulls the rest
    executed.clear()
    client.post(query)
    assert executed[("ProductVariant", "stocks")] > 0  # its rule ran


def test_a_fragment_on_an_abstract_type(client):
    catalog = seed_catalog(2)
    product = catalog["products"][0]
    query = """
    query ($id: ID!) {
      node(id: $id) { __typename  id
        ... on Product { name  category { name slug }  priceRange { start { amount currency } } } }
    }
    """
    result = both(client, query, {"id": gid("Product", product.pk)})
    assert result["data"]["node"]["name"] == product.name


def test_a_deep_page(client):
    seed_catalog(12)
    document, after, seen = storefront(), None, []
    while True:
        page = both(client, document, {"first": 5, "after": after},
                    operation_name="ProductList")["data"]["products"]
        seen += [edge["node"]["slug"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 12


def _with_card_for(monkeypatch, slug: str, field: str, answer: Any) -> None:
    """Have one product's card field (by the values it reads) answer `answer`
    (a function of the root, info and build) instead."""
    ordinary = catalog_types.with_card

    def with_card(root: Any, info: Any, build: Any, *names: str) -> Any:
        if root.slug == slug and field in names:
            return answer(root, info, build, names)
        return ordinary(root, info, build, *names)

    monkeypatch.setattr(catalog_types, "with_card", with_card)


def test_a_null_in_a_non_null_field(client, monkeypatch):
    seed_catalog(3)
    _with_card_for(monkeypatch, "scent-01", "review_count", lambda root, info, build, names:
                   catalog_types.Rating(average=None, count=None, product_id=root.pk))  # type: ignore[arg-type]
    result = both(client, storefront(), {"first": 10}, operation_name="ProductList")
    # An internal error (logged with graphql-core's message), as before.
    assert result["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert result["errors"][0]["path"] == ["products", "edges", 1, "node", "rating", "count"]


def test_a_value_the_scalar_refuses(client, monkeypatch):
    seed_catalog(3)
    _with_card_for(monkeypatch, "scent-02", "in_stock", lambda *args: "perhaps")
    result = both(client, storefront(), {"first": 10}, operation_name="ProductList")
    assert result["errors"][0]["path"] == ["products", "edges", 2, "node", "isAvailable"]


def test_a_resolver_that_raises(client, monkeypatch):
    seed_catalog(3)

    def fails(*args: Any) -> Any:
        raise RuntimeError("no picture today")

    _with_card_for(monkeypatch, "scent-00", "cover_image", fails)
    result = both(client, storefront(), {"first": 10}, operation_name="ProductList")
    assert result["errors"][0]["path"] == ["products", "edges", 0, "node", "thumbnail"]
    assert result["data"]["products"]["edges"][0]["node"]["thumbnail"] is None


def test_an_awaitable_value_is_awaited_the_ordinary_way(client, monkeypatch):
    seed_catalog(3)

    def later(root: Any, info: Any, build: Any, names: tuple[str, ...]) -> Any:
        async def card() -> Any:
            return build(dict.fromkeys(names, None) | {"review_count": 7, "review_stars": 28})

        return card()

    _with_card_for(monkeypatch, "scent-01", "review_count", later)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine closed, never left unawaited
        result = both(client, storefront(), {"first": 10}, operation_name="ProductList")
    assert result["data"]["products"]["edges"][1]["node"]["rating"] == {"average": 4.0,
                                                                       "count": 7}


def test_a_card_resolver_reading_more_than_the_context_falls_back(client, monkeypatch, executed):
    """Compiled plans give the card resolvers an info carrying the context
    alone; one that read more (here its path) would raise there, and the
    field is answered the ordinary way, with its full info, the same."""
    seed_catalog(3)
    paths: list = []
    absolute_url = catalog_types.absolute_url

    def reading_the_path(info, url):
        paths.append(info.path.key)
        return absolute_url(info, url)

    monkeypatch.setattr(catalog_types, "absolute_url", reading_the_path)
    result = both(client, storefront(), {"first": 10}, operation_name="ProductList")
    assert "errors" not in result and len(result["data"]["products"]["edges"]) == 3
    assert result["data"]["products"]["edges"][0]["node"]["thumbnail"]["url"].startswith("http")
    assert set(paths) == {"thumbnail"}
    assert ("ProductConnection", "edges") in executed  # fell back
