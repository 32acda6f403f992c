"""The counters domain services add to (README "Metrics"): checkouts by
outcome and webhook delivery attempts by status. Requests, tasks, the
outbox and the queue are counted or read by commerce.metrics.

Defined at import, so that in multiprocess mode (PROMETHEUS_MULTIPROC_DIR)
each process writes its own values file and /metrics adds them up; touched
only when METRICS_ENABLED is on, so with it off a checkout pays one boolean
check. Every label value comes from a closed set (an ErrorCode, a
delivery's status), never from what a client sent.
"""

from django.conf import settings
from prometheus_client import Counter

COMPLETED = "completed"

CHECKOUTS = Counter(
    "commerce_checkouts_total",
    "checkoutComplete calls, by outcome: completed, or the code of the refusal.",
    ["outcome"],
)
WEBHOOK_ATTEMPTS = Counter(
    "commerce_webhook_delivery_attempts_total",
    "Webhook delivery attempts, by the delivery's status after the attempt "
    "(SUCCEEDED; PENDING: failed, to be retried; FAILED: given up).",
    ["status"],
)


def checkout_finished(*, outcome: str) -> None:
    """A checkoutComplete call ended: COMPLETED, or the refusal's code."""
    if settings.METRICS_ENABLED:
        CHECKOUTS.labels(outcome).inc()


def webhook_attempted(*, status: str) -> None:
    """A delivery was attempted and now has this status."""
    if settings.METRICS_ENABLED:
        WEBHOOK_ATTEMPTS.labels(status).inc()
