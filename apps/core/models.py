"""The transactional outbox (see apps.core.events), and the shipping
address columns that carts and orders share."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxEvent(models.Model):
    """An event, written in the transaction of the change it reports and handed
    to its handlers after that transaction commits. `sent_at` stays empty until
    every handler has taken it, so a broker that was down at commit time only
    delays the event: the retry task finds it here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # What the retry task reads: the unsent, oldest first.
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True),
                         name="outbox_unsent"),
            models.Index(fields=["sent_at"], name="outbox_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class HandledEvent(models.Model):
    """That a handler has acted on an event. A handler runs at least once (a
    retried dispatch or a redelivered task runs it again); this row, written
    in the handler's own transaction, makes it act once."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    handled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "handler"], name="handled_event_once"),
        ]
        indexes = [models.Index(fields=["handled_at"], name="handled_event_at")]

    def __str__(self) -> str:
        return f"{self.handler} {self.event_id}"


class ShippingAddressCopy(models.Model):
    """A shipping address copied onto the row (an AddressInput's fields, each
    prefixed `shipping_`): a cart's, empty until given, and an order's
    snapshot of it, which no later edit of the address book rewrites."""

    shipping_first_name = models.CharField(max_length=150, blank=True)
    shipping_last_name = models.CharField(max_length=150, blank=True)
    shipping_company = models.CharField(max_length=255, blank=True)
    shipping_street_address_1 = models.CharField(max_length=255, blank=True)
    shipping_street_address_2 = models.CharField(max_length=255, blank=True)
    shipping_city = models.CharField(max_length=255, blank=True)
    shipping_postal_code = models.CharField(max_length=32, blank=True)
    shipping_country_area = models.CharField(max_length=128, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True)
    shipping_phone = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True
