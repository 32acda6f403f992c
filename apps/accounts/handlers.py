"""What the accounts domain does when its events are dispatched: the emails,
sent by Celery (apps.accounts.tasks)."""

import uuid

from apps.core import events

from . import tasks


@events.handler(events.AccountRegistered)
def email_confirmation_link(event_id: uuid.UUID, event: events.AccountRegistered) -> None:
    tasks.send_account_confirmation_email.delay(str(event_id), event.user_id)


@events.handler(events.PasswordResetRequested)
def email_password_reset_link(event_id: uuid.UUID, event: events.PasswordResetRequested) -> None:
    tasks.send_password_reset_email.delay(str(event_id), event.user_id)
