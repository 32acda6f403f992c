"""Account emails, sent by Celery when the events that ask for them are
dispatched (apps.accounts.handlers), once per event.

Tasks take the user's id, not a token: the token is made when the email is
sent, so no secret travels through (or rests in) the broker.
"""

from celery import shared_task

from apps.core.events import once_per_event

from . import emails
from .models import User


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
@once_per_event
def send_account_confirmation_email(event_id: str, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None and not user.is_email_verified:
        emails.send_account_confirmation(user)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
@once_per_event
def send_password_reset_email(event_id: str, user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None:
        emails.send_password_reset(user)


@shared_task
def delete_expired_refresh_tokens() -> int:
    """Run daily by beat (settings.CELERY_BEAT_SCHEDULE)."""
    from .services import refresh_tokens_delete_expired

    return refresh_tokens_delete_expired()
