"""Live order events: what the channel layer carries to the subscriptions
orderUpdated and orderCreated, and what a subscriber is shown.

The order events' handlers (apps.orders.handlers) announce a change after
its transaction committed, by sending a message of plain ids to a group of
the Channels channel layer: "order.<id>" for a change of one order,
"orders.created" for a placed one. Each subscription has joined its group,
and on every message re-reads the order through `order_for_subscriber`, so
what it sends is what the subscriber may see now, never what the message
said. With the Redis channel layer (REDIS_URL) a group spans every server
process; with the in-memory one (development, the test suite) one process.

A message is a hint, not a fact: it may come twice (an event's handlers run
again when one of them failed) or late (after an outage, from the retries
of apps.core.events); re-reading makes either harmless.
"""

from typing import Any, Final

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.accounts.models import User

from .models import Order
from .selectors import orders_visible_to

CREATED_GROUP: Final = "orders.created"
# The message types, which a listening consumer waits for (strawberry's
# ChannelsConsumer.listen_to_channel); never "websocket.*" or "http.*".
UPDATED: Final = "order.updated"
CREATED: Final = "order.created"


def order_group(order_id: int) -> str:
    """The group that hears of every change of one order."""
    return f"order.{order_id}"


def _send(group: str, message: dict[str, Any], layer: Any) -> None:
    layer = layer or get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def announce_order_changed(*, order_id: int, layer: Any = None) -> None:
    """Tell the order's subscribers that it changed. Called after the commit;
    `layer` is for a caller that holds its own (another process, a test)."""
    _send(order_group(order_id), {"type": UPDATED, "order_id": order_id}, layer)


def announce_order_placed(*, order_id: int, layer: Any = None) -> None:
    """Tell the order desk's subscribers that an order was placed."""
    _send(CREATED_GROUP, {"type": CREATED, "order_id": order_id}, layer)


def order_id_of(message: dict[str, Any]) -> int | None:
    """The order a channel-layer message names; None for one of another shape
    (the layer is shared, and a message is read, not trusted)."""
    value = message.get("order_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def subscriber(*, user_id: int) -> User | None:
    """The account behind a subscription as it is now: None once it is gone
    or deactivated, so that deactivation stops the events at once, as it
    stops the account's tokens; read again for every message, so that a
    permission taken away counts too."""
    return User.objects.filter(pk=user_id, is_active=True).first()


def order_for_subscriber(*, user: User, order_id: int) -> Order | None:
    """The order, if the subscriber may see it (apps.orders.selectors)."""
    return orders_visible_to(user=user, queryset=Order.objects.filter(pk=order_id)).first()
