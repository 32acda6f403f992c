"""Stock reads. "Available" is always on hand minus allocated, summed over
warehouses: what can still be promised to a new order.

Inventory keeps stock per variant and imports nothing of the catalog: it
knows variants by id and through Stock's foreign key (apps.catalog composes
stock into products; see .importlinter)."""

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models import F, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from apps.accounts.permissions import Perm, staff_has_perm
from apps.core.errors import NotFound, ServiceError
from apps.inventory.models import Stock, StockMovement, Warehouse, variant_model


def _catalog_managers_only(user, queryset: QuerySet) -> QuerySet:
    return queryset if staff_has_perm(user, Perm.MANAGE_PRODUCTS) else queryset.none()


def warehouses_visible_to(
    *, user, queryset: QuerySet[Warehouse] | None = None
) -> QuerySet[Warehouse]:
    """Where stock is kept is the shop's business: catalog managers see every
    warehouse; to anyone else none exist."""
    return _catalog_managers_only(user, Warehouse.objects.all() if queryset is None else queryset)


def stock_movements_visible_to(
    *, user, queryset: QuerySet[StockMovement] | None = None
) -> QuerySet[StockMovement]:
    """The audit trail, like the warehouses: catalog managers only."""
    return _catalog_managers_only(
        user, StockMovement.objects.all() if queryset is None else queryset
    )


def available_sum(prefix: str = "") -> Coalesce:
    """Sum of available stock over the rows reached through `prefix`
    (e.g. "stocks__" from a variant); 0 when there are none."""
    return Coalesce(
        Sum(F(f"{prefix}quantity_on_hand") - F(f"{prefix}quantity_allocated")),
        Value(0),
        output_field=IntegerField(),
    )


def quantity_available_by_variant(*, variant_ids: Iterable[int]) -> dict[int, int]:
    """One query for many variants; a variant without stock rows has 0."""
    ids = list(variant_ids)
    rows = (
        Stock.objects.filter(variant_id__in=ids)
        .order_by()
        .values("variant_id")
        .annotate(available=available_sum())
        .values_list("variant_id", "available")
    )
    found = dict(rows)
    return {variant_id: max(found.get(variant_id, 0), 0) for variant_id in ids}


def variant_quantity_available(*, variant_id: int) -> int:
    return quantity_available_by_variant(variant_ids=[variant_id])[variant_id]


def stock_movements(
    *, variant_id: int | None = None, warehouse_id: int | None = None,
    kind: str | None = None, since: datetime | None = None,
) -> QuerySet[StockMovement]:
    """The audit trail, newest first, narrowed by what is given.

    A variant or warehouse that does not exist is NOT_FOUND rather than an
    empty trail: "no movements" must mean the stock never changed. Variants of
    deleted products keep their history and can still be asked about.
    """
    movements = StockMovement.objects.all()
    if variant_id is not None:
        if not variant_model()._default_manager.filter(pk=variant_id).exists():
            raise NotFound("Unknown variant.", field="variant_id")
        movements = movements.filter(stock__variant_id=variant_id)
    if warehouse_id is not None:
        if not Warehouse.objects.filter(pk=warehouse_id).exists():
            raise NotFound("Unknown warehouse.", field="warehouse_id")
        movements = movements.filter(stock__warehouse_id=warehouse_id)
    if kind is not None:
        movements = movements.filter(kind=kind)
    if since is not None:
        try:
            since = since.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+14:00 is before year 1 in UTC
            raise ServiceError("`since` is out of range.", field="since") from None
        movements = movements.filter(created_at__gte=since)
    return movements.order_by("-created_at", "-id")
