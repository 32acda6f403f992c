"""How every domain's dataloaders are made: a factory per question, one
loader of each per request (Context.loader), one batch per tick."""

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from asgiref.sync import sync_to_async
from strawberry.dataloader import DataLoader


class BatchedLoader(DataLoader[Any, Any]):
    """A DataLoader that can also be filled ahead, in the database thread:
    `fill(keys)` fetches those keys at once (a page's worth) and keeps the
    values in `known`, which `answer` gives synchronously. A field read for
    every row of a page then costs no coroutine, task or gather per row."""

    def __init__(self, fetch: Callable[[list[Any]], dict[Any, Any]], missing: Any) -> None:
        self.fetch = fetch
        self.missing = missing
        self.known: dict[Any, Any] = {}

        async def load(keys: Iterable[Hashable]) -> list[Any]:
            keys = list(keys)
            found = await sync_to_async(fetch)(keys)
            return [found.get(key, missing) for key in keys]

        super().__init__(load_fn=load)

    def fill(self, keys: Iterable[Hashable]) -> None:
        """Fetch these keys now (sync: the caller is in the database thread)."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self.known]
        if wanted:
            found = self.fetch(wanted)
            self.known.update((key, found.get(key, self.missing)) for key in wanted)

    def answer(self, key: Hashable, then: Callable[[Any], Any] = lambda value: value) -> Any:
        """`then(value)` for the key: at once when it was filled, else an
        awaitable of it through the ordinary batch."""
        if key in self.known:
            return then(self.known[key])

        async def later() -> Any:
            return then(await self.load(key))

        return later()


def batched(fetch: Callable[[list[Any]], dict[Any, Any]], *,
            missing: Any = None) -> Callable[[Any], BatchedLoader]:
    """A loader factory over `fetch(keys) -> {key: value}`; keys it leaves out
    get `missing` (shared, so it must never be mutated)."""

    def factory(context: Any) -> BatchedLoader:
        return BatchedLoader(fetch, missing)

    return factory
