"""Webhook endpoints and their deliveries.

An endpoint is a URL an integration gave, the event types it wants and the
secret its deliveries are signed with. A delivery is one outbox event sent to
one endpoint: made once (unique by endpoint and event), then attempted until
the endpoint answers 2xx or a day has gone by. Its payload is written when it
is made, so every attempt and every re-send carries the same body under the
same `webhook-id`, and the receiver can tell a repeat from a new event.

A delivery about an order names it (`order`), so that what the deliveries
keep of a person can be erased with them (an account deleted, old order
records anonymised: apps.webhooks.services.deliveries_erase) without reading
every body in the log.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.webhooks.event_types import WebhookEventType
from apps.webhooks.signing import generate_secret


def refusal(status_code: int, excerpt: str = "") -> str:
    """A delivery's `last_error` for an answer that was not 2xx: the status,
    and the start of the answer's body when there was one. The body may echo
    what was sent, so an erasure keeps the status alone."""
    return f"HTTP {status_code}" + (f": {excerpt}" if excerpt else "")


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    # WebhookEventType values. A JSON list rather than a table: an endpoint
    # has a handful, and the few active endpoints are read whole.
    event_types = models.JSONField(default=list)
    # Standard Webhooks' form, "whsec_" and base64 of random bytes. Kept as it
    # is: the server needs it to sign.
    secret = models.CharField(max_length=100, default=generate_secret)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in self.event_types


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE,
                                 related_name="deliveries")
    event_type = models.CharField(max_length=50, choices=WebhookEventType.choices)
    # The outbox event (apps.core.OutboxEvent) it tells of; its webhook-id.
    event_id = models.UUIDField()
    payload = models.JSONField()
    # The order the event is about (order.* types); null for the others.
    order = models.ForeignKey("orders.Order", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When a pending delivery is next tried (an attempt under way holds it a
    # while ahead, apps.webhooks.delivery); null once it succeeded or failed.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"],
                                    name="webhook_delivery_once_per_endpoint"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"]),
            # What the retry sweep reads: the pending, by when they are due.
            models.Index(fields=["next_attempt_at"], condition=Q(status="PENDING"),
                         name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"
