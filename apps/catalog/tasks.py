"""Background work of the catalog: importing the files productsImport stored."""

from celery import shared_task

from apps.catalog.services.import_jobs import import_job_run


@shared_task
def run_import_job(event_id: str, job_id: int) -> str | None:
    """Import a job's file (an ImportJobQueued event, apps.catalog.handlers);
    the job's status, or None when it had ended already. Not wrapped in
    `once_per_event`: the job's own status makes a second delivery do
    nothing (apps.catalog.services.import_jobs says why)."""
    job = import_job_run(job_id=job_id)
    return None if job is None else str(job.status)
