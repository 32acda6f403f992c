"""The optimizer's store remembered per operation (schema/optimizer.py):
worked out once, kept apart by the @skip/@include values that change the
selection, never kept when it holds prefetches (the viewer's querysets)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import strawberry_django.optimizer as strawberry_optimizer

import schema.optimizer as optimizer
from tests.test_catalog_queries import seed_catalog, storefront

pytestmark = pytest.mark.django_db


@pytest.fixture
def walks(monkeypatch) -> list:
    """Each walk of the selection strawberry-django's optimizer makes, by
    the model it starts from, whether ours or its own `optimize` starts it
    (the walk's calls of itself for relations are not counted)."""
    walked: list = []
    hints = optimizer._get_model_hints
    depth = [0]

    def counted(model, *args, **kwargs):
        if not depth[0]:
            walked.append(model.__name__)
        depth[0] += 1
        try:
            return hints(model, *args, **kwargs)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(optimizer, "_get_model_hints", counted)
    monkeypatch.setattr(strawberry_optimizer, "_get_model_hints", counted)
    monkeypatch.setattr(optimizer, "_STORES", optimizer.OrderedDict())
    return walked


@pytest.fixture(autouse=True)
def executed_every_time(settings) -> None:
    settings.GRAPHQL_RESPONSE_CACHE = False


def test_a_product_list_walks_its_selection_once(client, walks):
    seed_catalog(4)
    answers = [client.post(storefront(), {"first": 3}, operation_name="ProductList")
               for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["data"]["products"]["edges"][0]["node"]["priceRange"]
    assert walks == ["Product"]


def test_skip_and_include_values_each_have_their_store(client, walks):
    seed_catalog(2)
    query = """query ($withCategory: Boolean!) {
      products(first: 5) { edges { node { name category @include(if: $withCategory) { name } } } }
    }"""
    for with_category in (True, False, True, False):
        with CaptureQueriesContext(connection) as queries:
            result = client.post(query, {"withCategory": with_category})
        nodes = [edge["node"] for edge in result["data"]["products"]["edges"]]
        assert all(("category" in node) is with_category for node in nodes)
        page = queries.captured_queries[0]["sql"]
        assert ('"catalog_category"' in page) is with_category
    assert len(walks) == 2


def test_a_store_with_prefetches_is_worked_out_every_time(client, walks):
    seed_catalog(2)
    query = "query { products(first: 5) { edges { node { name variants { sku } } } } }"
    first = client.post(query)
    second = client.post(query)
    assert first == second and first["data"]["products"]["edges"][0]["node"]["variants"]
    assert walks.count("Product") == 2  # once a request, not once more by strawberry-django
    assert not optimizer._STORES
