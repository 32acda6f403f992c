"""How every domain's dataloaders are made: a factory per question, one
loader of each per request (Context.loader), one batch per tick."""

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from asgiref.sync import sync_to_async
from strawberry.dataloader import DataLoader


def batched(fetch: Callable[[list[Any]], dict[Any, Any]], *,
            missing: Any = None) -> Callable[[Any], DataLoader[Any, Any]]:
    """A loader factory over `fetch(keys) -> {key: value}`; keys it leaves out
    get `missing` (shared, so it must never be mutated)."""

    def factory(context: Any) -> DataLoader[Any, Any]:
        async def load(keys: Iterable[Hashable]) -> list[Any]:
            keys = list(keys)
            found = await sync_to_async(fetch)(keys)
            return [found.get(key, missing) for key in keys]

        return DataLoader(load_fn=load)

    return factory
