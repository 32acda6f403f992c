"""Who sees which import jobs, and how far one is."""

from typing import Any

from django.db.models import QuerySet

from apps.accounts.permissions import Perm, staff_has_perm
from apps.catalog import live
from apps.catalog.models import ImportJob


def import_jobs_visible_to(*, user: Any, queryset: QuerySet[ImportJob] | None = None
                           ) -> QuerySet[ImportJob]:
    """A job exists for the staff member who started it, while they manage
    products; to anyone else (another catalog manager too) it does not: what
    a file said, and why it failed, is its sender's business."""
    queryset = ImportJob.objects.all() if queryset is None else queryset
    if not staff_has_perm(user, Perm.MANAGE_PRODUCTS):
        return queryset.none()
    return queryset.filter(created_by=user)


def import_job_rows_done(job: ImportJob) -> int:
    """Rows the job has imported (or found unchanged): while it runs, what it
    last told the cache (apps.catalog.live), as its row is written only when
    the import's transaction ends."""
    if job.status == ImportJob.Status.RUNNING:
        running = live.progress_of(job_id=job.pk)
        if running is not None:
            return max(running, job.rows_done)
    return job.rows_done
