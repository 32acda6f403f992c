"""Background upkeep of the accounts. Their emails (confirmation, password
reset) are notifications: apps.notifications sends them when the events
that ask for them are dispatched."""

from celery import shared_task


@shared_task
def delete_expired_refresh_tokens() -> int:
    """Run daily by beat (settings.CELERY_BEAT_SCHEDULE)."""
    from .services import refresh_tokens_delete_expired

    return refresh_tokens_delete_expired()


@shared_task
def delete_old_sign_in_attempts() -> int:
    """Run daily by beat: the sign-in history keeps SIGN_IN_HISTORY_RETENTION_DAYS."""
    from .services import sign_in_attempts_delete_old

    return sign_in_attempts_delete_old()
