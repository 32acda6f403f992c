"""A refund is written down before the gateway is asked for it.

The gateway is across the network: it can make a refund and lose the answer
(a timeout, a connection reset, a 5xx). Were the record that holds the
idempotency key rolled back with the request, asking again would send a new
key and refund twice. So each refund starts as an attempt, a Refund row
REQUESTED with its own key, written and committed under the order's lock;
only then is the gateway asked, with that key and the row's id in the
refund's metadata. A REQUESTED attempt is reserved against what may be
refunded (left_to_refund), so two staff asking at once cannot give back more
than was paid, and it is counted as refunded only once the gateway's answer
settles it (attempt_apply), under the order's lock again:

- succeeded or pending: SUCCEEDED or PENDING, counted (REFUND_PART/ALL);
- refused: FAILED, never counted, a note and RefundFailed for the order desk;
- no answer: it stays REQUESTED, and the caller answers PAYMENT_UNAVAILABLE.

An attempt left REQUESTED is settled by whoever comes next: the same order's
next orderRefund or orderCancel, beat (refund_attempts_settle), or the
gateway's webhook about the refund. Settling asks again with the same key
while the gateway still keeps it (KEY_KEPT_FOR, Stripe keeps keys 24 hours);
past that it first looks the refund up (`find_refund`, by the metadata) and
makes a new one, with a new key, only when none was made. The answer is
applied only to a REQUESTED row, so however many settle it at once, it is
counted once.
"""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from apps.core import events
from apps.core.errors import ServiceError
from apps.core.money import Money
from apps.orders.models import Order, Payment, Refund
from apps.orders.services.locks import order_locked
from apps.orders.services.transitions import order_note, order_transition
from apps.orders.transitions import Move
from apps.payments import registry
from apps.payments.gateways import (
    GatewayUnavailable,
    PaymentGateway,
    RefundResult,
    RefundStatus,
)

logger = logging.getLogger(__name__)

# How long a key is retried as it is: a little less than Stripe keeps it.
KEY_KEPT_FOR = timedelta(hours=23)

UNAVAILABLE = ("The payment gateway could not be reached; the refund is kept as asked and is "
               "settled when the gateway answers. Try again.")


class RefundUnavailable(GatewayUnavailable):
    """The gateway could not be reached, or its answer was lost: the attempt
    stays REQUESTED, counted nowhere, and asking again settles it (a caller
    that retries by itself tells this apart from a refusal). Coded
    PAYMENT_UNAVAILABLE, as every outage is, so orderRefund and orderCancel
    answer the client a retryable error."""


class RefundRefused(ServiceError):
    """The gateway refused the refund (nothing left on the charge, a dispute,
    an amount it does not take, a refund it made `failed` at once). Raised
    once the attempt is recorded FAILED, or, inside a transaction that must
    roll back (a cancellation), before: `attempt` and `result` are what
    attempt_apply records then."""

    def __init__(self, message: str, *, attempt: Refund, result: RefundResult):
        super().__init__(f"The payment gateway refused the refund: {message}")
        self.attempt = attempt
        self.result = result


def gateway_of(payment: Payment) -> PaymentGateway:
    """The gateway a payment was taken through. One since switched off in
    settings cannot give money back: the staff must do it on its side."""
    try:
        return registry.gateway_named(payment.gateway)
    except ServiceError:
        raise ServiceError(
            f'The payment was taken through "{payment.gateway}", which is no longer enabled.'
        ) from None


def reserved(order: Order) -> Decimal:
    """What attempts still waiting for the gateway's answer hold back."""
    held = Refund.objects.filter(payment__order=order, status=Refund.Status.REQUESTED) \
        .aggregate(total=Sum("amount"))["total"]
    return held or Decimal(0)


def left_to_refund(order: Order) -> Decimal:
    return order.total - order.total_refunded - reserved(order)


def new_key() -> str:
    return f"refund-{uuid.uuid4().hex}"


def attempt_open(*, payment: Payment, amount: Decimal, reason: str, actor: Any,
                 key: str | None = None) -> Refund:
    """The attempt, REQUESTED, for the caller to commit before asking (the
    gateway must be enabled: an attempt no one can ask would hold its
    amount back for ever). A new key unless the caller's refund has one of
    its own (a late payment's, which its retried handling asks again)."""
    gateway_of(payment)
    return Refund.objects.create(
        payment=payment, amount=amount, status=Refund.Status.REQUESTED,
        idempotency_key=key or new_key(), reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
    )


def attempt_ask(*, attempt: Refund) -> RefundResult:
    """Ask the gateway for the attempt's refund: with its key while the
    gateway keeps it, else found by its metadata or made anew with a new
    key. RefundUnavailable when no answer comes."""
    payment = attempt.payment
    gateway = gateway_of(payment)
    try:
        find = getattr(gateway, "find_refund", None)
        if find is not None and timezone.now() - attempt.key_made_at >= KEY_KEPT_FOR:
            found: RefundResult | None = find(
                charge_reference=payment.reference, idempotency_key=attempt.idempotency_key,
                refund_id=str(attempt.pk))
            if found is not None:
                return found
            _key_renew(attempt)
        return gateway.refund(
            charge_reference=payment.reference, amount=Money.of(attempt.amount, payment.currency),
            idempotency_key=attempt.idempotency_key, refund_id=str(attempt.pk))
    except GatewayUnavailable:
        logger.warning("Refund %s (key %s) has no answer yet; it stays requested.", attempt.pk,
                       attempt.idempotency_key)
        attempt_unanswered(attempt=attempt)
        raise RefundUnavailable(UNAVAILABLE) from None


