"""Stripe's webhook, as far as the payments domain goes: verify, record once,
hand on.

Stripe signs each delivery (the Stripe-Signature header: a timestamp and an
HMAC-SHA256 of "timestamp.body" keyed with the endpoint's secret); the
`stripe` library's own WebhookSignature checks it, and the tolerance, so a
forged, altered or replayed-late delivery is refused before anything is
read from it. A verified event of a type the shop listens to is written
once (StripeEvent's unique event id: a repeat, even one arriving at the same
moment on another process, waits for the first and then finds it) and, in
the same transaction, StripeEventReceived is published to the outbox. The
work (apps.orders.services.stripe) runs after the commit, in a worker, so
the endpoint answers Stripe at once: Stripe retries what is not answered 2xx
within seconds.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core import events

from .models import StripeEvent

logger = logging.getLogger(__name__)

# The events the shop acts on; the endpoint in Stripe's dashboard (or
# `stripe listen --events`) needs no others.
EVENT_TYPES = frozenset({
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refund.updated",
    "charge.dispute.created",
    "charge.dispute.closed",
})


class InvalidWebhook(Exception):
    """Not a delivery from Stripe: no or a wrong signature, a timestamp out
    of the tolerance, or a body that is not an event. Nothing was recorded."""


class Received(StrEnum):
    RECORDED = "recorded"  # new: its handling is on its way
    REPEATED = "repeated"  # had been recorded already
    IGNORED = "ignored"  # a type the shop does not act on


def verified_event(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in `payload`, if Stripe signed it with the endpoint's secret
    within STRIPE_WEBHOOK_TOLERANCE seconds."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set.")
        raise InvalidWebhook("The webhook is not configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE)
        event = json.loads(payload)
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook(f"The signature does not verify: {error.user_message}") from None
    except (UnicodeDecodeError, ValueError):
        raise InvalidWebhook("The body is not JSON.") from None
    data = event.get("data") if isinstance(event, dict) else None
    if not (isinstance(data, dict) and isinstance(data.get("object"), dict)
            and isinstance(event.get("id"), str) and isinstance(event.get("type"), str)
            and isinstance(event.get("created"), int)):
        raise InvalidWebhook("The body is not a Stripe event.")
    return dict(event)


def stripe_event_receive(*, payload: bytes, signature: str | None) -> Received:
    """Verify a delivery and record its event once, handing it to the outbox
    (see the module's docstring). InvalidWebhook when it does not verify."""
    event = verified_event(payload=payload, signature=signature)
    if event["type"] not in EVENT_TYPES:
        logger.info("Stripe event %s of type %s ignored: the shop does not act on it.",
                    event["id"], event["type"])
        return Received.IGNORED
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    event_id=event["id"], type=event["type"], payload=event,
                    created_at=datetime.fromtimestamp(event["created"], tz=UTC),
                )
        except IntegrityError:
            logger.info("Stripe event %s delivered again; ignored.", event["id"])
            return Received.REPEATED
        events.publish(events.StripeEventReceived(stripe_event_id=event["id"]))
    return Received.RECORDED
