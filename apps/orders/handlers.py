"""What the orders domain does when its events are dispatched (after the
commit that published them)."""

import uuid

from apps.core import events

from . import live, tasks


@events.handler(events.OrderChanged)
def announce_order_changed(event_id: uuid.UUID, event: events.OrderChanged) -> None:
    # The subscribers of orderUpdated re-read the order; a repeated or late
    # announcement only makes them read it once more.
    live.announce_order_changed(order_id=event.order_id)


@events.handler(events.OrderPlaced)
def announce_order_placed(event_id: uuid.UUID, event: events.OrderPlaced) -> None:
    live.announce_order_placed(order_id=event.order_id)


@events.handler(events.StripeEventReceived)
def handle_stripe_event(event_id: uuid.UUID, event: events.StripeEventReceived) -> None:
    tasks.handle_stripe_event.delay(str(event_id), event.stripe_event_id)
