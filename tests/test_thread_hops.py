"""Root connections take one thread hop (schema/connection_fields.py): the
resolver, the queryset hook, the page and its count, together, under the
async view, with the same answer."""

from collections import Counter

import pytest
from asgiref import sync

from tests.test_catalog_queries import seed_catalog, storefront

pytestmark = pytest.mark.django_db


@pytest.fixture
def hops(monkeypatch) -> Counter:
    """The functions run through SyncToAsync, by qualified name."""
    counted: Counter = Counter()
    original = sync.SyncToAsync.__call__

    def call(self, *args, **kwargs):
        target = getattr(self.func, "__func__", self.func)
        counted[f"{target.__module__}.{target.__qualname__}"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", call)
    return counted


def test_a_product_list_is_one_hop_with_its_count(client, settings, hops):
    settings.GRAPHQL_RESPONSE_CACHE = False
    seed_catalog(5)
    result = client.post(storefront(), {"first": 3}, operation_name="ProductList")
    products = result["data"]["products"]
    assert products["totalCount"] == 5 and len(products["edges"]) == 3
    graphql_hops = {name: n for name, n in hops.items()
                    if name.startswith(("schema.", "strawberry"))}
    # strawberry-django's own resolve, run whole in the one hop.
    assert graphql_hops == {
        "schema.connection_fields.OneHopConnectionExtension._resolve_and_fill": 1}, hops


def test_without_total_count_nothing_is_counted(client, settings, django_assert_num_queries):
    settings.GRAPHQL_RESPONSE_CACHE = False
    seed_catalog(3)
    query = "query { products(first: 2) { edges { node { name } } } }"
    with django_assert_num_queries(1):
        result = client.post(query)
    assert len(result["data"]["products"]["edges"]) == 2
