import strawberry
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.catalog.models import ProductVariant as VariantModel
from apps.inventory import models, services
from schema.ids import get_node
from schema.catalog.types import ProductVariant
from schema.errors import Payload, payload_mutation
from schema.permissions import require_perm


@strawberry.type
class StockAdjustPayload(Payload):
    variant: ProductVariant | None = None


@strawberry.type
class InventoryMutation:
    @payload_mutation(
        description="Count stock in (delta > 0) or out (delta < 0) in a warehouse (the "
        "default one when left out), with a reason for the audit trail. On hand never falls "
        "below what is allocated to orders: that is INSUFFICIENT_STOCK.",
    )
    def stock_adjust(
        self, info: Info, variant_id: strawberry.ID, delta: int, reason: str,
        warehouse_id: strawberry.ID | None = None,
    ) -> StockAdjustPayload:
        actor = require_perm(info, Perm.MANAGE_PRODUCTS)
        variant = get_node(VariantModel.objects.live().select_related("product"), variant_id,
                           type_name="ProductVariant", field="variant_id")
        warehouse = None if warehouse_id is None else get_node(
            models.Warehouse.objects.all(), warehouse_id, type_name="Warehouse",
            field="warehouse_id",
        )
        services.stock_adjust(actor=actor, variant=variant, delta=delta, reason=reason,
                              warehouse=warehouse)
        return StockAdjustPayload(variant=variant)
