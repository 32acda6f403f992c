"""Background upkeep of carts, run by Celery beat (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from apps.checkout.services.cleanup import guest_carts_delete_stale


@shared_task
def delete_stale_guest_carts() -> int:
    return guest_carts_delete_stale()
