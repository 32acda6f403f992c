"""The notifications, one Celery task a kind (or a family of kinds), each
enqueued by a handler of the outbox event that asks for it
(apps.notifications.handlers) and given the event's id.

A task reads the current state when it runs, which may be a while after the
event, and decides again: a confirmation for an address verified meanwhile,
a low-stock alert for a variant restocked since, a price-drop notice for a
price raised again are not sent. Then apps.notifications.delivery sends each
email once per event. SMTP errors are OSErrors: Celery retries them with
exponential backoff (up to 30, 60, 120... seconds, jittered, at most 10
minutes apart), NOTIFICATIONS_MAX_RETRIES times; after that the row stays
FAILED with its error, in the admin.

Tasks take ids, never tokens: a token is made when its email is sent, so no
secret travels through (or rests in) the broker.
"""

from decimal import Decimal
from typing import Any

from celery import shared_task
from django.conf import settings

from apps.accounts import tokens
from apps.accounts.models import SignInAttempt, User
from apps.accounts.permissions import Perm
from apps.accounts.selectors import staff_with_perm
from apps.catalog.models import ProductVariant
from apps.catalog.selectors import products_visible_to
from apps.core.models import OutboxEvent
from apps.core.money import Money
from apps.inventory.selectors import variant_quantity_available
from apps.orders.models import Order, PaymentStatus, Refund

from . import delivery
from .delivery import Letter
from .emails import (
    ACCOUNT_PATH,
    CONFIRM_PATH,
    ORDER_PATH,
    PRODUCT_PATH,
    RESET_PATH,
    SESSIONS_PATH,
    storefront_link,
)
from .models import Kind, Notification, Topic
from .selectors import customers_wishing

RETRIED: dict[str, Any] = {
    "autoretry_for": (OSError,), "retry_backoff": settings.NOTIFICATIONS_RETRY_BACKOFF,
    "retry_backoff_max": 600, "retry_jitter": True,
    "max_retries": settings.NOTIFICATIONS_MAX_RETRIES,
}


# --- Accounts ----------------------------------------------------------------------------


def _account_email(event_id: str, user: User, kind: Kind, link: str, only: str,
                   **context: Any) -> int:
    return delivery.send(event_id, [Letter(
        kind=kind, to=user.email, user=user,
        context={"name": user.first_name, "link": link, **context})], only=only)


