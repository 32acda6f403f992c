"""The ImportJob type: a productsImport's job, which exists for the staff
member who started it and nobody else (apps.catalog.selectors.import_jobs).
The admin console polls it through `node(id:)` or follows it through
importJobUpdated (schema.catalog.subscriptions)."""

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import relay

from apps.catalog import models, selectors
from apps.core.errors import ErrorCode, FieldError, ServiceError
from schema.errors import UserError, user_errors
from schema.permissions import visible_through
from schema.resolvers import async_safe

strawberry.enum(
    models.ImportJob.Status, name="ImportJobStatus",
    description="QUEUED: stored, waiting for a worker; RUNNING: being imported (`rowsDone` "
    "counts up); SUCCEEDED: imported, or with dryRun checked and counted; FAILED: nothing "
    "was written, `errors` says why.",
)
ImportJobStatus = models.ImportJob.Status


@strawberry_django.type(models.ImportJob, name="ImportJob")
class ImportJob(relay.Node):
    id: relay.NodeID[int]
    status: ImportJobStatus
    dry_run: bool = strawberry_django.field(
        description="Checked and counted, then rolled back: nothing is written.")
    file_name: str = strawberry_django.field(description="The name the file was sent as.")
    rows_total: int | None = strawberry_django.field(
        description="Rows in the file, the header not counted; null until the job has read it.")
    rows_unchanged: int = strawberry_django.field(
        description="Rows equal to what is stored; nothing was written for them.")
    products_created: int
    products_updated: int
    variants_created: int
    variants_updated: int
    stock_movements: int = strawberry_django.field(
        description="Stock quantities changed, each logged as an IMPORT movement.")
    error_count: int = strawberry_django.field(
        description="How many problems were found; `errors` lists the first 1,000.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    get_queryset = visible_through(selectors.import_jobs_visible_to)

    @strawberry_django.field(
        only=["status", "rows_done"],
        description="Rows imported (or found unchanged) so far; all of them once SUCCEEDED. "
        "The counts above are written when the job ends.",
    )
    def rows_done(self, root: models.ImportJob) -> int:
        return selectors.import_job_rows_done(root)

    @strawberry_django.field(
        only=["errors"],
        description="Why a FAILED job wrote nothing, as productsImport's payload errors: "
        "`rows.<row>.<column>` (the header is row 1, the column camelCased) with a message "
        "such as `row 17: price: must be ≥ 0`, or `file`. In row order.",
    )
    @async_safe
    def errors(self, root: models.ImportJob) -> list[UserError]:
        return user_errors(ServiceError(errors=[
            FieldError(field=found.get("field"), message=found.get("message", ""),
                       code=ErrorCode(found.get("code", ErrorCode.INVALID)))
            for found in root.errors
        ]))
