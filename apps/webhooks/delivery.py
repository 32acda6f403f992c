"""Attempting a delivery: one signed POST, its outcome recorded, and the next
attempt scheduled with exponential backoff.

Several things may ask for the same attempt at once (the task enqueued when
the delivery was made, the sweep of due deliveries after a worker died, a
staff re-send), so an attempt first claims the delivery with a conditional
UPDATE that holds it ahead by the length of an attempt: whoever loses finds
nothing due and does nothing. A worker that dies mid-attempt loses nothing
either: the hold runs out and the sweep tries again.
"""

import json
import logging
import time
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from apps.core import metrics, request_context
from apps.webhooks import signing
from apps.webhooks.models import WebhookDelivery, refusal
from apps.webhooks.services import url_problem

logger = logging.getLogger(__name__)

USER_AGENT = "commerce-webhooks/1"
# What is kept of a refusal's response body, for staff to read.
RESPONSE_EXCERPT = 500
Status = WebhookDelivery.Status


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: WEBHOOKS_RETRY_BASE,
    doubling each time (30 s, 1 min, 2 min, ... by default). The doubling
    stops at 2**20 (a year at 30 s), far past any retry window and long
    before timedelta overflows."""
    base: timedelta = settings.WEBHOOKS_RETRY_BASE
    return base * (1 << min(max(attempts, 1) - 1, 20))


def _hold() -> timedelta:
    """How long an attempt under way keeps a delivery from the others: the
    request's timeout, with room to record the outcome."""
    return timedelta(seconds=settings.WEBHOOKS_TIMEOUT + 60)


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).update(next_attempt_at=now + _hold())
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def _post(delivery: WebhookDelivery, now: datetime) -> tuple[int | None, str]:
    """(the response status or None, what went wrong or "")."""
    endpoint = delivery.endpoint
    problem = url_problem(endpoint.url)  # again: what a name resolves to may change
    if problem is not None:
        return None, f"Not sent: {problem}"
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signing.signed_headers(secret=endpoint.secret, message_id=str(delivery.event_id),
                                 timestamp=int(now.timestamp()), body=body),
    }
    request_id = request_context.current_request_id()
    if request_id:  # the request whose change this tells of, for the receiver's logs
        headers[request_context.HEADER.lower()] = request_id
    try:
        # Streamed, so that a huge answer is not read whole; redirects are
        # not followed (they could lead anywhere, this server included).
        with httpx.stream("POST", endpoint.url, content=body, headers=headers,
                          timeout=settings.WEBHOOKS_TIMEOUT, follow_redirects=False) as response:
            if response.is_success:
                return response.status_code, ""
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT:
                    break
            text = excerpt[:RESPONSE_EXCERPT].decode("utf-8", "replace").strip()
            return response.status_code, refusal(response.status_code, text)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:1000]


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Attempt the delivery if it is due and nobody else is; the delivery as
    it then is, or None when there was nothing to do."""
    now = timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    started = time.monotonic()
    status_code, error = _post(delivery, now)
    attempts = delivery.attempts + 1
    changes: dict[str, object] = {
        "attempts": F("attempts") + 1, "last_attempt_at": now,
        "last_response_status": status_code, "last_error": error,
        "updated_at": timezone.now(),
    }
    if not error:
        changes.update(status=Status.SUCCEEDED, next_attempt_at=None)
    else:
        retry_at = now + backoff(attempts)
        if retry_at > delivery.created_at + settings.WEBHOOKS_RETRY_FOR:
            changes.update(status=Status.FAILED, next_attempt_at=None)
        else:
            changes.update(next_attempt_at=retry_at)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
    delivery.refresh_from_db()
    metrics.webhook_attempted(status=delivery.status)
    log = logger.info if not error else logger.warning
    log("Webhook %s %s to %s: attempt %d, %s in %.2f s%s.", delivery.event_type,
        delivery.event_id, delivery.endpoint.url, attempts,
        status_code if status_code is not None else "no response",
        time.monotonic() - started, "" if not error else f" ({delivery.status.lower()}: {error})")
    return delivery

