"""The order state machine: the table pair by pair, and its applier on the
database (a refused move changes nothing; an applied one leaves an event)."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.errors import ErrorCode, ServiceError
from apps.orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
from apps.orders.services.transitions import order_transition
from apps.orders.transitions import TRANSITIONS, Move, allowed
from tests.factories import make_order, make_product, make_variant

S, P = OrderStatus, PaymentStatus
STATES = list(itertools.product(S, P))

# Where the goods may go (API.md, issue 8): every pair of statuses, and
# whether some move leads from the one to the other.
STATUS_EDGES = {
    (S.PENDING, S.PROCESSING), (S.PENDING, S.CANCELLED),
    (S.PROCESSING, S.SHIPPED), (S.PROCESSING, S.CANCELLED),
    (S.SHIPPED, S.DELIVERED),
}
# Where the money may go.
PAYMENT_EDGES = {
    (P.NOT_CHARGED, P.PENDING), (P.NOT_CHARGED, P.PAID), (P.NOT_CHARGED, P.FAILED),
    (P.PENDING, P.PAID), (P.PENDING, P.FAILED), (P.PENDING, P.NOT_CHARGED),
    (P.FAILED, P.PENDING), (P.FAILED, P.PAID),
    (P.PAID, P.PARTIALLY_REFUNDED), (P.PAID, P.REFUNDED),
    (P.PARTIALLY_REFUNDED, P.PARTIALLY_REFUNDED), (P.PARTIALLY_REFUNDED, P.REFUNDED),
    # A refund that failed at the gateway after it was counted.
    (P.PARTIALLY_REFUNDED, P.PAID), (P.REFUNDED, P.PAID), (P.REFUNDED, P.PARTIALLY_REFUNDED),
}


def after(move: Move, status: S, payment: P) -> tuple[S, P]:
    rule = TRANSITIONS[move]
    return rule.status_to or status, rule.payment_to or payment


def moves_from(status: S, payment: P) -> dict[Move, tuple[S, P]]:
    return {move: after(move, status, payment) for move in Move
            if allowed(move, status=status, payment_status=payment)}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S, S)))
def test_status_pairs(source, target):
    reachable = {
        to for payment in P for to, _ in moves_from(source, payment).values() if to != source
    }
    assert (target in reachable) == ((source, target) in STATUS_EDGES)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(P, P)))
def test_payment_status_pairs(source, target):
    reachable = {
        to for status in S for move, (_, to) in moves_from(status, source).items()
        if TRANSITIONS[move].payment_to is not None
    }
    assert (target in reachable) == ((source, target) in PAYMENT_EDGES)


@pytest.mark.parametrize("status", [S.DELIVERED, S.CANCELLED])
def test_nothing_leaves_delivered_or_cancelled_but_refunds(status):
    for payment in P:
        for move, (to, _) in moves_from(status, payment).items():
            assert to == status and move in (Move.REFUND_PART, Move.REFUND_ALL,
                                             Move.PAYMENT_CANCEL, Move.PAY_LATE,
                                             Move.REFUND_FAIL, Move.REFUND_FAIL_PART)


@pytest.mark.parametrize(("status", "payment"), STATES)
def test_money_taken_after_a_cancellation_is_recorded_only_on_a_cancelled_unpaid_order(
        status, payment):
    """PAY_LATE records what the gateway took once the order was given up, so
    that it can be refunded (then REFUND_ALL, allowed in any status); the
    order stays CANCELLED, and nothing else may use it."""
    moves = moves_from(status, payment)
    if status == S.CANCELLED and payment in (P.NOT_CHARGED, P.PENDING, P.FAILED):
        assert moves[Move.PAY_LATE] == (S.CANCELLED, P.PAID)
        assert moves_from(*moves[Move.PAY_LATE])[Move.REFUND_ALL] == (S.CANCELLED, P.REFUNDED)
    else:
        assert Move.PAY_LATE not in moves
    assert TRANSITIONS[Move.PAY_LATE].event == OrderEvent.Type.NOTE  # nothing reacts as to PAID


@pytest.mark.parametrize("status", list(S))
def test_a_paid_order_may_be_refunded_in_any_status(status):
    for payment in (P.PAID, P.PARTIALLY_REFUNDED):
        assert moves_from(status, payment)[Move.REFUND_ALL] == (status, P.REFUNDED)
        assert moves_from(status, payment)[Move.REFUND_PART] == (status, P.PARTIALLY_REFUNDED)
    for payment in (P.NOT_CHARGED, P.PENDING, P.FAILED, P.REFUNDED):
        assert Move.REFUND_ALL not in moves_from(status, payment)


@pytest.mark.parametrize("status", list(S))
def test_a_failed_refund_gives_the_money_back_to_refund_in_any_status(status):
    for payment in (P.PARTIALLY_REFUNDED, P.REFUNDED):
        assert moves_from(status, payment)[Move.REFUND_FAIL] == (status, P.PAID)
        assert moves_from(status, payment)[Move.REFUND_FAIL_PART] == (status,
                                                                      P.PARTIALLY_REFUNDED)
    for payment in (P.NOT_CHARGED, P.PENDING, P.FAILED, P.PAID):
        assert Move.REFUND_FAIL not in moves_from(status, payment)
    # Nobody is told "refunded" again, or "paid".
    assert {TRANSITIONS[m].event for m in (Move.REFUND_FAIL, Move.REFUND_FAIL_PART)} == {
        OrderEvent.Type.NOTE}


def test_paying_moves_only_a_pending_order():
    assert moves_from(S.PENDING, P.NOT_CHARGED)[Move.PAY] == (S.PROCESSING, P.PAID)
    assert moves_from(S.PENDING, P.PENDING)[Move.PAY] == (S.PROCESSING, P.PAID)
    for status in (S.PROCESSING, S.SHIPPED, S.DELIVERED, S.CANCELLED):
        assert Move.PAY not in moves_from(status, P.NOT_CHARGED)


# --- The applier -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("move", "state"), [
    (move, state) for move in Move for state in STATES
    # One payment status per status where the move does not look at it.
    if TRANSITIONS[move].payment_from is not None or state[1] == P.PAID
])
def test_the_applier_follows_the_table(move, state):
    status, payment = state
    variant = make_variant(product=make_product(), stock=5)
    order = make_order(lines=[(variant, 1)], status=status, payment_status=payment,
                       paid_with=None)
    if allowed(move, status=status, payment_status=payment):
        order_transition(order=order, move=move, message="why")
        order.refresh_from_db()
        assert (order.status, order.payment_status) == after(move, status, payment)
        event = order.events.last()
        assert (event.type, event.message) == (TRANSITIONS[move].event, "why")
        assert (event.from_status, event.from_payment_status) == (status, payment)
        assert (event.to_status, event.to_payment_status) == after(move, status, payment)
    else:
        with pytest.raises(ServiceError) as refused:
            order_transition(order=order, move=move)
        assert refused.value.errors[0].code == ErrorCode.INVALID_TRANSITION
        assert Order.objects.values_list("status", "payment_status").get(pk=order.pk) == state
        assert order.events.count() == 1  # PLACED only


@pytest.mark.django_db
def test_a_stale_order_in_memory_is_moved_from_its_states_in_the_database():
    variant = make_variant(product=make_product(), stock=5)
    order = make_order(lines=[(variant, 1)], status="PROCESSING", payment_status="PAID")
    stale = Order.objects.get(pk=order.pk)
    order_transition(order=order, move=Move.CANCEL)
    with pytest.raises(ServiceError, match="cancelled order"):
        order_transition(order=stale, move=Move.FULFIL)
    assert OrderEvent.objects.filter(order=order, type=OrderEvent.Type.FULFILLED).count() == 0


@pytest.mark.django_db
def test_changes_travel_with_the_move_in_one_update():
    variant = make_variant(product=make_product(), stock=5)
    order = make_order(lines=[(variant, 1)], status="PROCESSING", payment_status="PAID")
    with CaptureQueriesContext(connection) as queries:
        order_transition(order=order, move=Move.FULFIL, tracking_number="TRACK-1")
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "orders_order"')]
    assert len(updates) == 1 and "tracking_number" in updates[0]
    assert Order.objects.get(pk=order.pk).tracking_number == "TRACK-1"
