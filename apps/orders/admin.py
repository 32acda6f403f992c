"""Orders in the Django admin, for looking things up without GraphQL: an
order with its lines, its history and its payments, filtered by status and
payment status, found by number or email.

Read-only but for three actions, on purpose: an order's states change only
through the order services (apps.orders.services.transitions.order_transition
and the services built on it), so the actions (fulfil, mark delivered,
cancel) call those, as the Django admin of products calls the catalog's
lifecycle services, and are offered to staff with the orders permission
only. A refund needs an amount, and stays with the API's orderRefund.
Nothing here ever assigns a state."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
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
from apps.accounts.permissions import Perm, staff_has_perm
from apps.core.errors import ServiceError
from apps.orders.models import Order, OrderEvent, OrderLine, Payment, Refund
from apps.orders.services.cancellation import order_admin_cancel
from apps.orders.services.fulfilment import order_fulfil, order_mark_delivered


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
    actions = ("fulfil", "mark_delivered", "cancel")

    def has_manage_orders_permission(self, request: HttpRequest) -> bool:
        return staff_has_perm(request.user, Perm.MANAGE_ORDERS)

    def _apply(self, request: HttpRequest, queryset: QuerySet[Order], done: str,
               move: Callable[[Order], Any]) -> None:
        """`move` each order in turn; a refusal (an order not in a state the
        move is allowed from) is reported on its own and stops nothing."""
        count = 0
        for order in queryset.order_by("pk"):
            try:
                move(order)
            except ServiceError as error:
                self.message_user(request, f"#{order.number}: {error}", messages.ERROR)
                continue
            count += 1
        if count:
            self.message_user(request, f"{done} {count} order(s).", messages.SUCCESS)

    @admin.action(description="Fulfil selected orders (ship, no tracking number)",
                  permissions=["manage_orders"])
    def fulfil(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, "Shipped",
                    lambda order: order_fulfil(order=order, actor=request.user))

    @admin.action(description="Mark selected orders delivered", permissions=["manage_orders"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, "Delivered",
                    lambda order: order_mark_delivered(order=order, actor=request.user))

    @admin.action(description="Cancel selected orders (a paid one is refunded in full)",
                  permissions=["manage_orders"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, "Cancelled",
                    lambda order: order_admin_cancel(order=order, actor=request.user,
                                                     reason="Cancelled in the Django admin."))


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
