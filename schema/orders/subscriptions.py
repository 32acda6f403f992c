"""orderUpdated and orderCreated: an order's changes and the desk's new
orders, over WebSocket (schema.views.GraphQLWebSocketConsumer).

Each resolver is a coroutine that settles everything the subscriber may be
refused (its rule has already run; then the order, for orderUpdated) before
it hands back the stream, so that a refusal is the operation's own `error`
message and the socket stays open. The stream joins a group of the channel
layer (apps.orders.live) and, for every message, reads the subscriber's
account and the order again in a thread: what it sends is what they may see
at that moment, and an account deactivated, a permission taken away or an
order no longer theirs ends the stream with that refusal, as a request
would get it now.
"""

from collections.abc import AsyncGenerator, Callable
from typing import Annotated

import strawberry
from asgiref.sync import sync_to_async
from graphql import GraphQLError
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.orders import live, models
from schema.ids import pk_from_global_id
from schema.live import membership_kept
from schema.orders.types import Order
from schema.permissions import Rule, SignedIn, StaffPerm, signed_in_user

# The rules of the two fields, kept to be checked again on every message.
OWNER_OR_DESK = SignedIn()
ORDER_DESK = StaffPerm(Perm.MANAGE_ORDERS)


def no_such_order() -> GraphQLError:
    # Someone else's order reads exactly as one that does not exist.
    return GraphQLError("No order with this ID.", extensions={"code": "NOT_FOUND"})


def _read(rule: Rule, user_id: int, order_id: int) -> models.Order | None:
    """The order a message names, or None when the subscriber may not see
    it; raises the rule's refusal when the subscriber may no longer ask."""
    user = live.subscriber(user_id=user_id)
    refusal = rule.refuse(user)
    if refusal is not None:
        raise refusal
    assert user is not None  # both rules refuse an anonymous caller
    return live.order_for_subscriber(user=user, order_id=order_id)


read_order = sync_to_async(_read)


async def _orders(
    info: Info, *, rule: Rule, group: str, message_type: str,
    current: int | None = None, missing: Callable[[], GraphQLError] | None = None,
) -> AsyncGenerator[models.Order, None]:
    """The orders the messages to `group` name, each read again for the
    subscriber: first `current` as it is once the group is joined (so that no
    change between the subscriber's last read and the join is lost), then
    one a message. An order no longer visible raises `missing()`, or is
    skipped when there is none.

    A message repeated (its event's handlers ran again) sends the order
    again: the subscriber may hear of a change twice, never miss one."""
    user_id = signed_in_user(info).pk

    async def visible(order_id: int) -> models.Order | None:
        order = await read_order(rule, user_id, order_id)
        if order is None and missing is not None:
            raise missing()
        return order

    consumer = info.context.request
    async with consumer.listen_to_channel(message_type, groups=[group]) as messages, (
        membership_kept(consumer, group)
    ):
        if current is not None and (order := await visible(current)) is not None:
            yield order
        async for message in messages:
            order_id = live.order_id_of(message)
            # A connection's subscriptions share its channel, and each hears
            # every message of its type: one order's hears of others too.
            if order_id is None or current not in (None, order_id):
                continue
            if (order := await visible(order_id)) is not None:
                yield order


@strawberry.type
class OrderSubscription:
    @strawberry.subscription(
        extensions=[OWNER_OR_DESK], graphql_type=Order,
        description="The order as it is now, then again each time its status, payment "
                    "status or tracking number changes: for its customer and for staff who "
                    "manage orders. Someone else's order is NOT_FOUND.",
    )
    async def order_updated(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's ID.")],
    ) -> AsyncGenerator[models.Order, None]:
        user_id = signed_in_user(info).pk
        pk = pk_from_global_id(id, "Order")
        if pk is None or await read_order(OWNER_OR_DESK, user_id, pk) is None:
            raise no_such_order()
        return _orders(info, rule=OWNER_OR_DESK, group=live.order_group(pk),
                       message_type=live.UPDATED, current=pk, missing=no_such_order)

    @strawberry.subscription(
        extensions=[ORDER_DESK], graphql_type=Order,
        description="Each order as it is placed: for staff who manage orders.",
    )
    async def order_created(self, info: Info) -> AsyncGenerator[models.Order, None]:
        return _orders(info, rule=ORDER_DESK, group=live.CREATED_GROUP,
                       message_type=live.CREATED)