@shared_task(**RETRIED)
def send_account_confirmation_email(event_id: str, user_id: int, only: str = "") -> int:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.is_email_verified:
        return 0
    link = storefront_link(CONFIRM_PATH, token=tokens.make_confirmation_token(user))
    return _account_email(event_id, user, Kind.ACCOUNT_CONFIRMATION, link, only,
                          days=max(1, settings.ACCOUNT_CONFIRMATION_MAX_AGE // 86400))


@shared_task(**RETRIED)
def send_password_reset_email(event_id: str, user_id: int, only: str = "") -> int:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    link = storefront_link(RESET_PATH, token=tokens.make_password_reset_token(user))
    return _account_email(event_id, user, Kind.PASSWORD_RESET, link, only,
                          minutes=max(1, settings.PASSWORD_RESET_TIMEOUT // 60))


@shared_task(**RETRIED)
def send_new_device_email(event_id: str, attempt_id: int, only: str = "") -> int:
    """Tell the customer that their account was signed in to from a new
    device (NewDeviceSignIn): when, from which address, with which client,
    and where to end the session if it was not them. An attempt purged
    meanwhile, or an account deactivated, sends nothing."""
    attempt = (SignInAttempt.objects.select_related("user")
               .filter(pk=attempt_id, user__is_active=True).first())
    if attempt is None:
        return 0
    return _account_email(event_id, attempt.user, Kind.NEW_DEVICE_SIGN_IN,
                          storefront_link(SESSIONS_PATH), only, attempt=attempt)


@shared_task(**RETRIED)
def send_two_factor_email(event_id: str, user_id: int, enabled: bool, only: str = "") -> int:
    """TwoFactorChanged: sent whatever the state is by now, since what the
    owner must hear of is the change, even if it was undone since."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    return _account_email(event_id, user, Kind.TWO_FACTOR_CHANGED,
                          storefront_link(ACCOUNT_PATH), only, enabled=enabled)


@shared_task(**RETRIED)
def send_staff_invitation_email(event_id: str, user_id: int, only: str = "") -> int:
    """The link is a password-reset link (passwordReset sets the first
    password), so it works once and for PASSWORD_RESET_TIMEOUT; once it has
    lapsed, the new staff member asks passwordResetRequest for another."""
    user = User.objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    if user is None or user.has_usable_password():
        return 0
    link = storefront_link(RESET_PATH, token=tokens.make_password_reset_token(user))
    return _account_email(event_id, user, Kind.STAFF_INVITATION, link, only,
                          minutes=max(1, settings.PASSWORD_RESET_TIMEOUT // 60))


# --- Orders ------------------------------------------------------------------------------


def order_context(order: Order) -> dict[str, Any]:
    return {
        "order": order, "name": order.shipping_first_name,
        "lines": [(line, order.money(line.total)) for line in order.lines.all()],
        "subtotal": order.money(order.subtotal), "discount": order.money(order.discount),
        "shipping": order.money(order.shipping_price), "tax": order.money(order.tax),
        "total": order.money(order.total), "refunded": order.money(order.total_refunded),
        "link": storefront_link(ORDER_PATH, token=str(order.token)),
    }


@shared_task(**RETRIED)
def send_order_email(event_id: str, order_id: int, kind: str, only: str = "") -> int:
    """The customer's email of an order's change (Kind.ORDER_*, PAYMENT_FAILED)."""
    order = Order.objects.select_related("user").filter(pk=order_id).first()
    if order is None:
        return 0
    if kind == Kind.PAYMENT_FAILED and order.payment_status != PaymentStatus.FAILED:
        return 0  # paid (or retried) since: the failure is old news
    return delivery.send(event_id, [Letter(
        kind=Kind(kind), to=order.email, user=order.user, order_id=order.pk,
        context=order_context(order))], only=only)


@shared_task(**RETRIED)
def send_dispute_alert(event_id: str, order_id: int, dispute_id: str, status: str,
                       only: str = "") -> int:
    """Tell the order desk (staff with manage_orders) that a payment is disputed."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return 0
    context = {"order": order, "dispute_id": dispute_id, "status": status,
               "total": order.money(order.total)}
    return delivery.send(event_id, [
        Letter(kind=Kind.ORDER_DISPUTED, to=staff.email, user=staff, order_id=order.pk,
               context=context)
        for staff in staff_with_perm(perm=Perm.MANAGE_ORDERS).order_by("pk")
    ], only=only)


@shared_task(**RETRIED)
def send_refund_failed_alert(event_id: str, order_id: int, refund_id: int, reason: str,
                             only: str = "") -> int:
    """Tell the order desk (staff with manage_orders) that a refund did not
    go through (RefundFailed): the money is still the customer's to get."""
    refund = (Refund.objects.select_related("payment__order")
              .filter(pk=refund_id, payment__order_id=order_id).first())
    if refund is None:
        return 0
    order = refund.payment.order
    context = {"order": order, "amount": order.money(refund.amount),
               "gateway": refund.payment.gateway, "reason": reason,
               "refunded": order.money(order.total_refunded), "total": order.money(order.total)}
    return delivery.send(event_id, [
        Letter(kind=Kind.REFUND_FAILED, to=staff.email, user=staff, order_id=order.pk,
               context=context)
        for staff in staff_with_perm(perm=Perm.MANAGE_ORDERS).order_by("pk")
    ], only=only)


# --- Stock and prices --------------------------------------------------------------------


def _live_variant(variant_id: int) -> ProductVariant | None:
    return (ProductVariant.objects.select_related("product")
            .filter(pk=variant_id, product__deleted_at__isnull=True).first())


@shared_task(**RETRIED)
def send_low_stock_alert(event_id: str, variant_id: int, only: str = "") -> int:
    """Email each catalog manager that a variant has run low (StockFellLow),
    unless it has been restocked since."""
    variant = _live_variant(variant_id)
    if variant is None:
        return 0
    available = variant_quantity_available(variant_id=variant.pk)
    if available > variant.low_stock_threshold:
        return 0
    context = {"variant": variant, "product": variant.product, "available": available}
    return delivery.send(event_id, [
        Letter(kind=Kind.LOW_STOCK, to=staff.email, user=staff, product_id=variant.product_id,
               context=context)
        for staff in staff_with_perm(perm=Perm.MANAGE_PRODUCTS).order_by("pk")
    ], only=only)


def _wishlist_letters(kind: Kind, topic: Topic, variant: ProductVariant,
                      context: dict[str, Any]) -> list[Letter]:
    """One letter to each customer who wishes for the variant's product and
    opted in to `topic`; none while the product is not on sale."""
    product = variant.product
    if not products_visible_to(user=None).filter(pk=product.pk).exists():
        return []
    context = {**context, "product": product, "variant": variant,
               "link": storefront_link(f"{PRODUCT_PATH}{product.slug}")}
    return [Letter(kind=kind, to=customer.email, user=customer, product_id=product.pk,
                   context={**context, "name": customer.first_name})
            for customer in customers_wishing(product_id=product.pk, topic=topic)]


@shared_task(**RETRIED)
def send_back_in_stock_notices(event_id: str, variant_id: int, only: str = "") -> int:
    """VariantBackInStock: the customers who wish for the product and asked to
    hear, at most once a day each per product."""
    variant = _live_variant(variant_id)
    if variant is None or variant_quantity_available(variant_id=variant.pk) <= 0:
        return 0
    letters = _wishlist_letters(Kind.BACK_IN_STOCK, Topic.BACK_IN_STOCK, variant, {})
    return delivery.send(event_id, letters, once_per=settings.NOTIFICATIONS_WISHLIST_INTERVAL,
                         only=only)


@shared_task(**RETRIED)
def send_price_drop_notices(event_id: str, variant_id: int, old_price: str,
                            only: str = "") -> int:
    """VariantPriceDropped: as back in stock, while the price is still lower."""
    variant = _live_variant(variant_id)
    if variant is None or variant.price >= Decimal(old_price):
        return 0
    context = {"old_price": Money.of(Decimal(old_price)), "new_price": variant.price_money}
    letters = _wishlist_letters(Kind.PRICE_DROP, Topic.PRICE_DROP, variant, context)
    return delivery.send(event_id, letters, once_per=settings.NOTIFICATIONS_WISHLIST_INTERVAL,
                         only=only)


# --- Sending a failed notification again -------------------------------------------------

# The kinds whose task reads all it needs from the notification's own row.
_ORDER_KINDS = frozenset({Kind.ORDER_CONFIRMATION, Kind.PAYMENT_FAILED, Kind.ORDER_SHIPPED,
                          Kind.ORDER_DELIVERED, Kind.ORDER_CANCELLED, Kind.ORDER_REFUNDED})
_ACCOUNT_TASKS = {Kind.ACCOUNT_CONFIRMATION: send_account_confirmation_email,
                  Kind.PASSWORD_RESET: send_password_reset_email,
                  Kind.STAFF_INVITATION: send_staff_invitation_email}
# The others take the event's own values (the outbox keeps them EVENTS_KEEP_SENT).
_EVENT_TASKS: dict[Kind, tuple[Any, tuple[str, ...]]] = {
    Kind.ORDER_DISPUTED: (send_dispute_alert, ("order_id", "dispute_id", "status")),
    Kind.REFUND_FAILED: (send_refund_failed_alert, ("order_id", "refund_id", "reason")),
    Kind.LOW_STOCK: (send_low_stock_alert, ("variant_id",)),
    Kind.BACK_IN_STOCK: (send_back_in_stock_notices, ("variant_id",)),
    Kind.PRICE_DROP: (send_price_drop_notices, ("variant_id", "old_price")),
    Kind.NEW_DEVICE_SIGN_IN: (send_new_device_email, ("attempt_id",)),
    Kind.TWO_FACTOR_CHANGED: (send_two_factor_email, ("user_id", "enabled")),
}


def resend_with_event(kind: Kind, task: Any, names: tuple[str, ...]) -> None:
    """Let a domain above this one whose task sends `kind` (apps.privacy) have
    it sent again: `task` is queued with the event id and the event's values
    `names`, as the kinds above. Notifications never import those domains."""
    _EVENT_TASKS[kind] = (task, names)


def resend_call(notification: Notification) -> tuple[Any, tuple[Any, ...]] | None:
    """The task of `notification`'s kind and the arguments it was queued with
    after its event id, to queue it again; None when they are lost (the
    event is no longer kept, the order or customer was deleted)."""
    kind = Kind(notification.kind)
    if kind in _ACCOUNT_TASKS:
        return (_ACCOUNT_TASKS[kind], (notification.user_id,)) if notification.user_id else None
    if kind in _ORDER_KINDS:
        return (send_order_email, (notification.order_id, kind.value)) \
            if notification.order_id else None
    if kind not in _EVENT_TASKS:
        return None
    task, names = _EVENT_TASKS[kind]
    row = OutboxEvent.objects.filter(pk=notification.event_id).first()
    if row is None or not all(name in row.payload for name in names):
        return None
    return task, tuple(row.payload[name] for name in names)


def notification_queue_again(*, notification_id: int) -> bool:
    """Queue a FAILED notification's kind again, for its event and its one
    recipient (NotificationResendRequested); whether it was. The task decides
    again as it did the first time (a failed payment since paid is not told)
    and sends through the log, so a notification SENT meanwhile is not sent
    twice."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.status == Notification.Status.SENT:
        return False
    call = resend_call(notification)
    if call is None:
        return False
    task, args = call
    task.delay(str(notification.event_id), *args, only=notification.recipient)
    return True
