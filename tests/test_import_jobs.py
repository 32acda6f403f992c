"""productsImport's jobs beyond the request: progress seen while the
import's transaction is still open (polled through `node` and followed over
a real WebSocket through importJobUpdated), who may follow a job, and the
task delivered twice, after a worker died, or failing."""

import asyncio
import logging
import threading
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from strawberry import relay

from apps.accounts.permissions import Perm
from apps.catalog import csv_io, live, tasks
from apps.catalog.models import ImportJob, Product
from apps.catalog.services import import_job_create, import_job_run, import_jobs
from apps.core import events
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import client_for, make_user, problems, token_for
from tests.test_csv import row, to_csv
from tests.test_csv_upload import NODE, payload_of
from tests.websocket import PROTOCOLS, TIMEOUT, TRANSPORT_WS, first_answer, socket

# No module-wide django_db mark: its fixture would be set up before
# keeps_default_warehouse, and so empty the tables of the transactional tests
# after that fixture has put the default warehouse back. Each test asks for
# `db` (through `manager`) or for `committing`.

IMPORT_JOB_UPDATED = """subscription($id: ID!) {
  importJobUpdated(id: $id) { id status rowsTotal rowsDone productsCreated errorCount }
}"""

# Three products of one row each: the import tells its progress after each.
THREE = to_csv([row(slug=f"scent-{n}", name=f"Scent {n}", sku=f"SC-{n}", category_slug="")
                for n in (1, 2, 3)])


def global_id(job: ImportJob) -> str:
    return str(relay.GlobalID("ImportJob", str(job.pk)))


def queued(user, content: str = THREE, **kwargs: Any) -> ImportJob:
    """A job as productsImport leaves it, its task not run (the test's
    transaction never commits, so its event is never dispatched)."""
    upload = SimpleUploadedFile("products.csv", content.encode(), content_type="text/csv")
    return import_job_create(actor=user, upload=upload, **kwargs)


def run_task(job_id: int) -> str | None:
    """The task as a worker runs it, on this thread's own connection."""
    try:
        return tasks.run_import_job(str(uuid.uuid4()), job_id)
    finally:
        connection.close()


@pytest.fixture
def manager(db):
    return make_user(perms=[Perm.MANAGE_PRODUCTS])


