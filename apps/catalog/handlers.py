"""What the catalog does when its events are dispatched (after the commit
that published them)."""

import uuid

from apps.core import events

from . import live, tasks


@events.handler(events.ImportJobQueued)
def run_import_job(event_id: uuid.UUID, event: events.ImportJobQueued) -> None:
    tasks.run_import_job.delay(str(event_id), event.job_id)


@events.handler(events.ImportJobChanged)
def announce_import_job_changed(event_id: uuid.UUID, event: events.ImportJobChanged) -> None:
    # The subscriber of importJobUpdated reads the job again; a repeated or
    # late announcement only makes it read once more.
    live.announce_import_job(job_id=event.job_id)


# The response cache's invalidation (its handlers register on import).
from . import cache  # noqa: E402, F401
