import strawberry
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.catalog import models as catalog_models
from apps.inventory import models, services
from schema.ids import get_node
from schema.catalog.types import ProductVariant
from schema.errors import Payload, payload_mutation
from schema.permissions import StaffPerm, signed_in_user


@strawberry.type
class StockAdjustPayload(Payload):
    variant: catalog_models.ProductVariant | None = strawberry.field(
        default=None, graphql_type=ProductVariant | None
    )


@strawberry.type
class InventoryMutation:
    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Count stock in (delta > 0) or out (delta < 0) in a warehouse (the "
        "default one when left out), with a reason for the audit trail. On hand never falls "
        "below what is allocated to orders: that is INSUFFICIENT_STOCK.",
    )
    def stock_adjust(
        self, info: Info, variant_id: strawberry.ID, delta: int, reason: str,
        warehouse_id: strawberry.ID | None = None,
    ) -> StockAdjustPayload:
        actor = signed_in_user(info)
        variant = get_node(catalog_models.ProductVariant.objects.live().select_related("product"),
                           variant_id, type_name="ProductVariant", field="variant_id")
        warehouse = None if warehouse_id is None else get_node(
            models.Warehouse.objects.all(), warehouse_id, type_name="Warehouse",
            field="warehouse_id",
        )
        services.stock_adjust(actor=actor, variant=variant, delta=delta, reason=reason,
                              warehouse=warehouse)
        return StockAdjustPayload(variant=variant)
