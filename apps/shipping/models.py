"""Shipping zones and their methods.

A zone is a set of countries; a country belongs to at most one zone (a unique
column, so two staff members adding it to two zones at once cannot both
succeed), so the question "what ships to France?" has one zone to look in.
Prices are in the shop's currency, as every other price column.
"""

from __future__ import annotations

from django.db import models

from apps.core.countries import validate_country_code
from apps.core.money import Money


class ShippingZone(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class ShippingZoneCountry(models.Model):
    """One country of a zone; a row rather than an array column, so that the
    database itself keeps a country in one zone, on SQLite as on PostgreSQL."""

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="countries")
    country = models.CharField(
        max_length=2, unique=True, validators=[validate_country_code], help_text="ISO 3166-1 alpha-2"
    )

    class Meta:
        ordering = ("country",)

    def __str__(self) -> str:
        return self.country


class ShippingMethod(models.Model):
    """A way to ship to a zone: a flat price, free at or above `free_above`
    (the cart's subtotal), for parcels from `min_weight_grams` to
    `max_weight_grams` (both included, either left open)."""

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    free_above = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    min_weight_grams = models.PositiveIntegerField(null=True, blank=True)
    max_weight_grams = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("price", "name", "id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_weight_grams__isnull=True)
                | models.Q(max_weight_grams__isnull=True)
                | models.Q(min_weight_grams__lte=models.F("max_weight_grams")),
                name="shipping_method_weight_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.zone.name}: {self.name}"

    @property
    def price_money(self) -> Money:
        return Money.of(self.price)

    @property
    def free_above_money(self) -> Money | None:
        return None if self.free_above is None else Money.of(self.free_above)

    def price_for(self, subtotal: Money) -> Money:
        """What the method costs for a cart of `subtotal`: nothing at or
        above the threshold, the flat price otherwise."""
        threshold = self.free_above_money
        if threshold is not None and subtotal >= threshold:
            return Money.zero(subtotal.currency)
        return self.price_money
