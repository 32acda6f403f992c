"""Django admin for stock. Quantities are read-only here: they change only
through stockAdjust and orders, each change a logged movement. Warehouses are
written by warehouse_create and warehouse_update (apps.core.admin)."""

from django.contrib import admin

from apps.core.admin_bases import ReadOnlyAdmin, ServiceAdmin, ServiceForm
from apps.inventory import services
from apps.inventory.models import Stock, StockMovement, Warehouse


class WarehouseForm(ServiceForm):
    class Meta:
        model = Warehouse
        fields = ("name", "slug", "is_default")

    def write(self, *, actor) -> Warehouse:
        if self.instance.pk is None:
            data = self.cleaned_data
            return services.warehouse_create(actor=actor, name=data["name"], slug=data["slug"],
                                             is_default=data["is_default"])
        return services.warehouse_update(actor=actor, warehouse=self.instance,
                                         **self.changed(services.WAREHOUSE_FIELDS))


@admin.register(Warehouse)
class WarehouseAdmin(ServiceAdmin, admin.ModelAdmin):
    form = WarehouseForm
    list_display = ("name", "slug", "is_default")
    prepopulated_fields = {"slug": ("name",)}

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its stock rows and their audit trail hang from it (PROTECT)


@admin.register(Stock)
class StockAdmin(ReadOnlyAdmin):
    list_display = ("variant", "warehouse", "quantity_on_hand", "quantity_allocated",
                    "quantity_available")
    list_filter = ("warehouse",)
    search_fields = ("variant__sku", "variant__product__name")
    list_select_related = ("variant", "warehouse")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "stock", "kind", "quantity_delta", "allocated_delta", "actor",
                    "reason", "reference")
    list_filter = ("kind", "stock__warehouse")
    search_fields = ("stock__variant__sku", "reason", "reference")
    list_select_related = ("stock", "actor")
    date_hierarchy = "created_at"
