"""What a webhook can be told, and which outbox event tells it: the one table
from apps.core.events to webhook event types. An event type a shop has not
got an event for yet is not listed; an event that has no webhook type (an
order note, a password reset) is not sent anywhere."""

from django.db import models

from apps.core import events


class WebhookEventType(models.TextChoices):
    """Named as Standard Webhooks suggests, `<subject>.<what happened>`."""

    ORDER_CREATED = "order.created", "An order was placed"
    ORDER_PAID = "order.paid", "An order was paid"
    ORDER_SHIPPED = "order.shipped", "An order was shipped"
    ORDER_DELIVERED = "order.delivered", "An order was delivered"
    ORDER_CANCELLED = "order.cancelled", "An order was cancelled"
    ORDER_REFUNDED = "order.refunded", "An order was refunded, in part or in full"
    PRODUCT_CREATED = "product.created", "A product was created"
    PRODUCT_UPDATED = "product.updated", (
        "What a product's pages show changed: its fields, variants, images or reviews")
    PRODUCT_PUBLISHED = "product.published", "A product was published"
    PRODUCT_UNPUBLISHED = "product.unpublished", "A product was unpublished"
    PRODUCT_DELETED = "product.deleted", "A product was deleted"
    PRODUCT_RESTORED = "product.restored", "A deleted product was restored"
    CATEGORY_CHANGED = "category.changed", "A category was created, changed, moved or deleted"
    STOCK_CHANGED = "stock.changed", "A variant's available stock changed"
    STOCK_LOW = "stock.low", "A variant's available stock fell to its threshold"


# (outbox event class, the OrderChanged.event_type it carries or None) -> what
# a webhook is told. OrderChanged's types are apps.orders.models.OrderEvent.Type
# values, written here as text so that this table does not need the orders.
WEBHOOK_EVENTS: dict[tuple[type[events.Event], str | None], WebhookEventType] = {
    (events.OrderPlaced, None): WebhookEventType.ORDER_CREATED,
    (events.OrderChanged, "PAID"): WebhookEventType.ORDER_PAID,
    (events.OrderChanged, "FULFILLED"): WebhookEventType.ORDER_SHIPPED,
    (events.OrderChanged, "DELIVERED"): WebhookEventType.ORDER_DELIVERED,
    (events.OrderChanged, "CANCELLED"): WebhookEventType.ORDER_CANCELLED,
    (events.OrderChanged, "REFUNDED"): WebhookEventType.ORDER_REFUNDED,
    (events.ProductCreated, None): WebhookEventType.PRODUCT_CREATED,
    (events.ProductChanged, None): WebhookEventType.PRODUCT_UPDATED,
    (events.ProductPublished, None): WebhookEventType.PRODUCT_PUBLISHED,
    (events.ProductUnpublished, None): WebhookEventType.PRODUCT_UNPUBLISHED,
    (events.ProductDeleted, None): WebhookEventType.PRODUCT_DELETED,
    (events.ProductRestored, None): WebhookEventType.PRODUCT_RESTORED,
    (events.CategoryChanged, None): WebhookEventType.CATEGORY_CHANGED,
    (events.StockChanged, None): WebhookEventType.STOCK_CHANGED,
    (events.StockFellLow, None): WebhookEventType.STOCK_LOW,
}

# The outbox events the handlers listen to (apps.webhooks.handlers).
OUTBOX_EVENTS: tuple[type[events.Event], ...] = tuple(
    dict.fromkeys(event_class for event_class, _ in WEBHOOK_EVENTS))


def webhook_event_type(event: events.Event) -> WebhookEventType | None:
    """What a webhook is told of `event`; None when nothing."""
    kind = event.event_type if isinstance(event, events.OrderChanged) else None
    return WEBHOOK_EVENTS.get((type(event), kind))
