"""Stock writes. Every change of on-hand or allocated stock goes through here,
locks its Stock row, and leaves a StockMovement behind, so the audit trail
always adds up to the current quantities.

The floor rule: on hand may never fall below what is allocated to orders (and
so never below zero). A change that would break it is refused with
INSUFFICIENT_STOCK, the same code the storefront gets when it asks for more
than is available: in both cases there is not enough stock to do it.
"""

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from apps.core import events
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import (
    Problems,
    chosen_slug,
    clean_text,
    max_length,
    max_value,
    reject_unknown,
    unique_slug,
)
from apps.inventory.models import Stock, StockedVariant, StockMovement, Warehouse
from apps.inventory.selectors import variant_quantity_available



def default_warehouse() -> Warehouse:
    warehouse = Warehouse.objects.filter(is_default=True).first()
    if warehouse is None:
        # The migration makes it; a deleted one is recreated rather than
        # failing every stock write.
        warehouse, _ = Warehouse.objects.get_or_create(
            slug="main", defaults={"name": "Main warehouse", "is_default": True}
        )
    return warehouse


def _keep_variant(stock: Stock, variant: StockedVariant) -> None:
    # The caller's variant on the row, so that messages and the low-stock
    # check read it without a query. setattr: to the type checker the foreign
    # key holds a catalog.ProductVariant, which inventory does not import.
    setattr(stock, "variant", variant)  # noqa: B010


def _locked_stock(*, variant: StockedVariant, warehouse: Warehouse) -> Stock:
    """The variant's Stock row in the warehouse, locked until the transaction
    ends; made (empty) when the variant has none there yet."""
    locked = Stock.objects.select_for_update().filter(variant_id=variant.pk, warehouse=warehouse)
    stock = locked.first()
    if stock is None:
        try:
            with transaction.atomic():
                Stock.objects.create(variant_id=variant.pk, warehouse=warehouse)
        except IntegrityError:
            pass  # Made by a concurrent writer in the meantime; lock theirs.
        stock = locked.get()
    _keep_variant(stock, variant)
    return stock


def _record(
    *, stock: Stock, kind: str, quantity_delta: int = 0, allocated_delta: int = 0,
    actor=None, reason: str = "", reference: str = "",
) -> None:
    """Apply a change to a locked stock row, log it, and publish StockChanged
    when it changes the variant's availability (not for a new variant's first
    stock: its ProductCreated or ProductChanged tells of it), StockFellLow
    when it takes it down to its threshold, and VariantBackInStock when it
    takes it from none to some.

    It runs under checkout's lock, so the events are one INSERT."""
    variant = stock.variant
    if stock.quantity_on_hand + quantity_delta < stock.quantity_allocated + allocated_delta:
        raise ServiceError(
            f"Only {stock.quantity_available} of {variant.sku} are free to change "
            f"({stock.quantity_on_hand} on hand, {stock.quantity_allocated} allocated).",
            code=ErrorCode.INSUFFICIENT_STOCK,
            field="delta" if allocated_delta == 0 else "quantity",
        )
    most = max_value(Stock, "quantity_on_hand")
    if stock.quantity_on_hand + quantity_delta > most:
        raise ServiceError(f"At most {most} can be on hand.", field="delta")
    if stock.quantity_allocated + allocated_delta < 0:
        raise ServiceError(
            f"Only {stock.quantity_allocated} of {variant.sku} are allocated.",
            code=ErrorCode.INVALID,
            field="quantity",
        )
    before = variant_quantity_available(variant_id=variant.pk)
    stock.quantity_on_hand += quantity_delta
    stock.quantity_allocated += allocated_delta
    stock.save(update_fields=["quantity_on_hand", "quantity_allocated"])
    StockMovement.objects.create(
        stock=stock, kind=kind, quantity_delta=quantity_delta, allocated_delta=allocated_delta,
        actor=actor, reason=reason, reference=reference,
    )
    after = before + quantity_delta - allocated_delta
    threshold = variant.low_stock_threshold
    told: list[events.Event] = []
    if before != after and kind != StockMovement.Kind.INITIAL:
        told.append(events.StockChanged(variant_id=variant.pk, product_id=variant.product_id,
                                        available_before=before, available_after=after))
    if before > threshold >= after:
        told.append(events.StockFellLow(variant_id=variant.pk))
    if before <= 0 < after and kind != StockMovement.Kind.INITIAL:
        told.append(events.VariantBackInStock(variant_id=variant.pk))
    events.publish(*told)


