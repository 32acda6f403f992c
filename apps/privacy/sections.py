"""What an account data export holds: one function a section, each reading
one domain's rows about the customer, and SECTIONS, the list the export is
built from, in order. A domain that starts keeping something about
customers adds its section here (privacy sits above every domain, so it
may read them all).

What is left out on purpose: the password hash, tokens and secrets (refresh
token hashes, payment client secrets), and what staff wrote about others.
Orders placed as a guest with the same email are not the account's (as for
verified purchases, apps.reviews.selectors.has_bought): they are not in it.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from apps.accounts.models import (
    Address,
    ExternalIdentity,
    RecoveryCode,
    Session,
    SignInAttempt,
    TwoFactorDevice,
    User,
)
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
    """One entry a sign-in session: how it was made, from which address and
    client, when it started, was last used and ends, and whether it is
    still on. Never the tokens themselves."""
    found = _rows(Session.objects.filter(user=user).order_by("created_at", "id").values(
        "method", "ip", "user_agent", "created_at", "last_used_at", "expires_at",
        "revoked_at"))
    for session in found:
        session["active"] = session["revoked_at"] is None
    return found


def sign_in_history(user: User) -> list[dict[str, Any]]:
    return _rows(SignInAttempt.objects.filter(user=user).order_by("created_at", "id").values(
        "succeeded", "reason", "method", "ip", "user_agent", "created_at"))


def external_identities(user: User) -> list[dict[str, Any]]:
    """The social sign-in accounts linked to this one (not the subject: an
    identifier of the provider's, not something the customer knows)."""
    return _rows(ExternalIdentity.objects.filter(user=user).order_by("created_at", "id")
                 .values("provider", "email", "created_at"))


def two_factor(user: User) -> dict[str, Any]:
    """Whether it is on and since when; never the secret or the codes."""
    device = TwoFactorDevice.objects.filter(user=user).values("confirmed_at").first()
    confirmed = device["confirmed_at"] if device else None
    return {"enabled": confirmed is not None, "enabled_at": confirmed,
            "recovery_codes_left": RecoveryCode.objects.filter(
                user=user, used_at__isnull=True).count() if confirmed else 0}



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
    ("sign_in_history", sign_in_history),
    ("two_factor", two_factor),
    ("external_identities", external_identities),
    ("notifications", notifications),
]


def export_data(user: User) -> dict[str, Any]:
    return {name: section(user) for name, section in SECTIONS}