def attempt_unanswered(*, attempt: Refund) -> None:
    """Mark the attempt as asked without an answer (a caller whose transaction
    rolled back marks it again after)."""
    Refund.objects.filter(pk=attempt.pk, status=Refund.Status.REQUESTED).update(unanswered=True)


def _key_renew(attempt: Refund) -> None:
    """The gateway made no refund for the attempt and may have forgotten its
    key: a new key, taken only by the one settler that saw the old one."""
    old, attempt.idempotency_key, attempt.key_made_at = (attempt.idempotency_key, new_key(),
                                                         timezone.now())
    renewed = Refund.objects.filter(pk=attempt.pk, status=Refund.Status.REQUESTED,
                                    idempotency_key=old).update(
        idempotency_key=attempt.idempotency_key, key_made_at=attempt.key_made_at)
    if not renewed:  # settled or renewed meanwhile: the next settling sees which
        raise GatewayUnavailable()


def attempt_apply(*, order: Order, attempt: Refund, result: RefundResult, actor: Any = None,
                  message: str | None = None) -> Order:
    """The gateway's answer for the attempt, both read under their locks
    (order first). Only a REQUESTED attempt changes, so an answer told twice
    (the retry, beat, the webhook) counts once."""
    if attempt.status != Refund.Status.REQUESTED:
        return order
    attempt.reference = result.reference or attempt.reference
    if result.status == RefundStatus.FAILED:
        attempt.status = Refund.Status.FAILED
        attempt.reason = (f"{attempt.reason} Refused: {result.message}".strip())[:1000]
        attempt.save(update_fields=["status", "reference", "reason"])
        order_note(order=order, message=f"The refund of {order.money(attempt.amount)} was "
                                        f"refused by the payment gateway: {result.message}. "
                                        "Nothing was refunded.")
        events.publish(events.RefundFailed(order_id=order.pk, refund_id=attempt.pk,
                                           reason=result.message))
        logger.warning("The refund of %s on order %s was refused: %s", attempt.amount,
                       order.number, result.message)
        return order
    attempt.status = (Refund.Status.SUCCEEDED if result.status == RefundStatus.SUCCEEDED
                      else Refund.Status.PENDING)
    attempt.save(update_fields=["status", "reference"])
    refunded = order.total_refunded + attempt.amount
    return order_transition(
        order=order, move=Move.REFUND_ALL if refunded == order.total else Move.REFUND_PART,
        actor=actor, message=message or f"Refunded {order.money(attempt.amount)}.",
        total_refunded=refunded,
    )


def attempt_settle(*, attempt_id: int, actor: Any = None,
                   message: str | None = None) -> tuple[Order, RefundResult | None]:
    """Ask the gateway about the attempt, outside any lock, and apply the
    answer under the order's lock; the order as it then is, and the answer
    (None when the attempt had been settled already). RefundUnavailable
    when there is still no answer."""
    attempt = Refund.objects.select_related("payment__order").get(pk=attempt_id)
    if attempt.status != Refund.Status.REQUESTED:
        return attempt.payment.order, None
    result = attempt_ask(attempt=attempt)
    with transaction.atomic():
        order = order_locked(order=attempt.payment.order)
        attempt = Refund.objects.select_for_update().select_related("payment").get(pk=attempt_id)
        order = attempt_apply(order=order, attempt=attempt, result=result, actor=actor,
                              message=message)
    return order, result


def attempts_lost(*, order: Order) -> QuerySet[Refund]:
    """The order's attempts whose answer was lost: asked without an answer,
    or older than STRIPE_RECONCILE_AFTER (their request died). The others
    still REQUESTED are on their way: another request awaits the answer."""
    return Refund.objects.filter(
        Q(unanswered=True) | Q(created_at__lte=timezone.now() - settings.STRIPE_RECONCILE_AFTER),
        payment__order=order, status=Refund.Status.REQUESTED,
    )


def attempts_settle(*, order: Order) -> list[RefundResult]:
    """Settle the order's attempts left without an answer, oldest first
    (before it is refunded or cancelled again); their answers.
    RefundUnavailable when one still has none. An attempt still on its way
    (another request is waiting for its answer) is left to that request;
    one older than STRIPE_RECONCILE_AFTER has been given up (its request
    died) and is settled too."""
    pending = attempts_lost(order=order).order_by("pk").values_list("pk", flat=True)
    answers = []
    for pk in list(pending):
        _, result = attempt_settle(attempt_id=pk, message=_settled_message(pk))
        if result is not None:
            answers.append(result)
    return answers


def _settled_message(attempt_id: int) -> str:
    attempt = Refund.objects.select_related("payment").get(pk=attempt_id)
    money = Money.of(attempt.amount, attempt.payment.currency)
    return f"Refunded {money} (asked earlier; the payment gateway's answer had been lost)."


def refund_attempts_settle(*, limit: int = 200) -> int:
    """Beat's round: each attempt REQUESTED for longer than
    STRIPE_RECONCILE_AFTER (its request has long given up), oldest first;
    answers how many were settled. A gateway still out of reach ends the
    round, and the next one starts again, so a lost answer heals by itself."""
    due = list(Refund.objects.filter(
        status=Refund.Status.REQUESTED,
        created_at__lte=timezone.now() - settings.STRIPE_RECONCILE_AFTER,
    ).order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    settled = 0
    for pk in due:
        try:
            _, result = attempt_settle(attempt_id=pk, message=_settled_message(pk))
        except RefundUnavailable:
            logger.warning("Refund attempts: round stopped after %d of %d: the gateway is out "
                           "of reach.", settled, len(due))
            break
        except ServiceError as error:  # its gateway switched off: the staff's to settle
            logger.error("Refund attempt %s cannot be settled: %s", pk, error)
            continue
        settled += result is not None
    return settled
