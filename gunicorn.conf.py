"""gunicorn's settings besides its command line (Dockerfile, compose.yaml),
read from the working directory: Prometheus's multiprocess mode when
METRICS_ENABLED is on (README "Metrics").

Each worker is a process of its own; for /metrics to add up all of them,
whichever worker answers, every worker writes its counters into files in
PROMETHEUS_MULTIPROC_DIR, which must be set before the workers import
anything. It is set here, in the master, and inherited by every worker.
"""

import os
import tempfile

METRICS = os.environ.get("METRICS_ENABLED", "").strip().lower() in {"1", "true", "yes", "on"}
if METRICS:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                          os.path.join(tempfile.gettempdir(), "commerce-metrics"))


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
