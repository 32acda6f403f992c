"""Live import jobs: what the channel layer carries to importJobUpdated, and
how far a job is while its import's transaction is still open.

A job's moves (started, succeeded, failed) are events (apps.core.events
ImportJobChanged) whose handler announces them after their commit, as the
order events are announced (apps.orders.live). Its progress in between
cannot wait for a commit: the import is one transaction, all or nothing, so
nothing it writes to the database is seen before it ends. The job's runner
therefore keeps the count of rows done in the cache (Redis in production,
which every process reads) and announces it straight to the job's group;
the subscription and `node` read the job's row and add that count.

A message is a hint of plain ids: the subscriber reads the job again, so a
message repeated, late or lost on the way costs at most one read or one
step of progress, never a wrong state.
"""

import logging
from typing import Any, Final

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# The message type a listening consumer waits for.
UPDATED: Final = "import_job.updated"

# Longer than any import runs; a count left behind by a worker that died
# expires on its own.
PROGRESS_TIMEOUT: Final = 24 * 3600


def import_job_group(job_id: int) -> str:
    """The group that hears of every change of one job."""
    return f"import_job.{job_id}"


def announce_import_job(*, job_id: int, layer: Any = None) -> None:
    """Tell the job's subscribers that it moved or went on. `layer` is for
    a caller that holds its own (another process, a test)."""
    layer = layer or get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(import_job_group(job_id),
                                        {"type": UPDATED, "job_id": job_id})


def job_id_of(message: dict[str, Any]) -> int | None:
    """The job a channel-layer message names; None for one of another shape."""
    value = message.get("job_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _progress_key(job_id: int) -> str:
    return f"catalog:import_job:{job_id}:rows_done"


def tell_progress(*, job_id: int, rows_done: int) -> None:
    """Keep how many rows the running job has done, and announce it. A cache
    or channel layer that does not answer loses a step of progress, never
    the import."""
    try:
        cache.set(_progress_key(job_id), rows_done, timeout=PROGRESS_TIMEOUT)
        announce_import_job(job_id=job_id)
    except (RedisError, OSError):
        logger.warning("Could not tell the progress of import job %s.", job_id, exc_info=True)


def progress_of(*, job_id: int) -> int | None:
    """How many rows the running job last said it has done; None when it has
    said nothing yet (or the cache does not answer)."""
    try:
        value = cache.get(_progress_key(job_id))
    except RedisError:
        return None
    return value if isinstance(value, int) else None


def forget_progress(*, job_id: int) -> None:
    """The job ended: its row has the count now."""
    try:
        cache.delete(_progress_key(job_id))
    except RedisError:
        pass
