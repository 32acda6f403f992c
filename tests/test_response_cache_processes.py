"""The response cache across processes, through PostgreSQL and Redis as in
production: a change committed by another process (another web process, a
Celery worker) shows in this one's next read at once, and a checkout storm
there leaves this process's other entries in place."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog import services as catalog
from apps.catalog.models import Product, ProductVariant
from apps.inventory import services as inventory
from tests import contract
from tests.concurrency import in_processes
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import Client
from tests.factories import make_category, make_product, make_variant

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.redis,
    pytest.mark.usefixtures("keeps_default_warehouse"),
]


def read(operation: str, variables: dict) -> tuple[dict, int]:
    with CaptureQueriesContext(connection) as queries:
        data = Client().execute(contract.document("storefront/catalog.graphql"), variables,
                                operation_name=operation)
    return data, len(queries)


def rename_there(index: int, product_id: int, name: str) -> str:
    """In another process: rename the product through the catalog's service."""
    catalog.product_update(actor=None, product=Product.objects.get(pk=product_id), name=name)
    return name


def sell_there(index: int, variant_id: int, times: int) -> int:
    """In another process: `times` checkouts of one each (allocations, as
    checkoutComplete makes), none the last."""
    variant = ProductVariant.objects.get(pk=variant_id)
    for _ in range(times):
        inventory.stock_allocate(variant=variant, quantity=1, reference="storm")
    return times


def test_a_change_in_another_process_shows_here_at_once(transactional_db):
    green = make_product(name="Green", slug="green", category=make_category())
    make_variant(product=green, stock=10)
    read("ProductList", {"first": 10})
    assert read("ProductList", {"first": 10})[1] == 0
    assert in_processes(1, "tests.test_response_cache_processes:rename_there",
                        green.pk, "Sencha") == ["Sencha"]
    data, ran = read("ProductList", {"first": 10})
    assert ran > 0 and data["products"]["edges"][0]["node"]["name"] == "Sencha"


def test_a_storm_in_another_process_leaves_the_other_entries(transactional_db):
    green = make_product(name="Green", slug="green")
    black = make_product(name="Black", slug="black")
    sold = make_variant(product=green, stock=50)
    make_variant(product=black, stock=50)
    for slug in ("green", "black"):
        read("ProductDetail", {"slug": slug})
    read("ProductList", {"first": 10})
    assert in_processes(2, "tests.test_response_cache_processes:sell_there",
                        sold.pk, 10) == [10, 10]
    assert read("ProductDetail", {"slug": "black"})[1] == 0
    assert read("ProductList", {"first": 10})[1] == 0
    detail, ran = read("ProductDetail", {"slug": "green"})
    assert ran > 0 and detail["product"]["variants"][0]["quantityAvailable"] == 30
