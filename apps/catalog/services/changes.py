"""What catalog writes tell of what storefront pages show: ProductCreated,
ProductChanged (with the part that changed) and CategoryChanged, published in
the write's transaction (apps.core.events) for the outgoing webhooks and the
response cache.

One service call publishes each at most once. A write made of many calls (a
CSV import, a product saved in the Django admin with its variants and
images) would tell of one product again and again; inside
`changes_told_once()` each product's creation, each (product, part) and each
category is published once, and a product created there is not also said to
have changed: ProductCreated already tells of all it has.
"""

import contextvars
import dataclasses
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from django.db import transaction

from apps.core import events


class Part(StrEnum):
    """What of a product changed (ProductChanged.part)."""

    PRODUCT = "product"  # its own fields, categories, attributes
    VARIANTS = "variants"  # a variant made, changed or removed, its price included
    MEDIA = "media"
    REVIEWS = "reviews"  # its rating and review count


@dataclasses.dataclass
class _Told:
    created: set[int] = dataclasses.field(default_factory=set)
    changed: set[tuple[int, Part]] = dataclasses.field(default_factory=set)
    categories: set[int] = dataclasses.field(default_factory=set)


_told: contextvars.ContextVar[_Told | None] = contextvars.ContextVar(
    "catalog_changes_told", default=None)


@contextmanager
def changes_told_once() -> Iterator[None]:
    """One transaction in which each change is told once (see the module
    docstring). Nested, the outer one decides. What is told is published at
    once, inside the writes' transaction: a failure that leaves the block
    rolls it back with them. A savepoint rolled back inside the block that
    the block survives (a dry run) would make it forget an event it thinks
    told, so none may be; the admin's dry runs come before its block."""
    with transaction.atomic():
        if _told.get() is not None:
            yield
            return
        token = _told.set(_Told())
        try:
            yield
        finally:
            _told.reset(token)


def _actor_id(actor: Any) -> int | None:
    return getattr(actor, "pk", None)


def product_created(*, actor: Any, product_id: int) -> None:
    told = _told.get()
    if told is not None:
        if product_id in told.created:
            return
        told.created.add(product_id)
    events.publish(events.ProductCreated(product_id=product_id, actor_id=_actor_id(actor)))


def product_changed(*, actor: Any, product_id: int, part: Part) -> None:
    told = _told.get()
    if told is not None:
        if product_id in told.created or (product_id, part) in told.changed:
            return
        told.changed.add((product_id, part))
    events.publish(events.ProductChanged(product_id=product_id, part=part.value,
                                         actor_id=_actor_id(actor)))


def categories_changed(*, actor: Any, category_ids: Iterable[int]) -> None:
    """One CategoryChanged per category (made, changed, moved or deleted),
    in one INSERT."""
    told = _told.get()
    ids = list(dict.fromkeys(category_ids))
    if told is not None:
        ids = [pk for pk in ids if pk not in told.categories]
        told.categories.update(ids)
    actor_id = _actor_id(actor)
    events.publish(*(events.CategoryChanged(category_id=pk, actor_id=actor_id) for pk in ids))
