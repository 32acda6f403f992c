"""Stock writes (stockAdjust, allocation), the low-stock list and alert."""

import pytest
from django.core import mail

from apps.accounts.permissions import Perm
from apps.core.errors import ErrorCode, ServiceError
from apps.core.models import OutboxEvent
from apps.inventory import services
from apps.inventory.models import Stock, StockMovement, Warehouse
# Here first; other tests still import them from this module.
from tests.concurrency import in_threads as _in_threads
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import make_user
from tests.factories import make_product, make_stock, make_variant, make_warehouse
from tests.test_catalog_admin import LOW_STOCK, STOCK_ADJUST, gid, refused


@pytest.fixture
def variant(db):
    return make_variant(product=make_product(name="Vetiver"), sku="VET-1", stock=10,
                        low_stock_threshold=3)


def stock_of(variant, warehouse=None) -> Stock:
    return Stock.objects.get(variant=variant,
                             warehouse=warehouse or Warehouse.objects.get(is_default=True))


# --- stock_adjust ------------------------------------------------------------------------


def test_stock_adjust_changes_on_hand_and_logs_who_and_why(variant, staff):
    stock = services.stock_adjust(actor=staff, variant=variant, delta=5, reason=" delivery ")
    assert (stock.quantity_on_hand, stock_of(variant).quantity_on_hand) == (15, 15)
    services.stock_adjust(actor=staff, variant=variant, delta=-4, reason="breakage",
                          reference="ticket:7")
    assert stock_of(variant).quantity_on_hand == 11
    latest, first = StockMovement.objects.filter(kind="adjustment")[:2]
    assert (first.quantity_delta, first.reason, first.actor) == (5, "delivery", staff)
    assert (latest.quantity_delta, latest.reason, latest.reference) == (-4, "breakage",
                                                                         "ticket:7")


def test_stock_adjust_needs_a_reason_and_a_change(variant):
    assert refused(services.stock_adjust, variant=variant, delta=1, reason="  ") == [
        ("reason", ErrorCode.REQUIRED)]
    assert refused(services.stock_adjust, variant=variant, delta=0, reason="x") == [
        ("delta", ErrorCode.INVALID)]
    assert refused(services.stock_adjust, variant=variant, delta=2**31 - 5, reason="x") == [
        ("delta", ErrorCode.INVALID)]


def test_on_hand_never_falls_below_allocated_or_zero(db):
    item = make_variant(product=make_product(), stock=10, allocated=6)
    for delta in (-5, -11):
        assert refused(services.stock_adjust, variant=item, delta=delta, reason="count") == [
            ("delta", ErrorCode.INSUFFICIENT_STOCK)]
    assert services.stock_adjust(actor=None, variant=item, delta=-4, reason="count").quantity_on_hand == 6
    assert StockMovement.objects.filter(kind="adjustment").count() == 1


def test_stock_adjust_in_another_warehouse_makes_its_row(variant):
    annex = make_warehouse(name="Annex")
    services.stock_adjust(actor=None, variant=variant, delta=2, reason="transfer",
                          warehouse=annex)
    assert (stock_of(variant, annex).quantity_on_hand, stock_of(variant).quantity_on_hand) == (2, 10)
    assert refused(services.stock_adjust, variant=variant, delta=-3, reason="x",
                   warehouse=annex) == [("delta", ErrorCode.INSUFFICIENT_STOCK)]


def test_allocate_takes_from_the_default_warehouse_first_and_deallocate_gives_back(variant):
    annex = make_warehouse()
    make_stock(variant=variant, quantity_on_hand=4, warehouse=annex)
    services.stock_allocate(variant=variant, quantity=12, reference="order:1")
    assert (stock_of(variant).quantity_allocated, stock_of(variant, annex).quantity_allocated) \
        == (10, 2)
    assert refused(services.stock_allocate, variant=variant, quantity=3) == [
        ("quantity", ErrorCode.INSUFFICIENT_STOCK)]
    services.stock_deallocate(variant=variant, quantity=3, reference="order:1")
    assert (stock_of(variant).quantity_allocated, stock_of(variant, annex).quantity_allocated) \
        == (9, 0)
    kinds = list(StockMovement.objects.values_list("kind", "allocated_delta"))
    assert sorted(kinds) == sorted([("allocation", 10), ("allocation", 2),
                                    ("deallocation", -2), ("deallocation", -1)])
    with pytest.raises(ServiceError):
        services.stock_deallocate(variant=variant, quantity=10)


