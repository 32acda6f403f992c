"""Product search. Full-text search is PostgreSQL's and is tested there only;
other databases get a case-insensitive match (tested in both)."""

import pytest

from apps.catalog.models import Product
from apps.catalog.search import refresh_search_vector
from apps.catalog.selectors import ProductFilters, product_list
from tests.contract import document
from tests.factories import make_product, make_variant

pytestmark = pytest.mark.django_db


def search(text: str, ordering=()) -> list[str]:
    queryset = product_list(user=None, filters=ProductFilters(search=text), ordering=ordering)
    return list(queryset.values_list("name", flat=True))


@pytest.fixture
def perfumes():
    vetiver = make_product(name="Vetiver Royale", description="A dry, smoky wood.",
                           attributes={"Notes": ["vetiver", "grapefruit"]})
    make_variant(product=vetiver, sku="VET-50")
    rose = make_product(name="Rose Absolue", description="Petals with a hint of vetiver.",
                        attributes={"Notes": ["rose", "pepper"]})
    make_variant(product=rose, sku="ROS-100")
    amber = make_product(name="Amber Night", description="Warm resins.",
                         attributes={"Notes": ["labdanum", "vanilla"]})
    make_variant(product=amber, sku="AMB-30")
    make_product(name="Hidden Vetiver", is_published=False)
    return {"vetiver": vetiver, "rose": rose, "amber": amber}


def test_search_matches_name_description_and_sku_anywhere(perfumes):
    assert set(search("vetiver")) == {"Vetiver Royale", "Rose Absolue"}
    assert search("resins") == ["Amber Night"]
    assert search("AMB-30") == ["Amber Night"]
    assert search("nothing-like-this") == []


def test_search_through_the_api_ranks_by_default(client, perfumes):
    variables = {"first": 10, "filters": {"search": "vetiver"}}
    data = client.execute(document("storefront/catalog.graphql"), variables,
                          operation_name="ProductList")
    # A hit in the name outranks one in the description, everywhere.
    assert [e["node"]["name"] for e in data["products"]["edges"]] == [
        "Vetiver Royale", "Rose Absolue"]


def test_blank_search_is_no_filter(perfumes):
    assert len(search("   ")) == 3


@pytest.mark.postgresql
def test_full_text_document_weights_and_stemming(perfumes):
    # Stemming: "petal" finds "Petals"; attribute values are in the document.
    assert search("petal") == ["Rose Absolue"]
    assert search("labdanum") == ["Amber Night"]
    assert search("ROS-100") == ["Rose Absolue"]
    # Name (A) beats description (C) on relevance.
    assert search("vetiver", ordering=[("relevance", True)]) == ["Vetiver Royale", "Rose Absolue"]
    assert search("vetiver", ordering=[("relevance", False)]) == ["Rose Absolue", "Vetiver Royale"]


@pytest.mark.postgresql
def test_websearch_syntax(perfumes):
    assert search("vetiver -rose") == ["Vetiver Royale"]
    assert set(search("amber or rose")) == {"Amber Night", "Rose Absolue"}
    assert search('"smoky wood"') == ["Vetiver Royale"]
    # Unbalanced quotes and stray operators are not errors: an open quote
    # reads as a phrase to the end, a lone operator as nothing.
    assert search('"vetiver', ordering=[("relevance", True)]) == ["Vetiver Royale", "Rose Absolue"]
    assert search("-") == []


@pytest.mark.postgresql
def test_document_is_stale_until_refreshed(perfumes, django_assert_num_queries):
    amber = perfumes["amber"]
    Product.objects.filter(pk=amber.pk).update(name="Oud Night")
    amber.variants.update(sku="OUD-30")
    assert search("oud") == []
    ids = [p.pk for p in perfumes.values()]
    with django_assert_num_queries(1):
        refresh_search_vector(product_ids=ids)
    assert search("oud") == ["Oud Night"]
    assert search("OUD-30") == ["Oud Night"]
    assert search("amber") == []


@pytest.mark.postgresql
def test_refresh_tolerates_odd_attribute_shapes():
    product = make_product(name="Odd", attributes={"Size": "large", "Count": 3, "Tags": []})
    refresh_search_vector(product_ids=[product.pk])
    assert search("large") == ["Odd"]


@pytest.mark.not_postgresql  # the fallback
def test_refresh_is_a_no_op_without_postgres(perfumes, django_assert_num_queries):
    with django_assert_num_queries(0):
        refresh_search_vector(product_ids=[perfumes["amber"].pk])
    assert Product.objects.filter(search_vector__isnull=False).count() == 0


def test_refresh_of_nothing_does_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        refresh_search_vector(product_ids=[])
