from collections.abc import Iterable

import strawberry
import strawberry_django
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.catalog import models as catalog_models
from apps.inventory import models, selectors
from schema.catalog.types import ProductVariant
from schema.inventory.types import Warehouse
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
        return selectors.low_stock_variants()

    @strawberry_django.field(description="Where stock is kept, the default first. Staff only.")
    def warehouses(self, info: Info) -> list[Warehouse]:
        require_perm(info, Perm.MANAGE_PRODUCTS)
        return models.Warehouse.objects.all()
