"""importJobUpdated: a productsImport's job as it goes, over WebSocket
(schema.views.GraphQLWebSocketConsumer), for the staff member who started
it.

As orderUpdated (schema.orders.subscriptions): the resolver settles a
refusal before it hands back the stream, so that a refusal is the
operation's own `error` message; the stream joins the job's group of the
channel layer (apps.catalog.live) and, for every message, reads the
subscriber's account and the job again in a thread, so that what it sends is
what they may see at that moment. It sends the job as it is, then again at
each move and each step of progress, and completes once the job has ended.
"""

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from asgiref.sync import sync_to_async
from graphql import GraphQLError
from strawberry import Info

from apps.accounts.models import User
from apps.accounts.permissions import Perm
from apps.catalog import live, models, selectors
from schema.catalog.import_jobs import ImportJob
from schema.ids import pk_from_global_id
from schema.live import membership_kept
from schema.permissions import StaffPerm, signed_in_user

# The field's rule, kept to be checked again on every message.
IMPORTER = StaffPerm(Perm.MANAGE_PRODUCTS)


def no_such_import_job() -> GraphQLError:
    # Another staff member's job reads exactly as one that does not exist.
    return GraphQLError("No import job with this ID.", extensions={"code": "NOT_FOUND"})


def _read(user_id: int, job_id: int) -> models.ImportJob | None:
    """The job, or None when the subscriber may not see it; raises the rule's
    refusal when the subscriber may no longer ask (deactivated, or no longer
    managing products)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    refusal = IMPORTER.refuse(user)
    if refusal is not None:
        raise refusal
    return selectors.import_jobs_visible_to(
        user=user, queryset=models.ImportJob.objects.filter(pk=job_id)).first()


read_job = sync_to_async(_read)


async def _job_as_it_goes(info: Info, job_id: int) -> AsyncGenerator[models.ImportJob, None]:
    """The job once the group is joined (so that nothing told between the
    subscriber's last read and the join is lost), then once a message, until
    it has ended."""
    user_id = signed_in_user(info).pk

    async def visible() -> models.ImportJob:
        job = await read_job(user_id, job_id)
        if job is None:
            raise no_such_import_job()
        return job

    consumer = info.context.request
    group = live.import_job_group(job_id)
    async with consumer.listen_to_channel(live.UPDATED, groups=[group]) as messages, (
        membership_kept(consumer, group)
    ):
        job = await visible()
        yield job
        if job.is_finished:
            return
        async for message in messages:
            # A connection's subscriptions share its channel: each hears every
            # message of its type, of other jobs too.
            if live.job_id_of(message) != job_id:
                continue
            job = await visible()
            yield job
            if job.is_finished:
                return


@strawberry.type
class CatalogSubscription:
    @strawberry.subscription(
        extensions=[IMPORTER], graphql_type=ImportJob,
        description="A productsImport's job as it is now, then again as it starts, goes on "
                    "(`rowsDone`, about a hundred steps) and ends; the stream completes once "
                    "the job has SUCCEEDED or FAILED. For the staff member who started it: "
                    "anyone else's job is NOT_FOUND.",
    )
    async def import_job_updated(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The job's ID.")],
    ) -> AsyncGenerator[models.ImportJob, None]:
        user_id = signed_in_user(info).pk
        pk = pk_from_global_id(id, "ImportJob")
        if pk is None or await read_job(user_id, pk) is None:
            raise no_such_import_job()
        return _job_as_it_goes(info, pk)
