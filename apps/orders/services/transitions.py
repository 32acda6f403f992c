"""The one way an order's status or payment status changes."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.services import audit_record
from apps.core import events
from apps.core.errors import ErrorCode, ServiceError
from apps.orders.models import Order, OrderEvent
from apps.orders.transitions import TRANSITIONS, Move, allowed

MOVE_NAMES = {
    Move.PAYMENT_PENDING: "wait for payment",
    Move.PAY: "be paid",
    Move.PAYMENT_FAIL: "fail payment",
    Move.FULFIL: "be fulfilled",
    Move.DELIVER: "be marked delivered",
    Move.CANCEL: "be cancelled",
    Move.REFUND_PART: "be refunded",
    Move.REFUND_ALL: "be refunded",
    Move.PAYMENT_CANCEL: "have its payment cancelled",
    Move.PAY_LATE: "record a payment taken after its cancellation",
    Move.REFUND_FAIL: "have a refund fail",
    Move.REFUND_FAIL_PART: "have a refund fail",
}


# The moves the order desk makes, as the audit log names them: made by staff
# (orderFulfill, orderMarkDelivered, orderAdminCancel, orderRefund, the Django
# admin's actions) they are kept there, in the move's transaction. The moves
# a payment makes are the gateway's, not the staff's.
AUDITED = {
    Move.FULFIL: "order.fulfil",
    Move.DELIVER: "order.deliver",
    Move.CANCEL: "order.cancel",
    Move.REFUND_PART: "order.refund",
    Move.REFUND_ALL: "order.refund",
}


def refusal(move: Move, *, status: str, payment_status: str) -> ServiceError:
    """Why `move` is not allowed from these states: INVALID_TRANSITION. For a
    caller that checks before doing what cannot be undone (a refund at the
    gateway), so that its refusal reads as order_transition's."""
    return ServiceError(
        f"A {status.lower()} order whose payment is "
        f"{payment_status.lower().replace('_', ' ')} cannot {MOVE_NAMES[move]}.",
        code=ErrorCode.INVALID_TRANSITION,
    )


def check_allowed(*, order: Order, move: Move) -> None:
    """Refuse `move` on `order` as it is in memory (read under a lock)."""
    if not allowed(move, status=order.status, payment_status=order.payment_status):
        raise refusal(move, status=order.status, payment_status=order.payment_status)


@transaction.atomic
def order_transition(
    *, order: Order, move: Move, actor: Any = None, message: str = "", **changes: Any
) -> Order:
    """Apply `move` to `order`, or refuse it with INVALID_TRANSITION.

    A conditional UPDATE (WHERE the states are still ones the move is allowed
    from) makes the check and the change one step, so two concurrent moves
    cannot both pass: the loser finds no row to update and is refused. The
    other `changes` (a tracking number, the refunded total) are written by
    the same UPDATE. Each applied move leaves an OrderEvent, and publishes
    OrderChanged for after the commit.
    """
    rule = TRANSITIONS[move]
    now = timezone.now()
    update: dict[str, Any] = {**changes, "updated_at": now}
    rows = Order.objects.filter(pk=order.pk)
    if rule.status_from is not None:
        rows = rows.filter(status__in=rule.status_from)
    if rule.payment_from is not None:
        rows = rows.filter(payment_status__in=rule.payment_from)
    if rule.status_to is not None:
        update["status"] = rule.status_to
    if rule.payment_to is not None:
        update["payment_status"] = rule.payment_to
    # Locked, so that the event row records the states the move was made from.
    before = Order.objects.select_for_update().values("status", "payment_status").get(pk=order.pk)
    if not allowed(move, status=before["status"], payment_status=before["payment_status"]) or (
        rows.update(**update) == 0
    ):
        current = Order.objects.values("status", "payment_status").get(pk=order.pk)
        raise refusal(move, status=current["status"], payment_status=current["payment_status"])
    for field, value in update.items():
        setattr(order, field, value)
    OrderEvent.objects.create(
        order=order, type=rule.event, actor=actor if getattr(actor, "pk", None) else None,
        message=message,
        from_status=before["status"], to_status=order.status,
        from_payment_status=before["payment_status"], to_payment_status=order.payment_status,
    )
    events.publish(events.OrderChanged(
        order_id=order.pk, event_type=str(rule.event),
        actor_id=getattr(actor, "pk", None),
    ))
    if move in AUDITED:
        audit_record(actor=actor, action=AUDITED[move], target=order, details={
            "move": move.value, "message": message,
            "status": [before["status"], order.status],
            "payment_status": [before["payment_status"], order.payment_status],
            **{name: str(value) for name, value in changes.items() if value not in (None, "")},
        })
    return order


def order_note(*, order: Order, message: str) -> OrderEvent:
    """An entry in the order's history that changes no state: what the staff
    should know (a dispute, a refund that failed, money taken late)."""
    return OrderEvent.objects.create(
        order=order, type=OrderEvent.Type.NOTE, message=message[:1000],
        from_status=order.status, to_status=order.status,
        from_payment_status=order.payment_status, to_payment_status=order.payment_status,
    )
