"""The storefront's sort keys as expressions that never are null, so that a
listing ordered by them can be indexed and paged by keyset (the last row's
keys, not an offset: see schema/pagination.py).

A product's lowest price and average rating are kept on its row
(`Product.min_price`, `Product.average_rating`, written by
apps.catalog.services.refresh_sort_keys whenever a variant or a review
changes): computed per product at read time they would have to be worked
out for every product of the catalog before the first row could be sent.
Products without a price or a rating sort last whichever the direction, so
the null is replaced by a value beyond every real one on that side; the
indexes in Product.Meta are on these same expressions.
"""

from decimal import Decimal

from django.db.models import DecimalField, F, FloatField, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

# Beyond any price (12 digits, 2 of them decimals) and any rating (1 to 5).
_PRICE_HIGH = Decimal("10000000000")
_LOW = -1


def price_key(*, descending: bool) -> Coalesce:
    """The lowest variant price, products without variants last."""
    last = Value(Decimal(_LOW) if descending else _PRICE_HIGH,
                 output_field=DecimalField(max_digits=12, decimal_places=2))
    return Coalesce(F("min_price"), last, output_field=DecimalField(max_digits=12,
                                                                    decimal_places=2))


def rating_key(*, descending: bool) -> Coalesce:
    """The average of the visible reviews' stars, unrated products last."""
    last = Value(float(_LOW) if descending else 6.0, output_field=FloatField())
    return Coalesce(F("average_rating"), last, output_field=FloatField())


def tie_break(*, descending: bool) -> F | CombinedExpression:
    """Ties are broken by id ascending. After a descending key it is written
    as `-id` descending (the same order), so that every key of the ordering
    runs one way and a row comparison on them can use an index."""
    return F("id") * -1 if descending else F("id")
