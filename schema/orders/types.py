"""Order types: an order as its customer, a guest holding its token, and the
order desk see it, with its lines, its history and its payments.

Visibility is the Order's: `Order.get_queryset` applies
apps.orders.selectors.orders_visible_to to lists and `node(id:)`. Lines and
events are read through their order and never on their own, so they are not
Nodes and have no rule of their own; `orderByToken` finds its order without
the rule (the token is the guest's key) and its lines come with it.
"""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
import strawberry_django
from strawberry import relay

from apps.accounts.permissions import Perm
from apps.orders import models, selectors
from schema.cost import list_size
from schema.money import Money
from schema.permissions import StaffPerm, visible_through
from schema.resolvers import async_safe

if TYPE_CHECKING:
    from schema.accounts.types import User

# strawberry.enum marks the model's choices in place: the model's enum is the
# GraphQL one.
strawberry.enum(
    models.OrderStatus, name="OrderStatus",
    description="Where the goods are: PENDING (placed, awaiting payment), PROCESSING "
    "(paid, to fulfil), SHIPPED, DELIVERED, CANCELLED.",
)
OrderStatus = models.OrderStatus

strawberry.enum(
    models.PaymentStatus, name="PaymentStatus",
    description="Where an order's money is: NOT_CHARGED, PENDING (the gateway waits for "
    "the customer), PAID, PARTIALLY_REFUNDED, REFUNDED, FAILED.",
)
PaymentStatus = models.PaymentStatus

strawberry.enum(
    models.OrderEvent.Type, name="OrderEventType",
    description="What happened to an order: one entry of its history.",
)
OrderEventType = models.OrderEvent.Type

strawberry.enum(
    models.Payment.Status, name="PaymentChargeStatus",
    description="Where one charge through a gateway stands: PENDING (the gateway waits for "
    "the customer, e.g. Stripe's confirmation), SUCCEEDED, DECLINED, CANCELLED.",
)
PaymentChargeStatus = models.Payment.Status

# What the query cost assumes of the lists an order has: a generous order
# (the contract's MyOrders at first: 100 must fit the budget), and a long
# history.
ASSUMED_LINES = 20
ASSUMED_EVENTS = 50


def order_money(column: str, description: str | None = None) -> Any:
    """A field answering one of the order's money columns in its currency."""

    @strawberry_django.field(only=[column, "currency"], description=description)
    @async_safe
    def resolve(root: models.Order) -> Money:
        amount: Decimal = getattr(root, column)
        return Money.of(amount, root.currency)

    return resolve


def line_money(column: str, description: str | None = None) -> Any:
    """A field answering one of a line's money columns in its order's currency.
    Not async-safe: a line answered outside a query the optimizer planned (a
    mutation's payload) reads its order's currency then."""

    @strawberry_django.field(only=[column, "order__currency"], select_related=["order"],
                             description=description)
    def resolve(root: models.OrderLine) -> Money:
        amount: Decimal = getattr(root, column)
        return Money.of(amount, root.order.currency)

    return resolve


@strawberry.type(description="The address an order ships to, as it was when it was placed.")
class OrderAddress:
    first_name: str
    last_name: str
    company: str
    street_address_1: str
    street_address_2: str
    city: str
    postal_code: str
    country_area: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    phone: str


ADDRESS_FIELDS = [field.python_name for field in
                  OrderAddress.__strawberry_definition__.fields]  # type: ignore[attr-defined]


@strawberry_django.type(models.OrderLine, name="OrderLine",
                        description="One product variant bought, as it was when the order "
                        "was placed: renaming or repricing the product changes nothing here.")
class OrderLine:
    product_name: str
    variant_name: str
    sku: str
    quantity: int
    unit_price = line_money("unit_price", "The price of one, before tax and discount.")
    discount = line_money("discount", "What the coupon took off this line.")
    total = line_money("total", "unit price × quantity − discount, before tax.")
    tax = line_money("tax")

    @strawberry_django.field(only=["id"], description="Opaque and stable; a line is read "
                             "with its order, not through `node`.")
    @async_safe
    def id(self, root: models.OrderLine) -> strawberry.ID:
        return strawberry.ID(relay.to_base64("OrderLine", root.pk))


def event_actor(root: models.OrderEvent) -> Any:
    # Joined, not filtered through User.get_queryset: the desk sees who acted
    # without the customers permission (the field's rule keeps customers out).
    return root.actor


@strawberry_django.type(models.OrderEvent, name="OrderEvent",
                        description="One entry of an order's history, oldest first.")
