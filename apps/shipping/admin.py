"""Django admin for shipping, writing (and deleting) through
apps.shipping.services: a zone's countries are typed as codes ("FR, DE, BE"), and a country already in
another zone is refused on the form, as in the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from apps.core.admin_bases import ServiceAdmin, ServiceDelete, ServiceForm
from apps.shipping import services
from apps.shipping.models import ShippingMethod, ShippingZone


class ShippingZoneForm(ServiceForm):
    countries = forms.CharField(
        required=False, help_text="ISO 3166-1 alpha-2 codes, separated by commas or spaces.")

    class Meta:
        model = ShippingZone
        fields = ("name",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["countries"] = ", ".join(
                self.instance.countries.values_list("country", flat=True))

    def _codes(self) -> list[str]:
        text: str = self.cleaned_data["countries"]
        return text.replace(",", " ").split()

    def write(self, *, actor: Any) -> ShippingZone:
        if self.instance.pk is None:
            return services.shipping_zone_create(actor=actor, name=self.cleaned_data["name"],
                                                 countries=self._codes())
        fields = self.changed({"name"})
        if "countries" in self.changed_data:
            fields["countries"] = self._codes()
        return services.shipping_zone_update(actor=actor, zone=self.instance, **fields)


class ShippingMethodForm(ServiceForm):
    class Meta:
        model = ShippingMethod
        fields = ("zone", "name", "price", "free_above", "min_weight_grams", "max_weight_grams")

    def write(self, *, actor: Any) -> ShippingMethod:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.shipping_method_create(
                actor=actor, zone=data["zone"], name=data["name"], price=data["price"],
                **{name: data[name] for name in services.METHOD_FIELDS - {"name", "price"}})
        return services.shipping_method_update(actor=actor, method=self.instance,
                                               **self.changed(services.METHOD_FIELDS))


@admin.register(ShippingZone)
class ShippingZoneAdmin(ServiceDelete, ServiceAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = ShippingZoneForm
    list_display = ("name", "country_list")
    search_fields = ("name", "countries__country")

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).prefetch_related("countries")

    @admin.display(description="Countries")
    def country_list(self, zone: ShippingZone) -> str:
        return ", ".join(row.country for row in zone.countries.all())

    def delete_through(self, *, actor: Any, obj: ShippingZone) -> None:
        services.shipping_zone_delete(actor=actor, zone=obj)


@admin.register(ShippingMethod)
class ShippingMethodAdmin(ServiceDelete, ServiceAdmin,
                          admin.ModelAdmin):  # type: ignore[type-arg]
    form = ShippingMethodForm
    list_display = ("name", "zone", "price", "free_above", "min_weight_grams",
                    "max_weight_grams")
    list_filter = ("zone",)
    list_select_related = ("zone",)

    def delete_through(self, *, actor: Any, obj: ShippingMethod) -> None:
        services.shipping_method_delete(actor=actor, method=obj)
