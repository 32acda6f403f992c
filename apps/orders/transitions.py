"""An order's life as a state machine: the moves, and for each the states it
is allowed from and where it leads. Pure data and functions, no database:
apps.orders.services.transitions.order_transition applies a move to the row.

An order has two states that move together or apart: its status (where the
goods are) and its payment status (where the money is). Each move names the
sources and target of each that it changes; one it does not name is left as
it is, whatever it is. So refunds, which change the payment status only, are
allowed on a paid order in any status.

    PENDING ──pay──▶ PROCESSING ──fulfil──▶ SHIPPED ──deliver──▶ DELIVERED
       │                 │
       └────cancel───────┴──▶ CANCELLED        (nothing leaves DELIVERED or
                                                CANCELLED)

A cancelled order still takes one move of its payment status: money the
gateway took after all (a payment that went through after the order
expired) is recorded as PAID (PAY_LATE), to be refunded at once.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from apps.orders.models import OrderEvent, OrderStatus, PaymentStatus


class Move(StrEnum):
    # The gateway answered "pending" (Stripe: the customer confirms in the
    # browser); the order waits for it.
    PAYMENT_PENDING = "payment_pending"
    PAY = "pay"
    PAYMENT_FAIL = "payment_fail"
    FULFIL = "fulfil"
    DELIVER = "deliver"
    CANCEL = "cancel"
    REFUND_PART = "refund_part"
    REFUND_ALL = "refund_all"
    # A charge still waiting for the customer is given up (the order was
    # cancelled before they confirmed): nothing was taken.
    PAYMENT_CANCEL = "payment_cancel"
    # The gateway took the money after the order was cancelled (a payment
    # that went through once the order had expired): recorded, so that it
    # can be refunded; the goods stay where they are. A note, not PAID, so
    # that nothing reacting to a paid order starts on a cancelled one.
    PAY_LATE = "pay_late"
    # A refund counted as given back failed afterwards at the gateway (Stripe:
    # the card was closed): its amount is to refund again. Back to PAID when
    # no other refund stands (REFUND_FAIL), PARTIALLY_REFUNDED while one
    # does (REFUND_FAIL_PART). A note, so that no customer is told "refunded".
    REFUND_FAIL = "refund_fail"
    REFUND_FAIL_PART = "refund_fail_part"


@dataclass(frozen=True, slots=True)
class Rule:
    event: OrderEvent.Type
    status_from: frozenset[OrderStatus] | None = None
    status_to: OrderStatus | None = None
    payment_from: frozenset[PaymentStatus] | None = None
    payment_to: PaymentStatus | None = None


UNPAID = frozenset({PaymentStatus.NOT_CHARGED, PaymentStatus.PENDING, PaymentStatus.FAILED})
REFUNDABLE = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})
REFUNDED_SOME = frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
OPEN = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING})

TRANSITIONS: Mapping[Move, Rule] = {
    Move.PAYMENT_PENDING: Rule(
        OrderEvent.Type.NOTE,
        status_from=frozenset({OrderStatus.PENDING}),
        payment_from=frozenset({PaymentStatus.NOT_CHARGED, PaymentStatus.FAILED}),
        payment_to=PaymentStatus.PENDING,
    ),
    Move.PAY: Rule(
        OrderEvent.Type.PAID,
        status_from=frozenset({OrderStatus.PENDING}), status_to=OrderStatus.PROCESSING,
        payment_from=UNPAID, payment_to=PaymentStatus.PAID,
    ),
    Move.PAYMENT_FAIL: Rule(
        OrderEvent.Type.PAYMENT_FAILED,
        status_from=frozenset({OrderStatus.PENDING}),
        payment_from=frozenset({PaymentStatus.NOT_CHARGED, PaymentStatus.PENDING}),
        payment_to=PaymentStatus.FAILED,
    ),
    Move.FULFIL: Rule(
        OrderEvent.Type.FULFILLED,
        status_from=frozenset({OrderStatus.PROCESSING}), status_to=OrderStatus.SHIPPED,
    ),
    Move.DELIVER: Rule(
        OrderEvent.Type.DELIVERED,
        status_from=frozenset({OrderStatus.SHIPPED}), status_to=OrderStatus.DELIVERED,
    ),
    Move.CANCEL: Rule(
        OrderEvent.Type.CANCELLED, status_from=OPEN, status_to=OrderStatus.CANCELLED,
    ),
    Move.REFUND_PART: Rule(
        OrderEvent.Type.REFUNDED,
        payment_from=REFUNDABLE, payment_to=PaymentStatus.PARTIALLY_REFUNDED,
    ),
    Move.REFUND_ALL: Rule(
        OrderEvent.Type.REFUNDED, payment_from=REFUNDABLE, payment_to=PaymentStatus.REFUNDED,
    ),
    Move.PAYMENT_CANCEL: Rule(
        OrderEvent.Type.NOTE,
        payment_from=frozenset({PaymentStatus.PENDING}), payment_to=PaymentStatus.NOT_CHARGED,
    ),
    Move.PAY_LATE: Rule(
        OrderEvent.Type.NOTE,
        status_from=frozenset({OrderStatus.CANCELLED}),
        payment_from=UNPAID, payment_to=PaymentStatus.PAID,
    ),
    Move.REFUND_FAIL: Rule(
        OrderEvent.Type.NOTE, payment_from=REFUNDED_SOME, payment_to=PaymentStatus.PAID,
    ),
    Move.REFUND_FAIL_PART: Rule(
        OrderEvent.Type.NOTE, payment_from=REFUNDED_SOME,
        payment_to=PaymentStatus.PARTIALLY_REFUNDED,
    ),
}


def allowed(move: Move, *, status: str, payment_status: str) -> bool:
    rule = TRANSITIONS[move]
    return (rule.status_from is None or status in rule.status_from) and (
        rule.payment_from is None or payment_status in rule.payment_from
    )
