"""The Celery app. Without REDIS_URL tasks run eagerly in-process (see settings)."""

import logging
import os
import time
from contextlib import ExitStack
from typing import Any

from celery import Celery
from celery.signals import (
    beat_init,
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_shutdown,
)
from django.conf import settings

from apps.core import request_context
from commerce import metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce.settings")

app = Celery("commerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _refuse_to_start(**kwargs) -> None:
    # A worker signs email links with SECRET_KEY: the web server's rule holds.
    # Celery logs and swallows exceptions from signal handlers; SystemExit stops.
    from django.core.exceptions import ImproperlyConfigured

    from commerce.startup import refuse_broken_payment_gateways, refuse_development_secret_key

    try:
        refuse_development_secret_key()
        # A worker will refund and cancel through the gateways.
        refuse_broken_payment_gateways()
    except ImproperlyConfigured as error:
        raise SystemExit(str(error)) from error


@worker_init.connect
def _report_and_trace_worker(**kwargs: Any) -> None:
    _report_and_trace("commerce-worker")


@beat_init.connect
def _report_and_trace_beat(**kwargs: Any) -> None:
    _report_and_trace("commerce-beat")


def _report_and_trace(service_name: str) -> None:
    """Error reports and traces, each when its variable is set (README
    "Traces and error reports"). In prefork's parent: the span processor
    starts its thread again in each child, Sentry its own when it first
    sends."""
    from commerce import error_reports, telemetry

    error_reports.setup()
    telemetry.setup(service_name)


# --- Request ids and one log line per task (README "Logs and request ids"),
# and its metrics with METRICS_ENABLED (README "Metrics") -------------------

task_log = logging.getLogger("commerce.tasks")
_serving: dict[str, tuple[ExitStack, float]] = {}


@before_task_publish.connect
def _send_request_id(headers: dict | None = None, **kwargs: Any) -> None:
    """A task enqueued while a request (or a task) is served carries its id."""
    request_id = request_context.current_request_id()
    if request_id and headers is not None:
        headers.setdefault("request_id", request_id)


@task_prerun.connect
def _task_started(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    # An eager task runs inside the request that called it: its id stays.
    sent = getattr(task.request, "request_id", None) if task is not None else None
    request_id = (request_context.accepted_request_id(sent)
                  or request_context.current_request_id() or request_context.new_request_id())
    stack = ExitStack()
    stack.enter_context(request_context.serving(request_id))
    _serving[task_id] = (stack, time.perf_counter())


@task_postrun.connect
def _task_finished(task_id: str = "", task: Any = None, state: str | None = None,
                   **kwargs: Any) -> None:
    stack, started = _serving.pop(task_id, (None, time.perf_counter()))
    seconds = time.perf_counter() - started
    duration = round(seconds * 1000, 1)
    name = getattr(task, "name", "")
    if settings.METRICS_ENABLED:
        metrics.observe_task(name=name, state=str(state), seconds=seconds)
    task_log.info("task %s %s %.1f ms", name, state, duration,
                  extra={"task": name, "task_id": task_id, "state": state,
                         "duration_ms": duration})
    if stack is not None:
        stack.close()


@worker_init.connect
def _serve_worker_metrics(**kwargs: Any) -> None:
    """The worker's /metrics (README "Metrics"), when METRICS_WORKER_PORT is set."""
    if settings.METRICS_ENABLED and settings.METRICS_WORKER_PORT:
        metrics.serve_worker_metrics(port=settings.METRICS_WORKER_PORT)


@worker_process_shutdown.connect
def _worker_process_ended(pid: int | None = None, **kwargs: Any) -> None:
    if settings.METRICS_ENABLED and pid is not None:
        metrics.worker_process_ended(pid)
