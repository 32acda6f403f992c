"""Background work of the webhooks: each attempt, and the sweep that makes
the retries (settings.CELERY_BEAT_SCHEDULE, every WEBHOOKS_RETRY_BASE).

Retries are not Celery countdowns: a failed attempt writes when the next is
due, and the sweep sends what is due. A task lost with its worker, or a
broker that was down, only makes a delivery late."""

from celery import shared_task

from apps.webhooks import selectors
from apps.webhooks.delivery import delivery_attempt


@shared_task
def deliver_webhook(delivery_id: int) -> str | None:
    """Attempt the delivery if it is due; its status after, or None when
    another attempt had it or it was not due."""
    delivery = delivery_attempt(delivery_id=delivery_id)
    return None if delivery is None else delivery.status


@shared_task
def retry_due_webhooks() -> int:
    """Enqueue an attempt of every delivery that is due; how many."""
    due = selectors.deliveries_due()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)
