"""Orders left unpaid are given up: beat cancels each PENDING order that
has not been paid ORDER_UNPAID_EXPIRY after it was placed, so that its
stock goes back on sale and its coupon use is given back.

Each order expires in its own transaction through the cancellation
(apps.orders.services.cancellation): its stock allocation released, its
coupon use given back, its open charges cancelled at their gateway, and a
CANCELLED event with no actor saying why. A charge the gateway will not give
up is left to its news and the order with it, untouched: a Stripe
PaymentIntent that is `processing` (a bank debit on its way) or has just
succeeded ends in a webhook that pays or fails the order, and a failed one
expires in a later round. A gateway out of reach is not asked again in the
round: the orders with a charge open there wait for the next one, while
those without (Stripe could not be reached when they were placed) expire.

Two rounds at once (beat overlapping a slow round, two beats) take turns:
each order is taken with its row locked, skipping one another round holds,
and read again under the lock, so an order expires once, and is never
cancelled after it was paid.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.core.errors import ErrorCode, ServiceError
from apps.orders.models import Order, OrderStatus, Payment
from apps.orders.services.cancellation import order_expire
from apps.orders.services.charges import OPEN
from apps.orders.transitions import UNPAID
from apps.payments.gateways import GatewayUnavailable

logger = logging.getLogger(__name__)


def expiry_message(age: timedelta) -> str:
    """What the order's history says: "Expired unpaid after 30 minutes."."""
    seconds = int(age.total_seconds())
    minutes, rest = divmod(seconds, 60)
    if rest:
        return f"Expired unpaid after {seconds} second{'s' if seconds != 1 else ''}."
    return f"Expired unpaid after {minutes} minute{'s' if minutes != 1 else ''}."


def _due(cutoff: datetime) -> QuerySet[Order]:
    return Order.objects.filter(status=OrderStatus.PENDING, payment_status__in=UNPAID,
                                created_at__lte=cutoff)


def orders_expire(*, limit: int = 200) -> int:
    """Expire the orders due, oldest first, at most `limit` a round; answers
    how many expired."""
    age = settings.ORDER_UNPAID_EXPIRY
    cutoff = timezone.now() - age
    open_charges = Payment.objects.filter(order=OuterRef("pk"), status__in=OPEN).exclude(
        reference="")
    due = list(_due(cutoff).annotate(charging=Exists(open_charges))
               .order_by("created_at", "pk").values_list("pk", "charging")[:limit])
    expired, unreachable = 0, False
    for pk, charging in due:
        if charging and unreachable:
            continue
        try:
            with transaction.atomic():
                order = _due(cutoff).select_for_update(skip_locked=True).filter(pk=pk).first()
                if order is None:  # another round has it, or it moved on
                    continue
                order_expire(order=order, message=expiry_message(age))
        except GatewayUnavailable as error:
            logger.warning("Order %s not expired: its gateway is out of reach (%s); the "
                           "round goes on without it.", pk, error)
            unreachable = True
        except ServiceError as error:
            if error.errors[0].code == ErrorCode.INVALID_TRANSITION:
                # The gateway will not give the charge up (a bank debit
                # processing, a payment just taken), or the order moved on.
                logger.info("Order %s not expired: %s", pk, error)
            else:  # its gateway is no longer enabled, say: the staff's to see
                logger.error("Order %s not expired: %s", pk, error)
        else:
            expired += 1
    if due:
        logger.info("Expired %d of %d unpaid orders older than %s.", expired, len(due), age)
    return expired
