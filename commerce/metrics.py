"""Prometheus metrics (README "Metrics"): requests and tasks counted where
their log lines are written, the outbox and the queue read when scraped, and
the /metrics view.

Off unless METRICS_ENABLED: the request path and the task signals check that
one setting and touch nothing else, the SQL queries are not counted, and
/metrics is not routed. In multiprocess mode (PROMETHEUS_MULTIPROC_DIR set
before the first import, as gunicorn.conf.py does) every process writes its
values to a file of its own there and a scrape adds them up; without it the
process's own registry is served.
"""

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.db.backends.signals import connection_created
from django.core.handlers.wsgi import WSGIRequest
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from apps.core import request_context
from apps.core.addresses import address_in, request_client_address

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "commerce_requests_total",
    "HTTP requests, by GraphQL operation and outcome (ok, error, server_error).",
    ["operation", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "commerce_request_duration_seconds",
    "Time from the request's arrival to its response, by operation and outcome.",
    ["operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUEST_QUERIES = Histogram(
    "commerce_request_sql_queries",
    "SQL queries a request made, by operation.",
    ["operation"],
    buckets=(0, 1, 2, 3, 5, 10, 20, 50, 100, 200),
)
ERRORS = Counter(
    "commerce_graphql_errors_total",
    "GraphQL errors given to clients, by extensions.code.",
    ["code"],
)
CACHE_HITS = Counter(
    "commerce_response_cache_hits_total",
    "Requests the response cache answered, by operation.",
    ["operation"],
)
TASKS = Counter(
    "commerce_celery_tasks_total",
    "Celery tasks run, by task and final state (SUCCESS, FAILURE, RETRY...).",
    ["task", "state"],
)
TASK_SECONDS = Histogram(
    "commerce_celery_task_duration_seconds",
    "Time a Celery task ran, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

# The operation label of what is not a validated GraphQL operation.
NOT_GRAPHQL = ""
INVALID = "invalid"
UNNAMED = "unnamed"
OTHER = "other"
MAX_NAME_LENGTH = 100


class BoundedLabel:
    """A label that takes at most `limit` distinct values in this process,
    the first ones seen, and OTHER after them: values a client chooses (an
    operation's name) must not grow the series without end."""

    def __init__(self, limit: Callable[[], int]):
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        value = value[:MAX_NAME_LENGTH]
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit():
            return OTHER
        self.seen.add(value)
        return value


operation_names = BoundedLabel(lambda: settings.METRICS_MAX_OPERATIONS)
error_codes = BoundedLabel(lambda: settings.METRICS_MAX_OPERATIONS)


def operation_label(path: str, facts: dict[str, Any]) -> str:
    """The operation's name when its document parsed and validated (only then
    is a cost noted, by the cost limits before execution, or an answer of
    the response cache, a hit or a 304, whose entries come from executed
    documents), within the bound."""
    if not path.startswith("/graphql"):
        return NOT_GRAPHQL
    if "cost" not in facts and "response_cache" not in facts:
        return INVALID
    name = facts.get("operation")
    return operation_names(name) if name else UNNAMED


def outcome_label(status: int, codes: Iterable[str]) -> str:
    codes = set(codes)
    if status >= 500 or "INTERNAL_SERVER_ERROR" in codes:
        return "server_error"
    return "error" if status >= 400 or codes else "ok"


def observe_request(*, path: str, status: int, seconds: float,
                    record: request_context.Record) -> None:
    """Count a request from the facts its log line has (commerce.middleware)."""
    facts = record.facts
    codes = facts.get("error_codes") or ()
    operation = operation_label(path, facts)
    outcome = outcome_label(status, codes)
    REQUESTS.labels(operation, outcome).inc()
    REQUEST_SECONDS.labels(operation, outcome).observe(seconds)
    REQUEST_QUERIES.labels(operation).observe(record.queries)
    for code in codes:
        ERRORS.labels(error_codes(code)).inc()
    if facts.get("response_cache") == "hit":
        CACHE_HITS.labels(operation).inc()


def observe_task(*, name: str, state: str, seconds: float) -> None:
    TASKS.labels(name, state).inc()
    TASK_SECONDS.labels(name).observe(seconds)


# --- SQL queries per request --------------------------------------------------


def _count_query(execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: dict[str, Any]) -> Any:
    record = request_context.current()
    if record is not None:
        record.queries += 1
    return execute(sql, params, many, context)


def count_queries(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Count the queries of every connection the process opens, into the
    record of the request (or task) being served.

    Under ASGI a request's queries run in a thread of its own, on that
    thread's connection, which the middleware never sees; the record reaches
    that thread in the context asgiref copies there. Put first, so that a
    wrapper someone pushes and pops around a block stays last.
    """
    if settings.METRICS_ENABLED and _count_query not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _count_query)


connection_created.connect(count_queries, dispatch_uid="commerce.metrics.count_queries")


# --- Read at scrape time --------------------------------------------------------


class ShopState(Collector):
    """The outbox's backlog and the age of its oldest unsent event, and the
    Celery queue's length: read when scraped (a count on the outbox's
    partial index, an LLEN), never kept up to date by the writes."""

    def collect(self) -> Iterator[Metric]:
        from django.db.models import Count, Min
        from django.utils import timezone

        from apps.core.models import OutboxEvent

        unsent = OutboxEvent.objects.filter(sent_at__isnull=True).aggregate(
            count=Count("pk"), oldest=Min("created_at"))
        yield GaugeMetricFamily("commerce_outbox_unsent_events",
                                "Outbox events not yet handed to their handlers.",
                                value=unsent["count"])
        oldest = unsent["oldest"]
        age = max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
        yield GaugeMetricFamily("commerce_outbox_oldest_unsent_age_seconds",
                                "Age of the oldest unsent outbox event (0 when none).",
                                value=age)
        queue, length = celery_queue_length()
        if length is not None:
            gauge = GaugeMetricFamily("commerce_celery_queue_length",
                                      "Tasks waiting in the broker's queue.", labels=["queue"])
            gauge.add_metric([queue], length)
            yield gauge


# kombu's Redis transport keeps a queue's prioritised messages in lists
# named queue + "\x06\x16" + step, beside the plain list for priority 0.
PRIORITY_STEPS = (3, 6, 9)
PRIORITY_SEPARATOR = "\x06\x16"


def celery_queue_length() -> tuple[str, int | None]:
    """The default queue and its length, when the broker is Redis and answers."""
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url.startswith(("redis://", "rediss://")):
        return queue, None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        with client.pipeline(transaction=False) as pipe:
            for key in (queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)):
                pipe.llen(key)
            return queue, sum(pipe.execute())
    except redis.RedisError:
        logger.warning("metrics: the broker did not answer for the queue's length", exc_info=True)
        return queue, None


class _ThisProcess(Collector):
    """The default registry's metrics, without multiprocess mode."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry(*, state: bool = True) -> CollectorRegistry:
    """What a scrape reads: every process's counters (or this one's) and,
    from the web, the state read now (a worker leaves that to the web, so
    that it is not reported twice)."""
    scraped = CollectorRegistry()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        multiprocess.MultiProcessCollector(scraped, path=directory)
    else:
        scraped.register(_ThisProcess())
    if state:
        scraped.register(ShopState())
    return scraped


# --- /metrics -------------------------------------------------------------------


def scrape_allowed(request: HttpRequest) -> bool:
    """METRICS_BEARER_TOKEN sent as a bearer token, or no token and a client
    address in METRICS_ALLOWED_ADDRESSES (the peer's, or behind a trusted
    proxy the one it forwards). A wrong token is refused from anywhere."""
    sent = request.headers.get("Authorization")
    if sent is not None:
        token = settings.METRICS_BEARER_TOKEN
        scheme, _, value = sent.partition(" ")
        return bool(token) and scheme.lower() == "bearer" and secrets.compare_digest(
            value.strip().encode(), token.encode())
    return address_in(request_client_address(request.META), "METRICS_ALLOWED_ADDRESSES")


def metrics_view(request: HttpRequest, *, state: bool = True) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404
    if not scrape_allowed(request):
        return HttpResponse(status=403)
    return HttpResponse(generate_latest(registry(state=state)),
                        content_type=CONTENT_TYPE_LATEST)


# --- The Celery worker's own /metrics -------------------------------------------


def worker_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The worker's tasks counted by its pool's processes, on any path, to
    whom the web's /metrics answers (a WSGI app: the worker has no HTTP
    server of its own)."""
    response = metrics_view(WSGIRequest(environ), state=False)
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def clear_values() -> bool:
    """Remove a previous run's values files from PROMETHEUS_MULTIPROC_DIR
    (creating it if need be), before any process of this run writes there:
    they would add that run's counts, under pids this run reuses. Whether
    multiprocess mode is on."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return False
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
    return True


def serve_worker_metrics(*, port: int, address: str = "0.0.0.0") -> WSGIServer:
    """Start serving worker_app in a thread of the worker's main process
    (commerce.celery, at worker_init), after clear_values."""
    if not clear_values():
        logger.warning("metrics: PROMETHEUS_MULTIPROC_DIR is not set, so the tasks the "
                       "worker's pool processes run are not seen by its /metrics")
    server = make_server(address, port, worker_app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="commerce-worker-metrics").start()
    return server


def worker_process_ended(pid: int) -> None:
    """A pool process that ended: its counters stay, its live gauges go."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
