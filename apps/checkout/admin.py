"""Carts in the Django admin, to look one up (a customer's, or the one an
order was placed from: its token is the order's cart_token) with its lines.
Read-only: a cart changes only through the checkout's services, as the
shopper's API calls them."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from apps.checkout.models import Cart, CartLine
from apps.core.admin_bases import (
    SHIPPING_ADDRESS,
    Layout,
    ReadOnlyAdmin,
    ReadOnlyInline,
    field_names,
)


CART: Layout = ("token", "state", "user", "email", "coupon", "shipping_method")


class CartLineInline(ReadOnlyInline):
    model = CartLine
    fields = ("variant", "quantity", "price_when_added", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CartLine]:
        return super().get_queryset(request).select_related("variant__product")


@admin.register(Cart)
class CartAdmin(ReadOnlyAdmin):
    list_display = ("token", "state", "user", "email", "line_count", "coupon", "updated_at")
    list_filter = ("state", "updated_at")
    search_fields = ("token", "email", "user__email")
    list_select_related = ("user", "coupon")
    inlines = (CartLineInline,)
    fields = (*CART, *SHIPPING_ADDRESS, "created_at", "updated_at")
    readonly_fields = field_names(fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cart]:
        carts: QuerySet[Cart] = super().get_queryset(request)
        return carts.annotate(line_count=Count("lines"))

    @admin.display(description="Lines", ordering="line_count")
    def line_count(self, cart: Cart) -> int:
        return int(getattr(cart, "line_count", 0))
