from collections.abc import Iterable
from datetime import datetime

import strawberry
import strawberry_django
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.catalog import models as catalog_models
from apps.catalog import selectors as catalog_selectors
from apps.core.errors import ServiceError
from apps.inventory import models, selectors
from schema.catalog.types import ProductVariant
from schema.errors import bad_user_input
from schema.ids import decode_id
from schema.inventory.types import StockMovement, StockMovementKind, Warehouse
from schema.pagination import CountableConnection
from schema.permissions import require_perm


@strawberry.type
class InventoryQuery:
    @strawberry_django.connection(
        CountableConnection[ProductVariant],
        description="Variants (of products not deleted) whose available quantity is at or "
        "below their lowStockThreshold, the emptiest first. Staff with MANAGE_PRODUCTS only.",
    )
    def low_stock_variants(self, info: Info) -> Iterable[catalog_models.ProductVariant]:
        require_perm(info, Perm.MANAGE_PRODUCTS)
        return catalog_selectors.low_stock_variants()

    @strawberry_django.field(description="Where stock is kept, the default first. Staff only.")
    def warehouses(self, info: Info) -> list[Warehouse]:
        require_perm(info, Perm.MANAGE_PRODUCTS)
        return models.Warehouse.objects.all()

    @strawberry_django.connection(
        CountableConnection[StockMovement],
        description="The stock audit trail, newest first: every change of on-hand or "
        "allocated stock, narrowed to a variant, a warehouse, a kind and a start time when "
        "given. An unknown ID is an error. Staff with MANAGE_PRODUCTS only.",
    )
    def stock_movements(
        self, info: Info, variant_id: strawberry.ID | None = None,
        warehouse_id: strawberry.ID | None = None, kind: StockMovementKind | None = None,
        since: datetime | None = None,
    ) -> Iterable[models.StockMovement]:
        require_perm(info, Perm.MANAGE_PRODUCTS)
        try:
            return selectors.stock_movements(
                variant_id=None if variant_id is None else decode_id(variant_id, "ProductVariant"),
                warehouse_id=None if warehouse_id is None else decode_id(warehouse_id, "Warehouse"),
                kind=None if kind is None else kind.value,
                since=since,
            )
        except ServiceError as error:
            raise bad_user_input(str(error)) from error
