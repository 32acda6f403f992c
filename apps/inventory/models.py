from typing import Protocol

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class StockedVariant(Protocol):
    """What inventory needs of the variant it keeps stock for (a
    catalog.ProductVariant), without importing the catalog."""

    pk: int
    product_id: int
    sku: str
    low_stock_threshold: int


def variant_model() -> type[models.Model]:
    """The model stock is kept for (catalog.ProductVariant), through Stock's
    foreign key, so that inventory names no catalog module."""
    return Stock._meta.get_field("variant").related_model


class Warehouse(models.Model):
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    # Exactly one warehouse is the default (made by a migration): new stock
    # goes there unless a warehouse is named.
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_warehouse"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    """How many of a variant a warehouse holds (`quantity_on_hand`) and how
    many of those are promised to unfulfilled orders (`quantity_allocated`).
    Available = on hand − allocated; the database keeps both non-negative and
    allocated ≤ on hand, whatever the code does."""

    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="stocks"
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stocks")
    quantity_on_hand = models.IntegerField(default=0)
    quantity_allocated = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "warehouse"], name="one_stock_per_place"),
            models.CheckConstraint(condition=Q(quantity_on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity_allocated__gte=0), name="stock_allocated_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(quantity_allocated__lte=F("quantity_on_hand")),
                name="stock_allocated_within_on_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.warehouse_id}: {self.quantity_on_hand}/{self.quantity_allocated}"

    @property
    def quantity_available(self) -> int:
        return self.quantity_on_hand - self.quantity_allocated


class StockMovement(models.Model):
    """One change of on-hand or allocated stock: the audit trail."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial stock"
        ADJUSTMENT = "adjustment", "Manual adjustment"
        IMPORT = "import", "CSV import"
        ALLOCATION = "allocation", "Allocated to an order"
        DEALLOCATION = "deallocation", "Released from an order"
        FULFILMENT = "fulfilment", "Shipped with an order"
        RETURN = "return", "Returned"

    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity_delta = models.IntegerField(default=0)
    allocated_delta = models.IntegerField(default=0)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # What caused it, e.g. "order:1042" or "import:products.csv:17".
    reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity_delta:+d}/{self.allocated_delta:+d} on {self.stock_id}"
