"""What the response cache's entries of catalog reads are tagged with, and
which committed changes make them stale (schema/response_cache.py builds and
serves the entries; apps.core.cache_tags keeps the versions).

The tags:

- `product:<id>`: the entry shows the product (any of its fields, its
  variants, media, reviews, rating), except its stock quantities;
- `stock:<id>`: it shows the quantities available of the product's variants;
- `products`: it depends on which products exist and how they compare (a
  list, a count, a slug that found nothing);
- `category:<id>`: it shows the category;
- `categories`: it depends on the tree (the category list, parents,
  children, ancestors, what lies below a category, a slug that found nothing);
- `reviewer:<user id>`: it shows a review's author name.

The handlers run after the commit that published the event, in the process
that committed (or the outbox's sweep): quick, and harmless to repeat.
"""

import uuid

from apps.core import cache_tags, events

from .models import ProductVariant

PRODUCTS = "products"
CATEGORIES = "categories"


def product_tag(product_id: int) -> str:
    return f"product:{product_id}"


def stock_tag(product_id: int) -> str:
    return f"stock:{product_id}"


def category_tag(category_id: int) -> str:
    return f"category:{category_id}"


def reviewer_tag(user_id: int) -> str:
    return f"reviewer:{user_id}"


def _product_changed(product_id: int, *, lists: bool = True) -> None:
    cache_tags.bump([product_tag(product_id), *([PRODUCTS] if lists else [])])


@events.handler(events.ProductCreated)
def product_created(event_id: uuid.UUID, event: events.ProductCreated) -> None:
    _product_changed(event.product_id)


@events.handler(events.ProductChanged)
def product_changed(event_id: uuid.UUID, event: events.ProductChanged) -> None:
    # Images decide neither which products a list holds nor their order.
    _product_changed(event.product_id, lists=event.part != "media")


@events.handler(events.ProductPublished)
@events.handler(events.ProductUnpublished)
@events.handler(events.ProductDeleted)
@events.handler(events.ProductRestored)
def product_moved(event_id: uuid.UUID, event: events.ProductMoved) -> None:
    _product_changed(event.product_id)


@events.handler(events.VariantPriceDropped)
def variant_price_dropped(event_id: uuid.UUID, event: events.VariantPriceDropped) -> None:
    product_id = (ProductVariant.objects.filter(pk=event.variant_id)
                  .values_list("product_id", flat=True).first())
    if product_id is not None:
        _product_changed(product_id)


@events.handler(events.CategoryChanged)
def category_changed(event_id: uuid.UUID, event: events.CategoryChanged) -> None:
    # Lists filter by category and its descendants: a move changes them too.
    cache_tags.bump([category_tag(event.category_id), CATEGORIES, PRODUCTS])


@events.handler(events.StockChanged)
def stock_changed(event_id: uuid.UUID, event: events.StockChanged) -> None:
    """The quantities shown on the product's pages; whether it is available
    (cards, the in-stock filter) only when availability crosses zero. A
    checkout storm on one product touches nothing else."""
    tags = [stock_tag(event.product_id)]
    if event.crossed_zero:
        tags += [product_tag(event.product_id), PRODUCTS]
    cache_tags.bump(tags)


@events.handler(events.AccountNameChanged)
@events.handler(events.AccountDeleted)
def reviewer_renamed(event_id: uuid.UUID,
                     event: events.AccountNameChanged | events.AccountDeleted) -> None:
    """A review shows its author's name ("Ada L."), or "A former customer"
    once the account is deleted."""
    cache_tags.bump([reviewer_tag(event.user_id)])
