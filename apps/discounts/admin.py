"""Django admin for coupons, written through coupon_create and coupon_update
(apps.core.admin_bases); uses are read-only, made by placed orders."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin_bases import ReadOnlyAdmin, ServiceAdmin, ServiceForm
from apps.discounts import selectors, services
from apps.discounts.models import Coupon, CouponUse

FORM_FIELDS = ("code", "discount_type", "value", "min_subtotal", "valid_from", "valid_until",
               "is_active", "usage_limit", "usage_limit_per_user", "categories", "products")


class CouponForm(ServiceForm):
    class Meta:
        model = Coupon
        fields = FORM_FIELDS

    def write(self, *, actor: Any) -> Coupon:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.coupon_create(actor=actor, **{name: data[name] for name in FORM_FIELDS})
        return services.coupon_update(actor=actor, coupon=self.instance,
                                      **self.changed(services.COUPON_FIELDS))


@admin.register(Coupon)
class CouponAdmin(ServiceAdmin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = CouponForm
    list_display = ("code", "discount_type", "value", "is_active", "valid_from", "valid_until",
                    "usage_limit", "used_count")
    list_filter = ("discount_type", "is_active")
    search_fields = ("code",)
    filter_horizontal = ("categories", "products")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coupon]:
        coupons: QuerySet[Coupon] = super().get_queryset(request)
        return coupons.annotate(used_count=selectors.counted_uses())

    @admin.display(description="Used", ordering="used_count")
    def used_count(self, coupon: Coupon) -> int:
        return int(getattr(coupon, "used_count", 0))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # orders' uses hang from it; deactivate instead


@admin.register(CouponUse)
class CouponUseAdmin(ReadOnlyAdmin):
    list_display = ("used_at", "coupon", "order_id", "email", "user", "released_at")
    list_filter = ("coupon",)
    search_fields = ("coupon__code", "email")
    list_select_related = ("coupon", "user")
