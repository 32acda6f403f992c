"""Order mutations: the customer's cancellation, and the order desk's
fulfilment, delivery, cancellation and refunds. Thin resolvers over
apps.orders.services; each answers the order as it now is."""

from decimal import Decimal

import strawberry
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.orders import models, selectors
from apps.orders.services import cancellation, fulfilment, refunds
from schema.errors import Payload, payload_mutation
from schema.ids import get_node
from schema.orders.types import Order
from schema.permissions import SignedIn, StaffPerm, signed_in_user


@strawberry.type
class OrderAnswer(Payload):
    """What every order mutation answers."""

    order: models.Order | None = strawberry.field(default=None, graphql_type=Order | None)


@strawberry.type
class OrderCancelPayload(OrderAnswer):
    pass


@strawberry.type
class OrderFulfillPayload(OrderAnswer):
    pass


@strawberry.type
class OrderMarkDeliveredPayload(OrderAnswer):
    pass


@strawberry.type
class OrderAdminCancelPayload(OrderAnswer):
    pass


@strawberry.type
class OrderRefundPayload(OrderAnswer):
    pass


def desk_order(info: Info, order_id: strawberry.ID) -> models.Order:
    """The order an ID names, for the order desk; NOT_FOUND on `id` otherwise."""
    return get_node(selectors.orders_visible_to(user=signed_in_user(info)), order_id,
                    type_name="Order", field="id")


@strawberry.type
class OrderMutation:
    @payload_mutation(
        extensions=[SignedIn()],
        description="The customer cancels their own order while it is PENDING or "
        "PROCESSING: its stock is released, a paid order refunded in full (REFUNDED). "
        "Someone else's order is NOT_FOUND; staff cancel with orderAdminCancel. The payment "
        "gateway out of reach is PAYMENT_UNAVAILABLE: nothing cancelled, ask again (a refund "
        "made whose answer was lost is not made twice).",
    )
    def order_cancel(self, info: Info, id: strawberry.ID) -> OrderCancelPayload:
        user = signed_in_user(info)
        order = get_node(selectors.orders_of(user=user), id, type_name="Order", field="id")
        return OrderCancelPayload(order=cancellation.order_cancel(order=order, actor=user))

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_ORDERS)],
        description="Ship a PROCESSING order (SHIPPED): its stock leaves the warehouse.",
    )
    def order_fulfill(self, info: Info, id: strawberry.ID,
                      tracking_number: str | None = None) -> OrderFulfillPayload:
        order = fulfilment.order_fulfil(order=desk_order(info, id), actor=signed_in_user(info),
                                        tracking_number=tracking_number)
        return OrderFulfillPayload(order=order)

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_ORDERS)],
        description="A SHIPPED order arrived (DELIVERED).",
    )
    def order_mark_delivered(self, info: Info, id: strawberry.ID) -> OrderMarkDeliveredPayload:
        order = fulfilment.order_mark_delivered(order=desk_order(info, id),
                                                actor=signed_in_user(info))
        return OrderMarkDeliveredPayload(order=order)

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_ORDERS)],
        description="Cancel a PENDING or PROCESSING order, as orderCancel does; the reason "
        "goes into its history.",
    )
    def order_admin_cancel(self, info: Info, id: strawberry.ID,
                           reason: str | None = None) -> OrderAdminCancelPayload:
        order = cancellation.order_admin_cancel(order=desk_order(info, id),
                                                actor=signed_in_user(info), reason=reason)
        return OrderAdminCancelPayload(order=order)

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_ORDERS)],
        description="Give back `amount` of what was paid (shipping and tax included), or "
        "all that is left when it is left out; more than is left is INVALID. "
        "PARTIALLY_REFUNDED while something is left, then REFUNDED. The payment gateway out "
        "of reach is PAYMENT_UNAVAILABLE (nothing counted; asking again settles that refund, "
        "never making it twice, and makes no other); a refund it refuses "
        "is INVALID, kept as a FAILED refund in the order's history.",
    )
    def order_refund(self, info: Info, id: strawberry.ID,
                     amount: Decimal | None = None) -> OrderRefundPayload:
        order = refunds.order_refund(order=desk_order(info, id), actor=signed_in_user(info),
                                     amount=amount)
        return OrderRefundPayload(order=order)