class Paused:
    """The job's runner, paused inside its import's transaction after each
    step of progress it tells, until the test has seen that step."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.told: list[int] = []
        self.seen = 0

    def saw(self, rows_done: int) -> None:
        with self.condition:
            self.seen = max(self.seen, rows_done)
            self.condition.notify_all()

    def wait_told(self, rows_done: int) -> None:
        with self.condition:
            assert self.condition.wait_for(lambda: rows_done in self.told, TIMEOUT)

    def patch(self, monkeypatch) -> None:
        tell = live.tell_progress

        def told(*, job_id: int, rows_done: int) -> None:
            tell(job_id=job_id, rows_done=rows_done)
            with self.condition:
                self.told.append(rows_done)
                self.condition.notify_all()
                assert self.condition.wait_for(lambda: self.seen >= rows_done, TIMEOUT)

        monkeypatch.setattr(live, "tell_progress", told)


@pytest.fixture
def committing(keeps_default_warehouse, transactional_db) -> None:  # noqa: F811
    """Real commits (a transactional test); the default warehouse is put
    back after the tables are emptied, for the tests that follow."""


@pytest.fixture
def waiting_job(committing, monkeypatch) -> ImportJob:
    """A catalog manager's job, committed, its task enqueued but not run:
    the test runs it when it says."""
    monkeypatch.setattr(tasks.run_import_job, "delay", lambda *args: None)
    return queued(make_user(perms=[Perm.MANAGE_PRODUCTS]))


@pytest.fixture
def paused(monkeypatch) -> Paused:
    paused = Paused()
    paused.patch(monkeypatch)
    return paused


# --- The request's answer ----------------------------------------------------------------


def test_with_eager_celery_the_answer_shows_the_job_ended(committing):
    # The upload's transaction commits inside the request, its event is
    # dispatched, and the eager task runs before the answer is made.
    client = client_for(make_user(perms=[Perm.MANAGE_PRODUCTS]))
    payload = payload_of(client, THREE, filename="spring.csv")
    assert payload["errors"] == []
    job = payload["importJob"]
    assert (job["status"], job["fileName"], job["rowsTotal"], job["rowsDone"]) == (
        "SUCCEEDED", "spring.csv", 3, 3)
    assert (job["productsCreated"], job["variantsCreated"], job["errors"]) == (3, 3, [])
    assert client.execute(NODE, {"id": job["id"]})["node"]["status"] == "SUCCEEDED"
    assert Product.objects.count() == 3


# --- Progress, while the import's transaction is open -------------------------------------


def test_polling_shows_the_progress_of_an_import_still_under_way(waiting_job, paused):
    """The worker's import holds its transaction open; a poll on another
    connection sees how far it is (and nothing of what it wrote)."""
    job = waiting_job
    client = client_for(job.created_by)
    assert client.execute(NODE, {"id": global_id(job)})["node"]["status"] == "QUEUED"
    worker = threading.Thread(target=run_task, args=(job.pk,))
    worker.start()
    try:
        paused.wait_told(1)
        polled = client.execute(NODE, {"id": global_id(job)})["node"]
        assert (polled["status"], polled["rowsTotal"], polled["rowsDone"]) == ("RUNNING", 3, 1)
        assert polled["productsCreated"] == 0  # the counts come when it ends
        if connection.vendor == "postgresql":
            # Not committed yet. (SQLite's shared in-memory test database
            # refuses to read a table another connection is writing.)
            assert not Product.objects.exists()
    finally:
        paused.saw(3)
        worker.join(TIMEOUT)
    polled = client.execute(NODE, {"id": global_id(job)})["node"]
    assert (polled["status"], polled["rowsDone"], polled["productsCreated"]) == (
        "SUCCEEDED", 3, 3)
    assert Product.objects.count() == 3


def test_the_sender_follows_the_job_live_to_its_end(waiting_job, paused):
    job = waiting_job
    token = token_for(job.created_by)

    async def run() -> tuple[dict, list[tuple[str, int]]]:
        async with socket(TRANSPORT_WS, token) as ws:
            await ws.subscribe(IMPORT_JOB_UPDATED, {"id": global_id(job)})
            first = (await ws.receive_data())["importJobUpdated"]
            # The worker: another thread and connection, its channel-layer
            # messages sent to this event loop.
            worker = asyncio.ensure_future(
                sync_to_async(run_task, thread_sensitive=False)(job.pk))
            seen = []
            try:
                while (message := await ws.receive())["type"] != "complete":
                    assert message["type"] == "next" and not message["payload"].get("errors")
                    got = message["payload"]["data"]["importJobUpdated"]
                    seen.append((got["status"], got["rowsDone"]))
                    paused.saw(got["rowsDone"])
            finally:
                paused.saw(3)
                await worker
            return first, seen

    first, seen = async_to_sync(run)()
    assert first == {"id": global_id(job), "status": "QUEUED", "rowsTotal": None,
                     "rowsDone": 0, "productsCreated": 0, "errorCount": 0}
    # Each step read while the import's transaction was open, then its end.
    running = [done for status, done in seen if status == "RUNNING"]
    assert {1, 2, 3} <= set(running) and running == sorted(running)
    assert seen[-1] == ("SUCCEEDED", 3) and seen.count(("SUCCEEDED", 3)) == 1
    assert Product.objects.count() == 3


def test_progress_is_told_about_a_hundred_times_whatever_the_size(monkeypatch):
    told: list[int] = []
    monkeypatch.setattr(live, "tell_progress", lambda *, job_id, rows_done: told.append(rows_done))
    tell = import_jobs._progress(7, 1050)
    for done in range(1, 1051):
        tell(done)
    assert told == list(range(10, 1051, 10))  # every 1,050 // 100 rows
    small = import_jobs._progress(8, 3)
    told.clear()
    for done in (1, 3):
        small(done)
    assert told == [1, 3]


def test_a_cache_that_does_not_answer_costs_progress_not_the_import(manager, monkeypatch,
                                                                     caplog):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(live.cache, "set", down)
    monkeypatch.setattr(live.cache, "get", down)
    job = import_job_run(job_id=queued(manager).pk)
    assert job.status == ImportJob.Status.SUCCEEDED and job.products_created == 3
    assert "Could not tell the progress" in caplog.text
    assert live.progress_of(job_id=job.pk) is None


# --- Who may follow a job ----------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_another_staff_members_job_is_not_found(manager, protocol):
    job = queued(manager)
    other = make_user(perms=[Perm.MANAGE_PRODUCTS])
    answer = first_answer(token_for(other), IMPORT_JOB_UPDATED, {"id": global_id(job)},
                          protocol)
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize("who, code", [
    ("customer", "FORBIDDEN"), ("order desk", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED"),
    ("no such job", "NOT_FOUND"), ("not a job's ID", "NOT_FOUND"),
])
def test_who_may_follow_a_job(manager, who, code):
    job = queued(manager)
    token: str | None = token_for(manager)
    job_id = global_id(job)
    if who == "customer":
        token = token_for(make_user())
    elif who == "order desk":
        token = token_for(make_user(perms=[Perm.MANAGE_ORDERS]))
    elif who == "anonymous":
        token = None
    elif who == "no such job":
        job_id = str(relay.GlobalID("ImportJob", str(job.pk + 1000)))
    else:
        job_id = str(relay.GlobalID("Product", str(job.pk)))
    answer = first_answer(token, IMPORT_JOB_UPDATED, {"id": job_id})
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code]


def test_a_job_that_has_ended_is_sent_once_and_the_stream_completes(manager):
    job = import_job_run(job_id=queued(manager).pk)

    async def run() -> tuple[dict, dict]:
        async with socket(TRANSPORT_WS, token_for(manager)) as ws:
            await ws.subscribe(IMPORT_JOB_UPDATED, {"id": global_id(job)})
            return await ws.receive_data(), await ws.receive()

    data, then = async_to_sync(run)()
    assert (data["importJobUpdated"]["status"], data["importJobUpdated"]["rowsDone"]) == (
        "SUCCEEDED", 3)
    assert then["type"] == "complete"


def test_the_job_events_have_their_handlers():
    assert events.handlers_of(events.ImportJobQueued) == ["apps.catalog.handlers.run_import_job"]
    assert events.handlers_of(events.ImportJobChanged) == [
        "apps.catalog.handlers.announce_import_job_changed"]


# --- The task delivered again, or failing ----------------------------------------------------


def test_a_job_that_ended_is_not_run_again(manager):
    job = queued(manager)
    assert import_job_run(job_id=job.pk).status == ImportJob.Status.SUCCEEDED
    assert tasks.run_import_job(str(uuid.uuid4()), job.pk) is None
    assert Product.objects.count() == 3
    assert import_job_run(job_id=job.pk + 1000) is None  # gone


def test_a_job_whose_worker_died_is_run_again(manager):
    job = queued(manager)
    # It had started; the worker died, and its transaction with it.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, rows_total=3)
    live.tell_progress(job_id=job.pk, rows_done=2)
    ended = import_job_run(job_id=job.pk)
    assert (ended.status, ended.rows_done, ended.products_created) == (
        ImportJob.Status.SUCCEEDED, 3, 3)
    assert live.progress_of(job_id=job.pk) is None


@pytest.mark.postgresql
def test_two_deliveries_at_once_import_once(waiting_job):
    job = waiting_job
    results = in_threads(2, lambda index: tasks.run_import_job(str(uuid.uuid4()), job.pk))
    assert sorted(results, key=str) == [None, "succeeded"]
    assert Product.objects.count() == 3
    assert ImportJob.objects.get().products_created == 3


def test_a_failure_of_the_server_fails_the_job_and_writes_nothing(manager, monkeypatch,
                                                                  caplog):
    real = csv_io.import_rows

    def breaks(**kwargs):
        real(**kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(csv_io, "import_rows", breaks)
    with caplog.at_level(logging.ERROR):
        job = import_job_run(job_id=queued(manager).pk)
    assert job.status == ImportJob.Status.FAILED and not Product.objects.exists()
    assert [(e["field"], e["code"]) for e in job.errors] == [("file", "INVALID")]
    assert "nothing was written" in job.errors[0]["message"]
    assert "the disk is full" in caplog.text


def test_a_file_gone_from_storage_fails_the_job(manager):
    job = queued(manager)
    default_storage.delete(job.file.name)
    ended = import_job_run(job_id=job.pk)
    assert ended.status == ImportJob.Status.FAILED and ended.rows_total is None
    assert problems({"errors": ended.errors}) == [("file", "INVALID")]


def test_a_job_keeps_the_first_errors_and_counts_them_all(manager, monkeypatch):
    monkeypatch.setattr(import_jobs, "ERRORS_KEPT", 2)
    text = to_csv([row(sku=f"X-{n}", slug=f"x-{n}", price="-1", category_slug="")
                   for n in range(3)])
    job = import_job_run(job_id=queued(manager, text).pk)
    assert job.status == ImportJob.Status.FAILED and job.error_count == 3
    assert [e["field"] for e in job.errors] == ["rows.2.price", "rows.3.price"]
    polled = client_for(manager).execute(NODE, {"id": global_id(job)})["node"]
    assert polled["errorCount"] == 3 and len(polled["errors"]) == 2
