"""What the payments domain keeps: the events Stripe sent, each once.

A Payment and a Refund belong to their order (apps.orders.models); a gateway
keeps no records. The one record here is the webhook's: Stripe delivers an
event at least once, and may deliver two copies at the same moment, so each
event id is written once, under a unique index, before any work is handed
on (apps.payments.webhooks)."""

from django.db import models
from django.utils import timezone


class StripeEvent(models.Model):
    """An event Stripe sent to POST /webhooks/stripe/, verified."""

    # Stripe's id (evt_...): a second delivery of the event meets this index.
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    # The event as Stripe sent it; its data.object is read when it is handled.
    payload = models.JSONField()
    # When Stripe made it (its `created`), which may be long before it arrived.
    created_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    # What handling it did, in words, for whoever reads the admin.
    outcome = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
