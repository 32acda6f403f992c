"""The tax rate table: a rate (in percent) for a country, optionally narrowed
to a region (`country_area`, e.g. a US state, as addresses write it) and to a
category with its descendants. apps.taxes.calculation says which row wins."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.core.countries import validate_country_code


class TaxRate(models.Model):
    country = models.CharField(
        max_length=2, validators=[validate_country_code], help_text="ISO 3166-1 alpha-2"
    )
    country_area = models.CharField(
        max_length=128, blank=True,
        help_text="A region as addresses write it (a US state: NY); blank for the whole country.",
    )
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.CASCADE, null=True, blank=True,
        related_name="+", help_text="The rate applies to this category and its descendants.",
    )
    rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="In percent: 8.875")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("country", "country_area", "category_id", "id")
        constraints = [
            # One row per place and category; a missing category is "any",
            # and NULLs are distinct to a unique index, hence two partial ones.
            models.UniqueConstraint(
                fields=("country", "country_area", "category"), name="taxes_rate_unique",
                condition=Q(category__isnull=False),
            ),
            models.UniqueConstraint(
                fields=("country", "country_area"), name="taxes_rate_unique_any_category",
                condition=Q(category__isnull=True),
            ),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100),
                                   name="taxes_rate_percentage"),
        ]

    def __str__(self) -> str:
        place = f"{self.country}-{self.country_area}" if self.country_area else self.country
        return f"{place} {self.rate}%"
