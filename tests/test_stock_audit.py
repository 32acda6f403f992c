"""The stock audit trail (`stockMovements`) and a variant's stock per
warehouse (`ProductVariant.stocks`): catalog managers only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.permissions import Perm
from apps.core.errors import NotFound
from apps.inventory import selectors, services
from apps.inventory.models import StockMovement, Warehouse
from tests.conftest import Client, client_for, error_codes, make_user
from tests.factories import make_product, make_stock, make_variant, make_warehouse
from tests.test_catalog_admin import STOCK_ADJUST, gid

MOVEMENTS = """query($first: Int, $after: String, $variantId: ID, $warehouseId: ID,
                     $kind: StockMovementKind, $since: DateTime) {
  stockMovements(first: $first, after: $after, variantId: $variantId,
                 warehouseId: $warehouseId, kind: $kind, since: $since) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node {
      id kind quantityDelta allocatedDelta reason reference createdAt actorEmail
      warehouse { id name }
      variant { id sku product { name } }
    } } } }"""

ADMIN_PRODUCTS_WITH_STOCK = """query($first: Int!) {
  products(first: $first) {
    totalCount
    edges { node { id name variants { id sku quantityAvailable
      stocks { quantity quantityAllocated quantityAvailable warehouse { id name isDefault } }
    } } } } }"""

VARIANT_STOCKS = """query($slug: String!) {
  product(slug: $slug) { variants { sku stocks { quantity warehouse { name } } } } }"""


def movements(client, **variables) -> list[dict]:
    data = client.execute(MOVEMENTS, {"first": 100, **variables})
    return [edge["node"] for edge in data["stockMovements"]["edges"]]


@pytest.fixture
def variant(db):
    return make_variant(product=make_product(name="Vetiver"), sku="VET-1")


# --- The trail ----------------------------------------------------------------------------------


def test_stock_adjust_shows_up_with_actor_and_reason(variant, staff, staff_client):
    services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=10, reference="seed")
    annex = make_warehouse(name="Annex")
    for delta, reason, warehouse in ((-2, "breakage", None), (5, "delivery", annex)):
        result = staff_client.execute(STOCK_ADJUST, {
            "variantId": gid("ProductVariant", variant.pk), "delta": delta, "reason": reason,
            "warehouseId": gid("Warehouse", warehouse.pk) if warehouse else None})
        assert result["stockAdjust"]["errors"] == []

    newest, middle, oldest = movements(staff_client)
    default = Warehouse.objects.get(is_default=True)
    assert {k: newest[k] for k in ("kind", "quantityDelta", "allocatedDelta", "reason",
                                   "reference", "actorEmail", "warehouse", "variant")} == {
        "kind": "ADJUSTMENT", "quantityDelta": 5, "allocatedDelta": 0, "reason": "delivery",
        "reference": "", "actorEmail": staff.email,
        "warehouse": {"id": gid("Warehouse", annex.pk), "name": "Annex"},
        "variant": {"id": gid("ProductVariant", variant.pk), "sku": "VET-1",
                    "product": {"name": "Vetiver"}},
    }
    assert (middle["kind"], middle["quantityDelta"], middle["reason"], middle["actorEmail"],
            middle["warehouse"]["name"]) == ("ADJUSTMENT", -2, "breakage", staff.email,
                                             default.name)
    assert (oldest["kind"], oldest["quantityDelta"], oldest["reference"],
            oldest["actorEmail"]) == ("INITIAL", 10, "seed", None)
    assert newest["id"] == gid("StockMovement", StockMovement.objects.first().pk)


def test_allocation_moves_show_allocated_deltas(variant, staff_client):
    services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=4)
    services.stock_allocate(variant=variant, quantity=3, reference="order:7")
    services.stock_deallocate(variant=variant, quantity=1, reference="order:7")
    assert [(m["kind"], m["quantityDelta"], m["allocatedDelta"], m["reference"])
            for m in movements(staff_client)] == [
        ("DEALLOCATION", 0, -1, "order:7"), ("ALLOCATION", 0, 3, "order:7"),
        ("INITIAL", 4, 0, ""),
    ]


def test_a_deleted_or_unpublished_products_history_still_reads_whole(db, staff_client):
    gone = make_variant(product=make_product(name="Gone", deleted=True), sku="GONE")
    draft = make_variant(product=make_product(name="Draft", is_published=False), sku="DRAFT")
    for item in (gone, draft):
        services.stock_set_initial(actor=None, variant=item, quantity_on_hand=1)
    assert [(m["variant"]["sku"], m["variant"]["product"]["name"])
            for m in movements(staff_client)] == [("DRAFT", "Draft"), ("GONE", "Gone")]
    only_gone = movements(staff_client, variantId=gid("ProductVariant", gone.pk))
    assert [m["variant"]["sku"] for m in only_gone] == ["GONE"]


def test_filters_narrow_the_trail(variant, staff, staff_client):
    other = make_variant(product=make_product(), sku="OTHER")
    annex = make_warehouse(name="Annex")
    services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=5)
    services.stock_set_initial(actor=None, variant=other, quantity_on_hand=5, warehouse=annex)
    services.stock_adjust(actor=staff, variant=variant, delta=1, reason="a", warehouse=annex)
    services.stock_adjust(actor=staff, variant=other, delta=1, reason="b")
    StockMovement.objects.filter(kind="initial").update(
        created_at=timezone.now() - timedelta(days=3))

    def shown(**variables):
        return [(m["variant"]["sku"], m["kind"], m["warehouse"]["name"])
                for m in movements(staff_client, **variables)]

    default = Warehouse.objects.get(is_default=True).name
    assert shown(variantId=gid("ProductVariant", variant.pk)) == [
        ("VET-1", "ADJUSTMENT", "Annex"), ("VET-1", "INITIAL", default)]
    assert shown(warehouseId=gid("Warehouse", annex.pk)) == [
        ("VET-1", "ADJUSTMENT", "Annex"), ("OTHER", "INITIAL", "Annex")]
    assert shown(kind="INITIAL") == [("OTHER", "INITIAL", "Annex"), ("VET-1", "INITIAL", default)]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert shown(since=since) == [("OTHER", "ADJUSTMENT", default), ("VET-1", "ADJUSTMENT", "Annex")]
    assert shown(variantId=gid("ProductVariant", other.pk), warehouseId=gid("Warehouse", annex.pk),
                 kind="INITIAL") == [("OTHER", "INITIAL", "Annex")]
    assert shown(variantId=gid("ProductVariant", other.pk), kind="RETURN") == []


def test_pages_follow_each_other_newest_first(variant, staff_client):
    for n in range(1, 6):
        services.stock_adjust(actor=None, variant=variant, delta=n, reason=f"r{n}")
    first = staff_client.execute(MOVEMENTS, {"first": 2})["stockMovements"]
    rest = staff_client.execute(MOVEMENTS, {"first": 10, "after": first["pageInfo"]["endCursor"]})
    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"]
    assert [e["node"]["reason"] for e in first["edges"] + rest["stockMovements"]["edges"]] == [
        "r5", "r4", "r3", "r2", "r1"]


def test_selector_refuses_unknown_variant_and_warehouse(variant):
    services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=2)
    with pytest.raises(NotFound):
        selectors.stock_movements(variant_id=987_654_321)
    with pytest.raises(NotFound):
        selectors.stock_movements(warehouse_id=987_654_321)
    assert selectors.stock_movements(variant_id=variant.pk).get().quantity_delta == 2
    assert not selectors.stock_movements(kind="return").exists()


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("variables", [
    {"variantId": gid("ProductVariant", 987_654_321)},
    {"variantId": gid("Product", 1)},
    {"variantId": "not-a-global-id"},
    {"variantId": ""},
    {"variantId": gid("ProductVariant", 2**63)},
    {"variantId": gid("ProductVariant", -1)},
    {"warehouseId": gid("Warehouse", 987_654_321)},
    {"warehouseId": "\x00%%"},
    {"first": 101},
    {"first": -1},
])
def test_unknown_and_malformed_arguments_are_bad_user_input(variant, staff_client, variables):
    result = staff_client.post(MOVEMENTS, {"first": 10, **variables})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    # A NUL in a variable is refused before execution: no `data` at all.
    assert result.get("data") is None


@pytest.mark.parametrize("variables", [
    {"kind": "LOST"},
    {"kind": "adjustment"},
    {"since": "2026-02-30T00:00:00Z"},
    {"since": "yesterday"},
    {"first": 2**40},
])
def test_values_outside_the_types_are_refused_before_running(variant, staff_client, variables):
    result = staff_client.post(MOVEMENTS, {"first": 10, **variables})
    assert result["errors"] and "INTERNAL_SERVER_ERROR" not in error_codes(result)
    assert result.get("data") is None


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                   "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_extreme_dates_are_an_answer_not_a_500(variant, staff_client, since):
    services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=1)
    result = staff_client.post(MOVEMENTS, {"first": 10, "since": since})
    assert "INTERNAL_SERVER_ERROR" not in error_codes(result), result
    if not result.get("errors"):
        expected = 1 if since.startswith("0001") else 0
        assert result["data"]["stockMovements"]["totalCount"] == expected


# --- Who may read it ----------------------------------------------------------------------------

OUTSIDERS = {
    "anonymous": (lambda: Client(), "UNAUTHENTICATED"),
    "customer": (lambda: client_for(make_user()), "FORBIDDEN"),
    "other staff": (lambda: client_for(make_user(perms=[Perm.MANAGE_ORDERS])), "FORBIDDEN"),
}


@pytest.mark.parametrize("who", sorted(OUTSIDERS))
def test_the_trail_is_for_catalog_managers_only(variant, who):
    services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=3)
    make_client, code = OUTSIDERS[who]
    result = make_client().post(MOVEMENTS, {"first": 10})
    assert error_codes(result) == [code]
    assert result["data"] is None


@pytest.mark.parametrize("who", sorted(OUTSIDERS))
def test_stocks_are_for_catalog_managers_only(variant, who):
    make_stock(variant=variant, quantity_on_hand=3)
    make_client, code = OUTSIDERS[who]
    result = make_client().post(VARIANT_STOCKS, {"slug": variant.product.slug})
    assert error_codes(result) == [code]
    assert result["errors"][0]["path"] == ["product", "variants", 0, "stocks"]
    assert result["data"] == {"product": None}


def test_a_movement_by_node_id_is_null_to_anyone_else(variant, staff_client):
    services.stock_set_initial(actor=None, variant=variant, quantity_on_hand=3)
    query = """query($id: ID!) { node(id: $id) { ... on StockMovement { quantityDelta } } }"""
    node_id = gid("StockMovement", StockMovement.objects.get().pk)
    assert staff_client.execute(query, {"id": node_id}) == {"node": {"quantityDelta": 3}}
    assert client_for(make_user()).execute(query, {"id": node_id}) == {"node": None}
    assert Client().execute(query, {"id": node_id}) == {"node": None}


# --- Stock per warehouse --------------------------------------------------------------------------


def test_stocks_per_warehouse_default_first(variant, staff_client):
    make_stock(variant=variant, quantity_on_hand=3, allocated=1, warehouse=make_warehouse(name="Zeta"))
    make_stock(variant=variant, quantity_on_hand=10, allocated=4)
    make_stock(variant=variant, quantity_on_hand=2, warehouse=make_warehouse(name="Alpha"))
    data = staff_client.execute(ADMIN_PRODUCTS_WITH_STOCK, {"first": 10})
    (variant_data,) = data["products"]["edges"][0]["node"]["variants"]
    assert variant_data["quantityAvailable"] == 10
    default = Warehouse.objects.get(is_default=True).name
    assert [(s["warehouse"]["name"], s["quantity"], s["quantityAllocated"], s["quantityAvailable"])
            for s in variant_data["stocks"]] == [
        (default, 10, 4, 6), ("Alpha", 2, 0, 2), ("Zeta", 3, 1, 2)]


def test_stocks_of_a_variant_without_stock_is_empty(variant, staff_client):
    data = staff_client.execute(VARIANT_STOCKS, {"slug": variant.product.slug})
    assert data["product"]["variants"] == [{"sku": "VET-1", "stocks": []}]


# --- Query counts -------------------------------------------------------------------------------


def seed_movements(size: int) -> None:
    annex = make_warehouse(name="Annex")
    staff = make_user(perms=[Perm.MANAGE_PRODUCTS])
    for i in range(size):
        item = make_variant(product=make_product(is_published=i % 2 == 0, deleted=i % 5 == 4))
        warehouse = annex if i % 2 else None
        services.stock_set_initial(actor=None, variant=item, quantity_on_hand=5, warehouse=warehouse)
        services.stock_adjust(actor=staff, variant=item, delta=-1, reason="count",
                              warehouse=warehouse)


# Auth (user and its two permission look-ups), the page with its total count,
# the page's variants with their products (one loader).
MOVEMENT_QUERIES = 5


@pytest.mark.parametrize("size", [3, 12])
@pytest.mark.parametrize("first", [5, 100])
def test_the_trail_costs_the_same_whatever_the_page(
    staff_client, django_assert_num_queries, size, first
):
    seed_movements(size)
    with django_assert_num_queries(MOVEMENT_QUERIES):
        data = staff_client.execute(MOVEMENTS, {"first": first})
    assert data["stockMovements"]["totalCount"] == 2 * size
    assert len(data["stockMovements"]["edges"]) == min(2 * size, first)


def seed_stocked_products(size: int) -> None:
    annex = make_warehouse(name="Annex")
    for i in range(size):
        product = make_product()
        for j in range(2):
            item = make_variant(product=product, stock=5 + j)
            if (i + j) % 2:
                make_stock(variant=item, quantity_on_hand=1, warehouse=annex)


# Auth (user and its two permission look-ups), the products, their capped
# total count (a query of its own since keyset pages), their variants, the
# variants' stocks with their warehouses, quantityAvailable's loader.
ADMIN_STOCK_QUERIES = 8


# first: 100 of products with every variant's stocks is over GRAPHQL_MAX_COST
# (100 products x 20 variants x 5 stocks, as assumed); 20 still holds all 12.
@pytest.mark.parametrize("size", [3, 12])
@pytest.mark.parametrize("first", [5, 20])
def test_listing_variant_stocks_costs_the_same(
    staff_client, django_assert_num_queries, size, first
):
    seed_stocked_products(size)
    with django_assert_num_queries(ADMIN_STOCK_QUERIES):
        data = staff_client.execute(ADMIN_PRODUCTS_WITH_STOCK, {"first": first})
    assert data["products"]["totalCount"] == size
    stocks = [s for e in data["products"]["edges"] for v in e["node"]["variants"]
              for s in v["stocks"]]
    assert len(stocks) == 3 * min(size, first)  # each product: two default rows, one annex


def test_node_shows_a_warehouse_to_catalog_managers_only(client, customer_client, staff_client):
    from strawberry.relay import to_base64

    from apps.inventory.models import Warehouse

    warehouse_id = to_base64("Warehouse", Warehouse.objects.get(is_default=True).pk)
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert client.execute(query, {"id": warehouse_id}) == {"node": None}
    assert customer_client.execute(query, {"id": warehouse_id}) == {"node": None}
    assert staff_client.execute(query, {"id": warehouse_id}) == {"node": {"id": warehouse_id}}
