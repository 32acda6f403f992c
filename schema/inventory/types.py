"""Inventory types: warehouses, a variant's stock per warehouse, and the
stock audit trail. Catalog managers only: the fields that lead here declare
it (schema.permissions), and `node(id:)` finds warehouses and movements
through apps.inventory.selectors."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import Info, relay

from apps.inventory import models, selectors
from schema.inventory import dataloaders
from schema.permissions import visible_through
from schema.resolvers import async_safe

if TYPE_CHECKING:
    from schema.catalog.types import ProductVariant

# strawberry.enum marks the model's choices in place, so the model's enum is
# the GraphQL one (and a type to mypy, which the call's result is not).
strawberry.enum(
    models.StockMovement.Kind, name="StockMovementKind",
    description="What changed stock: initial stock, a manual adjustment, a CSV import, "
    "allocation to or release from an order, shipping (fulfilment), or a return.",
)
StockMovementKind = models.StockMovement.Kind


@strawberry_django.type(models.Warehouse, name="Warehouse")
class Warehouse(relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    is_default: bool

    get_queryset = visible_through(selectors.warehouses_visible_to)


@strawberry_django.type(models.Stock, name="VariantStock")
class VariantStock:
    quantity: int = strawberry_django.field(field_name="quantity_on_hand", description="On hand.")
    quantity_allocated: int = strawberry_django.field(
        description="Promised to unfulfilled orders."
    )

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        # The optimizer prefetches with this, so a variant's rows come in
        # the order the warehouses are listed: the default one first.
        return queryset.order_by("-warehouse__is_default", "warehouse__name", "warehouse_id")

    @strawberry_django.field(select_related=["warehouse"], graphql_type=Warehouse)
    @async_safe
    def warehouse(self, root: models.Stock) -> models.Warehouse:
        # Joined, not filtered through Warehouse.get_queryset: whoever sees a
        # stock row (catalog managers) may see its warehouse.
        return root.warehouse

    @strawberry_django.field(
        only=["quantity_on_hand", "quantity_allocated"], description="On hand minus allocated."
    )
    @async_safe
    def quantity_available(self, root: models.Stock) -> int:
        return root.quantity_available


@strawberry_django.type(models.StockMovement, name="StockMovement")
class StockMovement(relay.Node):
    """One change of on-hand (quantityDelta) or allocated (allocatedDelta) stock."""

    id: relay.NodeID[int]
    kind: StockMovementKind
    quantity_delta: int
    allocated_delta: int
    reason: str
    reference: str = strawberry_django.field(
        description='What caused it, e.g. "order:1042" or "import:products.csv:17".'
    )
    created_at: datetime

    get_queryset = visible_through(selectors.stock_movements_visible_to)

    @strawberry_django.field(select_related=["stock__warehouse"], graphql_type=Warehouse)
    @async_safe
    def warehouse(self, root: models.StockMovement) -> models.Warehouse:
        return root.stock.warehouse

    @strawberry_django.field(select_related=["stock"], only=["stock__variant_id"])
    async def variant(
        self, root: models.StockMovement, info: Info
    ) -> Annotated["ProductVariant", strawberry.lazy("schema.catalog.types")]:
        # Not the plain relation: ProductVariant.get_queryset hides variants
        # of deleted products, whose history still has to read whole.
        return await info.context.loader(dataloaders.variant_by_id).load(root.stock.variant_id)

    @strawberry_django.field(
        select_related=["actor"], only=["actor__email"],
        description="Who made the change; null for the system (orders, imports) or a "
        "deleted user.",
    )
    @async_safe
    def actor_email(self, root: models.StockMovement) -> str | None:
        return root.actor.email if root.actor else None
