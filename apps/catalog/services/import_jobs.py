"""productsImport as a job: the request stores the file and queues a job; a
Celery task imports it, all or nothing, telling its progress as it goes.

A job moves QUEUED → RUNNING → SUCCEEDED or FAILED (MOVES), each move one
conditional UPDATE that publishes ImportJobChanged, whose handler tells the
job's subscribers after the commit. The task is not `once_per_event`: that
record shares the work's transaction, and a job's moves must not (RUNNING
has to be seen while the import runs; FAILED is written after the import's
rollback). The job's status is the record instead: a delivery that finds
the job ended does nothing, and one that arrives while another runs it
waits on the job's row, locked by the import, then finds it ended.

Where the progress goes, and why. The import is one transaction (one bad
row, nothing written), so nothing it writes is seen before it ends. Two ways
round that were measured and left: (1) checking every row in a first pass
outside the transaction, counting as it goes, then importing: the check is
about 1% of the time (0.3 s of 32 s for 2,000 rows on SQLite), so the count
would reach the end at once and then stand still for the whole import;
(2) writing the count through a second database connection: SQLite lets one
connection write at a time, so that write would wait for the import it
reports on (and on PostgreSQL the count would go through a connection the
test suite's transaction cannot share). So while the import runs, the count
is kept in the cache (Redis in production, shared by every process) and
announced on the channel layer (apps.catalog.live); the job's row gets the
final count in the import's own transaction, so a job says SUCCEEDED exactly
when its rows committed.
"""

import io
import logging
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.catalog import csv_io, live
from apps.catalog.models import ImportJob
from apps.core import events
from apps.core.errors import ServiceError
from apps.core.validation import max_length

logger = logging.getLogger(__name__)

Status = ImportJob.Status


class Move(StrEnum):
    START = "start"
    SUCCEED = "succeed"
    FAIL = "fail"


# Each move: the states it is allowed from, and where it leads. START from
# RUNNING is a task delivered again after its worker died mid-import (the
# import's transaction died with it): it runs again.
MOVES: Mapping[Move, tuple[frozenset[str], str]] = {
    Move.START: (frozenset({Status.QUEUED, Status.RUNNING}), Status.RUNNING),
    Move.SUCCEED: (frozenset({Status.RUNNING}), Status.SUCCEEDED),
    Move.FAIL: (frozenset({Status.QUEUED, Status.RUNNING}), Status.FAILED),
}

# The problems a job keeps: a file with no row cap may hold hundreds of
# thousands, more than anyone reads or one answer should carry.
# `error_count` says how many there were.
ERRORS_KEPT = 1000

# Progress is told about this many times per job, whatever its size.
PROGRESS_STEPS = 100


def import_job_create(*, actor: Any, upload: Any, dry_run: bool = False) -> ImportJob:
    """Store an uploaded CSV (which must be UTF-8 text within UPLOAD_MAX_SIZE,
    else INVALID on "file") and queue its import; returns the job as it is
    once queued: with eager Celery (no REDIS_URL) it has run by then, unless
    the caller's own transaction is still open."""
    text = csv_io.csv_upload_text(upload)
    name = getattr(upload, "name", None) or "upload.csv"
    job = ImportJob(created_by=actor, file_name=name[:max_length(ImportJob, "file_name")],
                    dry_run=dry_run)
    job.file.save("upload.csv", ContentFile(text.encode()), save=False)
    try:
        with transaction.atomic():
            job.save()
            events.publish(events.ImportJobQueued(job_id=job.pk))
    except Exception:
        job.file.delete(save=False)
        raise
    job.refresh_from_db()
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Import a queued job's file (the work of apps.catalog.tasks): read it,
    start, import it in one transaction telling the progress, and end
    SUCCEEDED with what was written, or FAILED with every problem found (as
    productsImport answered them: "rows.17.price", "row 17: price: must be ≥
    0") and nothing written. Returns the job as it ended; None when there was
    nothing to run (it had ended already, or is gone)."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return None
    try:
        try:
            csv_rows = _rows_of(job)
        except ServiceError as error:
            return _fail(job, error)
        if not _move(job, Move.START, rows_total=len(csv_rows.rows), rows_done=0,
                     started_at=timezone.now()):
            return None
        live.forget_progress(job_id=job.pk)  # what a run that died had told
        try:
            return _import(job, csv_rows)
        except ServiceError as error:
            return _fail(job, error)
        except Exception:
            logger.exception("Import job %s failed; nothing was written.", job.pk)
            return _fail(job, ServiceError(
                "The import failed on the server; nothing was written. Send the file again, "
                "and tell the shop's administrators if it fails again.", field="file"))
    finally:
        live.forget_progress(job_id=job.pk)


def _rows_of(job: ImportJob) -> csv_io.CsvRows:
    try:
        with job.file.open("rb") as file:
            text = file.read().decode("utf-8")
    except (OSError, ValueError):  # not in storage (any more), or not text
        raise ServiceError("The uploaded file is not there any more; send it again.",
                           field="file") from None
    return csv_io.read_products_csv(io.StringIO(text, newline=""))


def _import(job: ImportJob, csv_rows: csv_io.CsvRows) -> ImportJob | None:
    with transaction.atomic():
        # Held until the import ends: a second delivery of the task waits
        # here, then finds the job ended.
        if not ImportJob.objects.select_for_update().filter(
                pk=job.pk, status=Status.RUNNING).exists():
            return None
        result = csv_io.import_rows(
            actor=job.created_by, csv_rows=csv_rows, dry_run=job.dry_run,
            source=job.file_name, on_progress=_progress(job.pk, len(csv_rows.rows)))
        _move(job, Move.SUCCEED, rows_done=result.rows, rows_unchanged=result.rows_unchanged,
              products_created=result.products_created,
              products_updated=result.products_updated,
              variants_created=result.variants_created,
              variants_updated=result.variants_updated,
              stock_movements=result.stock_movements, finished_at=timezone.now())
    return _ended(job)


def _progress(job_id: int, rows_total: int) -> Callable[[int], None]:
    """The import's on_progress: tell every PROGRESS_STEPS-th of the rows, and
    the last one."""
    every = max(1, rows_total // PROGRESS_STEPS)
    told = 0

    def tell(rows_done: int) -> None:
        nonlocal told
        if rows_done - told >= every or rows_done == rows_total:
            told = rows_done
            live.tell_progress(job_id=job_id, rows_done=rows_done)

    return tell


def _fail(job: ImportJob, error: ServiceError) -> ImportJob | None:
    found = [{"field": e.field, "message": e.message, "code": str(e.code)}
             for e in error.errors]
    if not _move(job, Move.FAIL, errors=found[:ERRORS_KEPT], error_count=len(found),
                 finished_at=timezone.now()):
        return None
    return _ended(job)


def _ended(job: ImportJob) -> ImportJob:
    """The job as it ended; its file leaves the storage once that commits
    (a job is never run again)."""
    job.refresh_from_db()
    name = job.file.name
    if name:
        ImportJob.objects.filter(pk=job.pk).update(file="")
        transaction.on_commit(lambda: job.file.storage.delete(name), robust=True)
        job.file.name = ""
    return job


def _move(job: ImportJob, move: Move, **changes: Any) -> bool:
    """Apply `move` to the job's row if it is in one of the move's source
    states, with `changes`; whether it was."""
    sources, target = MOVES[move]
    with transaction.atomic():
        moved = ImportJob.objects.filter(pk=job.pk, status__in=sources).update(
            status=target, **changes)
        if moved:
            events.publish(events.ImportJobChanged(job_id=job.pk, status=target))
    return bool(moved)
