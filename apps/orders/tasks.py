"""The orders domain's work in Celery: what Stripe's events do (started by
apps.orders.handlers, once per event), and, run by beat
(settings.CELERY_BEAT_SCHEDULE), the reconciliation with Stripe, the
settling of refunds whose answer was lost and the expiry of unpaid orders."""

from celery import shared_task
from django.db import OperationalError

from apps.core.events import once_per_event
from apps.orders.services import expiry, late_payments, refund_attempts, stripe


# A deadlock or lock timeout against a checkout or a cancellation of the same
# order rolls the handling back (its HandledEvent record with it): retried.
@shared_task(  # type: ignore[untyped-decorator]  # celery is untyped
    autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
@once_per_event
def handle_stripe_event(event_id: str, stripe_event_id: str) -> str:
    return stripe.stripe_event_handle(stripe_event_id=stripe_event_id)


@shared_task  # type: ignore[untyped-decorator]  # celery is untyped
def reconcile_stripe_payments() -> int:
    return stripe.stripe_payments_reconcile()


@shared_task  # type: ignore[untyped-decorator]  # celery is untyped
def settle_refund_attempts() -> int:
    """Refunds asked of the gateway whose answer was lost, settled."""
    return refund_attempts.refund_attempts_settle()


@shared_task  # type: ignore[untyped-decorator]  # celery is untyped
def expire_unpaid_orders() -> dict[str, int]:
    """Expire the orders left unpaid, then try again the refunds of money
    taken after an order was given up that the gateway could not make."""
    return {"expired": expiry.orders_expire(),
            "late_refunds": late_payments.late_payments_refund()}
