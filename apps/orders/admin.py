"""Orders in the Django admin, for looking things up without GraphQL: an
order with its lines, its history and its payments, filtered by status and
payment status, found by number or email.

Read-only, and on purpose: an order's states change only through the order
services (apps.orders.services.transitions.order_transition and the
services built on it), and there is no cancel or fulfil service yet for an
admin action to call. When there is, an action calls it, as the Django admin
of products calls the catalog's lifecycle services; nothing here ever
assigns a state."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from apps.core.admin_bases import (
    SHIPPING_ADDRESS,
    Layout,
    ReadOnlyAdmin,
    ReadOnlyInline,
    field_names,
)
from apps.orders.models import Order, OrderEvent, OrderLine, Payment, Refund


ORDER: Layout = ("number", "token", "user", "email", "status", "payment_status", "created_at",
                 "updated_at")
MONEY: Layout = ("currency", "subtotal", "discount", "coupon_code", "shipping_price", "tax",
                 "total", "total_refunded")
SHIPPING: Layout = (*SHIPPING_ADDRESS, "shipping_method_name", "tracking_number")


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("product_name", "variant_name", "sku", "quantity", "unit_price", "discount",
              "total", "tax", "tax_rate")
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("created_at", "type", "from_status", "to_status", "from_payment_status",
              "to_payment_status", "actor", "message")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("created_at", "gateway", "status", "amount", "currency", "reference", "refunds",
              "message")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        return super().get_queryset(request).prefetch_related("refunds")

    @admin.display(description="Refunds")
    def refunds(self, payment: Payment) -> str:
        return format_html_join(
            ", ", "{} ({}, {})",
            ((refund.amount, refund.get_status_display(), refund.created_at.date())
             for refund in payment.refunds.all()),
        ) or "—"


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "created_at", "email", "status", "payment_status", "total",
                    "total_refunded", "currency")
    list_filter = ("status", "payment_status", "created_at")
    search_fields = ("number", "email")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    inlines = (OrderLineInline, OrderEventInline, PaymentInline)
    fieldsets = (
        (None, {"fields": ORDER}),
        ("Money", {"fields": MONEY}),
        ("Shipping", {"fields": SHIPPING}),
    )
    readonly_fields = field_names(ORDER, MONEY, SHIPPING)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "order_number", "amount", "status", "actor", "reason")
    list_filter = ("status",)
    search_fields = ("payment__order__number", "payment__order__email", "reference")
    list_select_related = ("payment__order", "actor")
    readonly_fields = ("payment", "amount", "status", "reference", "reason", "actor",
                       "created_at")

    @admin.display(description="Order", ordering="payment__order__number")
    def order_number(self, refund: Refund) -> str:
        return str(refund.payment.order)