class OrderEvent:
    type: OrderEventType
    message: str
    created_at: datetime
    actor: Annotated["User", strawberry.lazy("schema.accounts.types")] | None = (
        strawberry_django.field(
            resolver=event_actor, select_related=["actor"],
            extensions=[StaffPerm(Perm.MANAGE_ORDERS)],
            description="Who did it: the customer, a member of staff; null for the shop "
            "itself (a payment's confirmation). The order desk only.",
        )
    )

    @strawberry_django.field(only=["to_status"], description="The status after it.")
    @async_safe
    def status(self, root: models.OrderEvent) -> OrderStatus | None:
        return OrderStatus(root.to_status) if root.to_status else None

    @strawberry_django.field(only=["to_payment_status"],
                             description="The payment status after it.")
    @async_safe
    def payment_status(self, root: models.OrderEvent) -> PaymentStatus | None:
        return PaymentStatus(root.to_payment_status) if root.to_payment_status else None


@strawberry_django.type(models.Payment, name="Payment",
                        description="One charge through a payment gateway.")
class Payment(relay.Node):
    id: relay.NodeID[int]
    gateway: str = strawberry_django.field(description="The gateway's id: dummy, stripe.")
    status: PaymentChargeStatus
    created_at: datetime

    get_queryset = visible_through(selectors.payments_visible_to)

    @strawberry_django.field(only=["amount", "currency"])
    @async_safe
    def amount(self, root: models.Payment) -> Money:
        return Money.of(root.amount, root.currency)

    @strawberry_django.field(
        only=["client_secret"],
        description="What the storefront's payment form needs to finish a pending charge "
        "(Stripe's PaymentIntent client secret); null for gateways that charge at once.",
    )
    @async_safe
    def client_secret(self, root: models.Payment) -> str | None:
        return root.client_secret or None


def order_payments(root: models.Order) -> list[models.Payment]:
    # Prefetched, not filtered through Payment.get_queryset: whoever sees the
    # order (the guest holding its token too) sees how it was paid.
    return list(root.payments.all())


def order_customer(root: models.Order) -> Any:
    # Joined, not filtered through User.get_queryset: whoever sees the order
    # (its owner, the order desk) sees who placed it.
    return root.user


@strawberry_django.type(models.Order, name="Order")
class Order(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry_django.field(description="What the customer quotes: unique, "
                                          "human-friendly.")
    token: UUID = strawberry_django.field(description="The guest's receipt link: whoever "
                                          "holds it reads the order with orderByToken.")
    status: OrderStatus
    payment_status: PaymentStatus
    email: str
    created_at: datetime
    updated_at: datetime
    shipping_method_name: str
    coupon_code: str
    lines: list[OrderLine] = strawberry_django.field(directives=list_size(ASSUMED_LINES))
    events: list[OrderEvent] = strawberry_django.field(
        description="The order's history, oldest first.", directives=list_size(ASSUMED_EVENTS),
    )
    payments: list[models.Payment] = strawberry_django.field(
        resolver=order_payments, prefetch_related=["payments"], graphql_type=list[Payment],
        description="The charges made for it, oldest first.", directives=list_size(10),
    )
    customer: Annotated["User", strawberry.lazy("schema.accounts.types")] | None = (
        strawberry_django.field(
            resolver=order_customer, select_related=["user"],
            description="The account that placed it; null for a guest's order.",
        )
    )

    subtotal = order_money("subtotal", "The lines before discount, tax and shipping.")
    discount = order_money("discount", "What the coupon took off.")
    shipping_price = order_money("shipping_price")
    tax = order_money("tax", "On the lines and on shipping (prices are tax-exclusive).")
    total = order_money("total", "subtotal − discount + shipping + tax: what was charged.")
    total_refunded = order_money("total_refunded", "Given back so far, in all.")

    get_queryset = visible_through(selectors.orders_visible_to)

    @strawberry_django.field(only=["tracking_number"],
                             description="The carrier's, once shipped; null until then.")
    @async_safe
    def tracking_number(self, root: models.Order) -> str | None:
        return root.tracking_number or None

    @strawberry_django.field(only=[f"shipping_{name}" for name in ADDRESS_FIELDS])
    @async_safe
    def shipping_address(self, root: models.Order) -> OrderAddress | None:
        values = {name: getattr(root, f"shipping_{name}") for name in ADDRESS_FIELDS}
        return OrderAddress(**values) if any(values.values()) else None