@transaction.atomic
def stock_set_initial(
    *, actor, variant: StockedVariant, quantity_on_hand: int, warehouse: Warehouse | None = None,
    kind: str = StockMovement.Kind.INITIAL, reference: str = "", reason: str = "",
) -> Stock:
    """Give a new variant its first stock (kind INITIAL, or IMPORT from a CSV).

    The row is made even for zero, so the variant has a place to be adjusted
    in; a movement is logged only for a real quantity.
    """
    if quantity_on_hand < 0:
        raise ServiceError("Stock must not be negative.", field="stock")
    stock = _locked_stock(variant=variant, warehouse=warehouse or default_warehouse())
    if quantity_on_hand:
        _record(stock=stock, kind=kind, quantity_delta=quantity_on_hand, actor=actor,
                reason=reason, reference=reference)
    return stock


@transaction.atomic
def stock_adjust(
    *, actor, variant: StockedVariant, delta: int, reason: str,
    warehouse: Warehouse | None = None, kind: str = StockMovement.Kind.ADJUSTMENT,
    reference: str = "",
) -> Stock:
    """Count stock in or out by hand (a delivery, breakage, a stock-take).

    The reason is required: it is what the audit trail is for.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Say why the stock changes.", code=ErrorCode.REQUIRED, field="reason")
    if delta == 0:
        raise ServiceError("The change must not be zero.", field="delta")
    stock = _locked_stock(variant=variant, warehouse=warehouse or default_warehouse())
    _record(stock=stock, kind=kind, quantity_delta=delta, actor=actor, reason=reason,
            reference=reference)
    return stock


def _default_first(stock: Stock) -> tuple[bool, int]:
    """The order stock is taken in: the default warehouse, then the others."""
    return (not stock.warehouse.is_default, stock.warehouse_id)


def _locked_stocks(variant: StockedVariant) -> list[Stock]:
    """All of the variant's stock rows, locked, the default warehouse first.

    Locked by warehouse id, the order every writer of several variants' stock
    follows (variant by variant in id order, each by warehouse): two such
    writers cannot deadlock. The default warehouse goes first afterwards."""
    stocks = list(
        Stock.objects.select_for_update(of=("self",))
        .filter(variant_id=variant.pk)
        .select_related("warehouse")
        .order_by("warehouse_id")
    )
    for stock in stocks:
        _keep_variant(stock, variant)
    return sorted(stocks, key=_default_first)


# A variant, the quantity it needs, and the field to name when it is short.
Need = tuple[StockedVariant, int, str]


def _allocate(needs: dict[int, Need], *, actor: Any, reference: str) -> None:
    """Lock the stock rows of every variant in `needs` (keyed by variant id)
    in one SELECT ... FOR UPDATE ordered by variant id, then warehouse, and
    allocate each need from the default warehouse first, all or nothing.

    Every allocation locks in that one order, so two checkouts that share
    variants queue for the rows instead of deadlocking on each other."""
    rows = (Stock.objects.select_for_update(of=("self",)).filter(variant_id__in=list(needs))
            .select_related("warehouse").order_by("variant_id", "warehouse_id"))
    stocks: dict[int, list[Stock]] = {variant_id: [] for variant_id in needs}
    for stock in rows:
        _keep_variant(stock, needs[stock.variant_id][0])
        stocks[stock.variant_id].append(stock)
    problems = Problems()
    for variant_id, (variant, quantity, field) in needs.items():
        available = sum(stock.quantity_available for stock in stocks[variant_id])
        if available < quantity:
            problems.add(field, f"Only {max(available, 0)} of {variant.sku} are available.",
                         ErrorCode.INSUFFICIENT_STOCK)
    problems.raise_any()
    for variant_id, (_, quantity, _) in needs.items():
        remaining = quantity
        for stock in sorted(stocks[variant_id], key=_default_first):
            take = min(remaining, stock.quantity_available)
            if take > 0:
                _record(stock=stock, kind=StockMovement.Kind.ALLOCATION, allocated_delta=take,
                        actor=actor, reference=reference)
                remaining -= take
            if remaining == 0:
                break


@transaction.atomic
def stock_allocate(*, actor=None, variant: StockedVariant, quantity: int, reference: str = "") -> None:
    """Promise `quantity` to an order, from the default warehouse first.

    All or nothing: not enough available over every warehouse is
    INSUFFICIENT_STOCK and nothing is allocated.
    """
    if quantity <= 0:
        raise ServiceError("The quantity must be positive.", field="quantity")
    _allocate({variant.pk: (variant, quantity, "quantity")}, actor=actor, reference=reference)


@transaction.atomic
def stock_allocate_many(
    *, lines: Sequence[tuple[StockedVariant, int]], reference: str = "", actor=None
) -> None:
    """Promise every line's quantity to one order (a checkout), all or nothing.

    A line that asks for more than is available over every warehouse is
    INSUFFICIENT_STOCK on `lines.N` (N its place in `lines`), every short
    line at once, and nothing is allocated. Two lines of one variant are
    allocated together, named by the first.
    """
    problems = Problems()
    needs: dict[int, Need] = {}
    for index, (variant, quantity) in enumerate(lines):
        if quantity <= 0:
            problems.add(f"lines.{index}.quantity", "The quantity must be positive.")
        elif variant.pk in needs:
            _, before, field = needs[variant.pk]
            needs[variant.pk] = (variant, before + quantity, field)
        else:
            needs[variant.pk] = (variant, quantity, f"lines.{index}")
    problems.raise_any()
    if needs:
        _allocate(needs, actor=actor, reference=reference)


@transaction.atomic
def stock_deallocate(*, actor=None, variant: StockedVariant, quantity: int, reference: str = "") -> None:
    """Release `quantity` promised to an order (a cancellation); the reverse
    of stock_allocate, from the warehouses it took from last."""
    _take_back(actor=actor, variant=variant, quantity=quantity, reference=reference,
               shipped=False)


@transaction.atomic
def stock_fulfil(*, actor=None, variant: StockedVariant, quantity: int, reference: str = "") -> None:
    """Ship `quantity` promised to an order: on hand goes down by it and the
    allocation is released, as one FULFILMENT movement per stock row, so the
    available quantity does not change (the units were already promised)."""
    _take_back(actor=actor, variant=variant, quantity=quantity, reference=reference,
               shipped=True)


def _take_back(*, actor, variant: StockedVariant, quantity: int, reference: str,
               shipped: bool) -> None:
    """Release an allocation, from the warehouses stock_allocate took from
    last; `shipped`, the units leave on-hand stock too."""
    if quantity <= 0:
        raise ServiceError("The quantity must be positive.", field="quantity")
    stocks = _locked_stocks(variant)
    if sum(stock.quantity_allocated for stock in stocks) < quantity:
        raise ServiceError(f"Only part of {variant.sku} is allocated.", field="quantity")
    kind = StockMovement.Kind.FULFILMENT if shipped else StockMovement.Kind.DEALLOCATION
    remaining = quantity
    for stock in reversed(stocks):
        give = min(remaining, stock.quantity_allocated)
        if give > 0:
            _record(stock=stock, kind=kind, allocated_delta=-give,
                    quantity_delta=-give if shipped else 0, actor=actor, reference=reference)
            remaining -= give
        if remaining == 0:
            break


# --- Warehouses ------------------------------------------------------------------------------

WAREHOUSE_FIELDS = {"name", "slug", "is_default"}


def _clean_warehouse(problems: Problems, warehouse: Warehouse, fields: dict[str, Any]) -> None:
    if "name" in fields:
        warehouse.name = clean_text(problems, "name", fields["name"],
                                    limit=max_length(Warehouse, "name"), required=True)
    if "slug" in fields:
        warehouse.slug = chosen_slug(problems, Warehouse, fields["slug"], exclude_pk=warehouse.pk)
    if "is_default" in fields and not fields["is_default"] and warehouse.is_default:
        problems.add("is_default", "Make another warehouse the default instead: "
                     "new stock goes to the default one.")


def _make_default(warehouse: Warehouse) -> None:
    """The one default warehouse (a database constraint) moves to `warehouse`."""
    Warehouse.objects.select_for_update().filter(is_default=True).exclude(
        pk=warehouse.pk).update(is_default=False)
    warehouse.is_default = True


@transaction.atomic
def warehouse_create(*, actor, name: str, slug: str | None = None,
                     is_default: bool = False) -> Warehouse:
    """A place stock is kept; `is_default` makes it where new stock goes."""
    problems = Problems()
    warehouse = Warehouse()
    _clean_warehouse(problems, warehouse, {"name": name})
    warehouse.slug = (chosen_slug(problems, Warehouse, slug) if slug
                      else unique_slug(Warehouse, warehouse.name, "warehouse"))
    problems.raise_any()
    if is_default:
        _make_default(warehouse)
    warehouse.save()
    return warehouse


@transaction.atomic
def warehouse_update(*, actor, warehouse: Warehouse, **fields: Any) -> Warehouse:
    """Rename a warehouse, or make it the default. The default cannot be
    unset by itself: another one is made the default instead."""
    reject_unknown(fields, WAREHOUSE_FIELDS)
    warehouse.is_default = Warehouse.objects.filter(pk=warehouse.pk, is_default=True).exists()
    problems = Problems()
    _clean_warehouse(problems, warehouse, fields)
    problems.raise_any()
    if fields.get("is_default"):
        _make_default(warehouse)
    warehouse.save()
    return warehouse
