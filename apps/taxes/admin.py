"""Django admin for the tax rate table, writing and deleting through
apps.taxes.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from apps.core.admin_bases import ServiceAdmin, ServiceDelete, ServiceForm
from apps.taxes import services
from apps.taxes.models import TaxRate


class TaxRateForm(ServiceForm):
    class Meta:
        model = TaxRate
        fields = ("country", "country_area", "category", "rate")

    def write(self, *, actor: Any) -> TaxRate:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.tax_rate_create(
                actor=actor, country=data["country"], country_area=data["country_area"],
                category=data["category"], rate=data["rate"])
        return services.tax_rate_update(actor=actor, tax_rate=self.instance,
                                        **self.changed(services.RATE_FIELDS))


@admin.register(TaxRate)
class TaxRateAdmin(ServiceDelete, ServiceAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = TaxRateForm
    list_display = ("country", "country_area", "category", "rate")
    list_filter = ("country",)
    search_fields = ("country", "country_area", "category__name")
    list_select_related = ("category",)

    def delete_through(self, *, actor: Any, obj: TaxRate) -> None:
        services.tax_rate_delete(actor=actor, tax_rate=obj)
