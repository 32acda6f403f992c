"""What an account data export holds: one function a section, each reading
one domain's rows about the customer, and SECTIONS, the list the export is
built from, in order. A domain that starts keeping something about
customers adds its section here (privacy sits above every domain, so it
may read them all).

To come: "sign_in_history" (and richer "sessions": user agent, address,
last use), from the sessions work in apps.accounts, once it is merged.

What is left out on purpose: the password hash, tokens and secrets (refresh
token hashes, payment client secrets), and what staff wrote about others.
Orders placed as a guest with the same email are not the account's (as for
verified purchases, apps.reviews.selectors.has_bought): they are not in it.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet

from apps.accounts.models import Address, RefreshToken, User
from apps.catalog.models import Review
from apps.checkout.models import Cart, CartLine
from apps.notifications.models import Notification, NotificationPreferences
from apps.orders.models import Order, OrderEvent, OrderLine, Payment
from apps.wishlist.models import WishlistItem

Section = Callable[[User], Any]

PROFILE_FIELDS = ("id", "email", "first_name", "last_name", "is_email_verified",
                  "date_joined", "last_login", "updated_at", "default_shipping_address_id",
                  "default_billing_address_id")
ADDRESS_FIELDS = ("id", "first_name", "last_name", "company", "street_address_1",
                  "street_address_2", "city", "postal_code", "country_area", "country",
                  "phone", "created_at")
SHIPPING_FIELDS = tuple(f"shipping_{name}" for name in ADDRESS_FIELDS[1:-1])
ORDER_FIELDS = ("id", "number", "created_at", "updated_at", "status", "payment_status",
                "email", "currency", "subtotal", "discount", "shipping_price", "tax", "total",
                "total_refunded", "shipping_method_name", "coupon_code", "tracking_number",
                *SHIPPING_FIELDS)
ORDER_LINE_FIELDS = ("order_id", "product_name", "variant_name", "sku", "quantity",
                     "unit_price", "discount", "total", "tax", "tax_rate")
ORDER_EVENT_FIELDS = ("order_id", "type", "from_status", "to_status", "from_payment_status",
                      "to_payment_status", "created_at")
PAYMENT_FIELDS = ("order_id", "gateway", "status", "amount", "currency", "created_at")


def _rows(queryset: "QuerySet[Any, Any]") -> list[dict[str, Any]]:
    return [dict(row) for row in queryset]


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.pop(key), []).append(row)
    return grouped


def profile(user: User) -> dict[str, Any]:
    return _rows(User.objects.filter(pk=user.pk).values(*PROFILE_FIELDS))[0]


def addresses(user: User) -> list[dict[str, Any]]:
    return _rows(Address.objects.filter(user=user).order_by("id").values(*ADDRESS_FIELDS))


def notification_preferences(user: User) -> dict[str, Any] | None:
    found = _rows(NotificationPreferences.objects.filter(user=user)
                  .values("back_in_stock", "price_drop", "marketing", "updated_at"))
    return found[0] if found else None


def orders(user: User) -> list[dict[str, Any]]:
    """Every order of the account with its lines, its history and its
    payments: what the customer bought, what was paid and what happened."""
    found = _rows(Order.objects.filter(user=user).order_by("created_at", "id")
                 .values(*ORDER_FIELDS))
    ids = [order["id"] for order in found]
    parts = {
        "lines": _grouped(_rows(OrderLine.objects.filter(order_id__in=ids).order_by("id")
                               .values(*ORDER_LINE_FIELDS)), "order_id"),
        "history": _grouped(_rows(OrderEvent.objects.filter(order_id__in=ids)
                                 .order_by("created_at", "id").values(*ORDER_EVENT_FIELDS)),
                            "order_id"),
        "payments": _grouped(_rows(Payment.objects.filter(order_id__in=ids).order_by("id")
                                  .values(*PAYMENT_FIELDS)), "order_id"),
    }
    for order in found:
        for name, by_order in parts.items():
            order[name] = by_order.get(order["id"], [])
    return found


def reviews(user: User) -> list[dict[str, Any]]:
    return _rows(Review.objects.filter(user=user).order_by("created_at", "id").values(
        "id", "product_id", "product__name", "rating", "title", "body", "verified_purchase",
        "is_hidden", "created_at"))


def wishlist(user: User) -> list[dict[str, Any]]:
    return _rows(WishlistItem.objects.filter(user=user).order_by("added_at", "id")
                .values("product_id", "product__name", "added_at"))


def carts(user: User) -> list[dict[str, Any]]:
    found = _rows(Cart.objects.filter(user=user).order_by("created_at", "id").values(
        "id", "state", "email", "created_at", "updated_at", *SHIPPING_FIELDS))
    lines = _grouped(_rows(CartLine.objects.filter(cart_id__in=[c["id"] for c in found])
                          .order_by("id").values("cart_id", "variant__sku", "quantity",
                                                 "price_when_added", "created_at")), "cart_id")
    for cart in found:
        cart["lines"] = lines.get(cart["id"], [])
    return found


def sessions(user: User) -> list[dict[str, Any]]:
    """One entry a sign-in (a refresh-token family): when it started, when
    it was last refreshed, until when it may be, and whether it is still on.
    Never the tokens themselves."""
    families = _rows(
        RefreshToken.objects.filter(user=user).values("family")
        .annotate(started_at=Min("created_at"), last_refreshed_at=Max("created_at"),
                  expires_at=Max("expires_at"),
                  unrevoked=Count("pk", filter=Q(revoked_at__isnull=True)))
        .order_by("started_at")
    )
    for family in families:
        family["active"] = family.pop("unrevoked") > 0
    return families


def notifications(user: User) -> list[dict[str, Any]]:
    """The emails sent to the customer: of the account, or to its address."""
    return _rows(Notification.objects.filter(Q(user=user) | Q(recipient=user.email))
                .order_by("created_at", "id")
                .values("kind", "recipient", "status", "order__number", "created_at",
                        "sent_at"))


SECTIONS: list[tuple[str, Section]] = [
    ("profile", profile),
    ("addresses", addresses),
    ("notification_preferences", notification_preferences),
    ("orders", orders),
    ("reviews", reviews),
    ("wishlist", wishlist),
    ("carts", carts),
    ("sessions", sessions),
    ("notifications", notifications),
]


def export_data(user: User) -> dict[str, Any]:
    return {name: section(user) for name, section in SECTIONS}
