from collections.abc import Iterable
from datetime import datetime

import strawberry
import strawberry_django

from apps.accounts.permissions import Perm
from apps.catalog import models as catalog_models
from apps.catalog import selectors as catalog_selectors
from apps.core.errors import ServiceError
from apps.inventory import models, selectors
from schema.connection_fields import connection
from schema.catalog.types import ProductVariant
from schema.cost import list_size
from schema.errors import bad_user_input
from schema.ids import decode_id
from schema.inventory.types import StockMovement, StockMovementKind, Warehouse
from schema.pagination import CountableConnection
from schema.permissions import StaffPerm


@strawberry.type
class InventoryQuery:
    @connection(
        CountableConnection[ProductVariant],
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Variants (of products not deleted) whose available quantity is at or "
        "below their lowStockThreshold, the emptiest first. Staff with MANAGE_PRODUCTS only.",
    )
    def low_stock_variants(self) -> Iterable[catalog_models.ProductVariant]:
        return catalog_selectors.low_stock_variants()

    @strawberry_django.field(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Where stock is kept, the default first. Staff only.",
        directives=list_size(5),
        graphql_type=list[Warehouse],
    )
    def warehouses(self) -> Iterable[models.Warehouse]:
        return models.Warehouse.objects.all()

    @connection(
        CountableConnection[StockMovement],
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="The stock audit trail, newest first: every change of on-hand or "
        "allocated stock, narrowed to a variant, a warehouse, a kind and a start time when "
        "given. An unknown ID is an error. Staff with MANAGE_PRODUCTS only.",
    )
    def stock_movements(
        self, variant_id: strawberry.ID | None = None,
        warehouse_id: strawberry.ID | None = None, kind: StockMovementKind | None = None,
        since: datetime | None = None,
    ) -> Iterable[models.StockMovement]:
        try:
            return selectors.stock_movements(
                variant_id=None if variant_id is None else decode_id(variant_id, "ProductVariant"),
                warehouse_id=None if warehouse_id is None else decode_id(warehouse_id, "Warehouse"),
                kind=None if kind is None else kind.value,
                since=since,
            )
        except ServiceError as error:
            raise bad_user_input(str(error)) from error
