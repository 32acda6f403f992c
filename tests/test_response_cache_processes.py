"""The response cache across processes, through PostgreSQL and Redis as in
production: a change committed by another process (another web process, a
Celery worker) shows in this one's next read at once, and a checkout storm
there leaves this process's other entries in place."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.catalog import services as catalog
from apps.catalog.models import Product, ProductVariant
from apps.core.models import OutboxEvent
from apps.inventory import services as inventory
from apps.orders import tasks as order_tasks
from apps.orders.models import Order
from tests import contract
from tests.celery_worker import _running_worker, _worker  # noqa: F401 - fixtures
from tests.concurrency import in_processes
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import Client
from tests.factories import make_category, make_order, make_product, make_variant

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


def test_a_change_made_by_a_task_in_the_celery_worker_shows_here_at_once(worker):
    """Beat's expiry of unpaid orders, run by a real worker (tests/celery_worker.py):
    it gives an order's stock back in the worker's own transaction, and the
    worker's handlers make this process's entry of the page stale. Once the
    worker has told its change, the next read here is exact, with no timeout
    to wait out; the list, whose cards the change does not alter, stays."""
    green = make_product(name="Green", slug="green")
    variant = make_variant(product=green, stock=10)
    order = make_order(lines=[(variant, 4)], payment_status="PENDING", paid_with=None,
                       created_at=timezone.now() - timedelta(hours=1))
    read("ProductList", {"first": 10})
    page, _ = read("ProductDetail", {"slug": "green"})
    assert page["product"]["variants"][0]["quantityAvailable"] == 6
    assert read("ProductDetail", {"slug": "green"}) == (page, 0)

    order_tasks.expire_unpaid_orders.delay()
    worker.eventually(lambda: OutboxEvent.objects.filter(
        type="StockChanged", payload__variant_id=variant.pk, payload__available_after=10,
        sent_at__isnull=False).exists())
    assert Order.objects.get(pk=order.pk).status == "CANCELLED"
    page, ran = read("ProductDetail", {"slug": "green"})
    assert ran > 0 and page["product"]["variants"][0]["quantityAvailable"] == 10
    assert read("ProductList", {"first": 10})[1] == 0


@pytest.mark.django_db
def test_requests_share_the_processs_redis_connections():
    """Django keeps a cache object per context (each ASGI request is one);
    their connections come from one pool for the process, so a request
    opens no connection of its own, and their commands go through one
    redis-py client, not one made for each (apps.core.redis_cache)."""
    import threading

    from django.core.cache import caches

    seen: list[tuple[object, object, object]] = []

    def in_a_context() -> None:
        cache = caches["default"]
        cache.set("shared-client", len(seen))
        seen.append((cache, cache._cache._get_connection_pool(False),
                     cache._cache.get_client(write=True)))

    for _ in range(2):
        thread = threading.Thread(target=in_a_context)
        thread.start()
        thread.join()
    (first_cache, first_pool, first_client), (second_cache, second_pool, second_client) = seen
    assert first_cache is not second_cache
    assert first_pool is second_pool and first_client is second_client
    assert first_client.connection_pool is first_pool
    assert caches["default"].get_many(["nothing-here", "shared-client"]) == {"shared-client": 1}
