"""gunicorn's settings for the web processes (compose.yaml and the Dockerfile
run `gunicorn -c gunicorn.conf.py commerce.asgi:application`); each can be
overridden by the environment.

A deploy loses no request: on SIGTERM gunicorn stops accepting, each
uvicorn worker finishes the requests it has within `graceful_timeout`
seconds, and closes its WebSockets with 1012 (service restart), on which
the storefront's client reconnects, to another process.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "uvicorn_worker.UvicornWorker"
# Seconds a worker has, once told to stop, to finish what it is answering.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # our own line: commerce.requests

# Prometheus's multiprocess mode when METRICS_ENABLED is on (README
# "Metrics"): each worker is a process of its own; for /metrics to add up
# all of them, whichever worker answers, every worker writes its counters
# into files in PROMETHEUS_MULTIPROC_DIR, which must be set before the
# workers import anything: here, in the master, inherited by every worker.
METRICS = os.environ.get("METRICS_ENABLED", "").strip().lower() in {"1", "true", "yes", "on"}
if METRICS:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/commerce-metrics")


def on_starting(server):
    """Before any worker starts: a previous run's values files would add
    its counts (and reuse its pids)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from commerce.metrics import clear_values

        clear_values()


def child_exit(server, worker):
    """A worker that ended: its counters stay counted, its live gauges go."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
