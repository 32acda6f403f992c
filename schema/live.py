"""What every subscription fed by the channel layer shares: staying in its
group for as long as it lasts (schema.orders.subscriptions,
schema.catalog.subscriptions)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any


def rejoin_every(layer: Any) -> float:
    """Seconds between joins of a group: well within the time after which the
    layer forgets a member (`group_expiry`, a day by default)."""
    return float(layer.group_expiry) / 4


@contextlib.asynccontextmanager
async def membership_kept(consumer: Any, group: str) -> AsyncIterator[None]:
    """Keep the consumer in `group` for as long as the subscription lasts: the
    channel layer forgets members that did not join again within its
    group_expiry, and a desk's subscription may stay open for days."""

    async def rejoin() -> None:
        layer = consumer.channel_layer
        while True:
            await asyncio.sleep(rejoin_every(layer))
            await layer.group_add(group, consumer.channel_name)

    task = asyncio.create_task(rejoin())
    try:
        yield
    finally:
        task.cancel()
