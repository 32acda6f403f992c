"""The privacy events' work, each a Celery task enqueued with the event's id
(apps.privacy.tasks); quick and harmless to repeat, as handlers must be."""

import uuid

from apps.core import events

from . import tasks


@events.handler(events.AccountDataExportRequested)
def build_and_email_export(event_id: uuid.UUID,
                           event: events.AccountDataExportRequested) -> None:
    tasks.send_account_data_export.delay(str(event_id), event.export_id)


@events.handler(events.AccountDeleteRequested)
def email_delete_confirmation(event_id: uuid.UUID, event: events.AccountDeleteRequested) -> None:
    tasks.send_account_delete_confirmation.delay(str(event_id), event.user_id)


@events.handler(events.AccountDeleted)
def delete_export_files(event_id: uuid.UUID, event: events.AccountDeleted) -> None:
    """The deleted account's exports were expired in its transaction; their
    files go now rather than at the next beat."""
    tasks.delete_expired_exports.delay()
