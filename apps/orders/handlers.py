"""What the orders domain does when its events are dispatched (after the
commit that published them)."""

import uuid

from apps.core import events

from . import tasks


@events.handler(events.StripeEventReceived)
def handle_stripe_event(event_id: uuid.UUID, event: events.StripeEventReceived) -> None:
    tasks.handle_stripe_event.delay(str(event_id), event.stripe_event_id)
