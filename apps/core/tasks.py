"""The outbox's upkeep, run by Celery beat (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from apps.core import events


@shared_task
def dispatch_pending_events() -> int:
    return events.dispatch_pending()


@shared_task
def delete_sent_events() -> int:
    return events.events_delete_sent()
