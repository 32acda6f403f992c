"""What the inventory does when its events are dispatched."""

import uuid

from apps.core import events

from . import tasks


@events.handler(events.StockFellLow)
def alert_catalog_managers(event_id: uuid.UUID, event: events.StockFellLow) -> None:
    tasks.send_low_stock_alert.delay(str(event_id), event.variant_id)
