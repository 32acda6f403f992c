"""What the webhooks do when events are dispatched: make the deliveries of
each event a webhook can be told of (apps.webhooks.event_types), and enqueue
an attempt of each, once their rows have committed.

Harmless to repeat, as handlers must be: a delivery is made once per
endpoint and event, and an attempt of one that is not due does nothing."""

import functools
import uuid
from collections.abc import Iterable

from django.db import transaction

from apps.core import events
from apps.webhooks import services, tasks
from apps.webhooks.event_types import OUTBOX_EVENTS


def _enqueue(delivery_ids: Iterable[int]) -> None:
    # Not robust: a broker that is down fails the handler, and the outbox
    # dispatches the event again (the retry sweep would also find them due).
    for delivery_id in delivery_ids:
        transaction.on_commit(functools.partial(tasks.deliver_webhook.delay, delivery_id))


def make_deliveries(event_id: uuid.UUID, event: events.Event) -> None:
    _enqueue(services.deliveries_create(event_id=event_id, event=event))


for _event_class in OUTBOX_EVENTS:
    events.handler(_event_class)(make_deliveries)


@events.handler(events.WebhookDeliveryRetried)
def send_again(event_id: uuid.UUID, event: events.WebhookDeliveryRetried) -> None:
    _enqueue([event.delivery_id])