# --- stockAdjust over GraphQL ---------------------------------------------------------------


def test_stock_adjust_mutation_returns_the_new_availability(variant, staff, staff_client):
    make_stock(variant=variant, quantity_on_hand=0, warehouse=make_warehouse())
    data = staff_client.execute(STOCK_ADJUST, {"variantId": gid("ProductVariant", variant.pk),
                                               "delta": -2, "reason": "stock-take"})
    assert data["stockAdjust"] == {"variant": {"id": gid("ProductVariant", variant.pk),
                                               "sku": "VET-1", "quantityAvailable": 8},
                                   "errors": []}
    assert StockMovement.objects.get(kind="adjustment").actor == staff

    annex = Warehouse.objects.get(is_default=False)
    data = staff_client.execute(STOCK_ADJUST, {"variantId": gid("ProductVariant", variant.pk),
                                               "delta": 5, "reason": "x",
                                               "warehouseId": gid("Warehouse", annex.pk)})
    assert data["stockAdjust"]["variant"]["quantityAvailable"] == 13


@pytest.mark.parametrize("variables, error", [
    ({"delta": -11, "reason": "x"}, ("delta", "INSUFFICIENT_STOCK")),
    ({"delta": 1, "reason": ""}, ("reason", "REQUIRED")),
    ({"delta": 1, "reason": "x", "warehouseId": gid("Warehouse", 987_654_321)},
     ("warehouseId", "NOT_FOUND")),
])
def test_stock_adjust_mutation_refusals(variant, staff_client, variables, error):
    data = staff_client.execute(STOCK_ADJUST, {"variantId": gid("ProductVariant", variant.pk),
                                               **variables})
    payload = data["stockAdjust"]
    assert payload["variant"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [error]
    assert stock_of(variant).quantity_on_hand == 10


def test_stock_adjust_of_a_deleted_product_is_not_found(db, staff_client):
    item = make_variant(product=make_product(deleted=True), stock=1)
    data = staff_client.execute(STOCK_ADJUST, {"variantId": gid("ProductVariant", item.pk),
                                               "delta": 1, "reason": "x"})
    assert data["stockAdjust"]["errors"][0]["code"] == "NOT_FOUND"


# --- Low stock ----------------------------------------------------------------------------------


def fell_low() -> int:
    return OutboxEvent.objects.filter(type="StockFellLow").count()


def test_low_stock_alert_emails_catalog_managers_once_the_threshold_is_crossed(
    variant, django_capture_on_commit_callbacks
):
    manager = make_user(perms=[Perm.MANAGE_PRODUCTS])
    make_user(perms=[Perm.MANAGE_ORDERS])  # staff, but not for the catalog
    make_user()  # a customer
    make_user(perms=[Perm.MANAGE_PRODUCTS], is_active=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.stock_adjust(actor=None, variant=variant, delta=-6, reason="sold")  # 4 > 3
    assert fell_low() == 0 and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.stock_adjust(actor=None, variant=variant, delta=-1, reason="sold")  # 3 <= 3
    assert len(callbacks) == 1  # StockChanged and StockFellLow, published together
    assert fell_low() == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert "VET-1" in mail.outbox[0].subject and "3 available" in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.stock_adjust(actor=None, variant=variant, delta=-1, reason="sold")  # still low
        services.stock_allocate(variant=variant, quantity=1)
    assert fell_low() == 1 and len(mail.outbox) == 1


def test_low_stock_alert_also_follows_allocation(variant, django_capture_on_commit_callbacks):
    make_user(perms=[Perm.MANAGE_PRODUCTS])
    with django_capture_on_commit_callbacks(execute=True):
        services.stock_allocate(variant=variant, quantity=7)
    assert len(mail.outbox) == 1


def test_low_stock_alert_is_not_sent_when_the_change_is_rolled_back(
    variant, django_capture_on_commit_callbacks
):
    from django.db import transaction

    make_user(perms=[Perm.MANAGE_PRODUCTS])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.stock_adjust(actor=None, variant=variant, delta=-9, reason="x")
            raise RuntimeError
    assert callbacks == [] and mail.outbox == []


def test_low_stock_variants_lists_the_emptiest_first(db, staff_client):
    live = make_product(name="Live")
    make_variant(product=live, sku="OK", stock=10, low_stock_threshold=3)
    make_variant(product=live, sku="LOW-2", stock=2, low_stock_threshold=3)
    make_variant(product=live, sku="EDGE-3", stock=5, allocated=2, low_stock_threshold=3)
    make_variant(product=live, sku="NONE", low_stock_threshold=0)  # no stock row at all
    make_variant(product=make_product(deleted=True), sku="GONE", stock=0)
    data = staff_client.execute(LOW_STOCK, {"first": 10})["lowStockVariants"]
    assert data["totalCount"] == 3
    nodes = [edge["node"] for edge in data["edges"]]
    assert [(n["sku"], n["quantityAvailable"]) for n in nodes] == [
        ("NONE", 0), ("LOW-2", 2), ("EDGE-3", 3)]
    assert nodes[0]["product"]["name"] == "Live" and nodes[2]["lowStockThreshold"] == 3


@pytest.mark.parametrize("first", [2, 10])
def test_low_stock_variants_query_count_does_not_grow_with_the_page(
    db, staff_client, django_assert_num_queries, first
):
    for n in range(12):
        make_variant(product=make_product(), stock=n % 3, low_stock_threshold=5)
    # The user and their permissions (3), the page with its total (1), the
    # availability of the page's variants (1, batched); products are joined.
    with django_assert_num_queries(5):
        data = staff_client.execute(LOW_STOCK, {"first": first})["lowStockVariants"]
    assert len(data["edges"]) == first and data["pageInfo"]["hasNextPage"] is True
    assert all(edge["node"]["product"]["name"] for edge in data["edges"])


def test_low_stock_variants_pages_with_after(db, staff_client):
    for n in range(5):
        make_variant(product=make_product(), sku=f"P-{n}", stock=n, low_stock_threshold=5)
    first = staff_client.execute(LOW_STOCK, {"first": 3})["lowStockVariants"]
    rest = staff_client.execute(LOW_STOCK, {"first": 3, "after": first["pageInfo"]["endCursor"]})
    skus = [e["node"]["sku"] for e in first["edges"] + rest["lowStockVariants"]["edges"]]
    assert skus == ["P-0", "P-1", "P-2", "P-3", "P-4"]


# --- Concurrency (PostgreSQL row locks) ------------------------------------------------------------



@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_concurrent_adjustments_lose_no_update():
    item = make_variant(product=make_product(), stock=0, low_stock_threshold=0)

    def add_five(index):
        for _ in range(5):
            services.stock_adjust(actor=None, variant=item, delta=1, reason=f"thread {index}")

    assert _in_threads(8, add_five) == [None] * 8
    assert stock_of(item).quantity_on_hand == 40
    assert StockMovement.objects.filter(kind="adjustment").count() == 40


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_concurrent_removals_never_go_below_the_floor():
    item = make_variant(product=make_product(), stock=5, low_stock_threshold=0)

    def remove_one(index):
        return services.stock_adjust(actor=None, variant=item, delta=-1, reason="sold").quantity_on_hand

    results = _in_threads(8, remove_one)
    refusals = [r for r in results if isinstance(r, ServiceError)]
    assert len(refusals) == 3
    assert all(r.errors[0].code == ErrorCode.INSUFFICIENT_STOCK for r in refusals)
    assert stock_of(item).quantity_on_hand == 0


# --- Warehouses ------------------------------------------------------------------------------


def test_warehouse_services_keep_exactly_one_default(db):
    main = Warehouse.objects.get(is_default=True)
    annex = services.warehouse_create(actor=None, name=" Annex ")
    assert (annex.slug, annex.is_default) == ("annex", False)
    services.warehouse_update(actor=None, warehouse=annex, is_default=True)
    assert list(Warehouse.objects.filter(is_default=True)) == [annex]
    main.refresh_from_db()
    assert not main.is_default
    assert refused(services.warehouse_update, warehouse=annex, is_default=False) == [
        ("is_default", ErrorCode.INVALID)]
    assert refused(services.warehouse_create, name="", slug="main") == [
        ("name", ErrorCode.REQUIRED), ("slug", ErrorCode.UNIQUE)]
    assert refused(services.warehouse_create, name="Other", slug="annex") == [
        ("slug", ErrorCode.UNIQUE)]
