"""Tax, computed: pure functions of a rate table and amounts, no database.
The checkout loads the table for the cart's address (apps.taxes.selectors
.tax_table_for) and calls `compute_tax` with its discounted lines and its
shipping price.

Which rate applies to a line: the rows of the address's country that match
it (a row with no region, or the address's region; a row with no category,
or the line's category or one of its ancestors) are ranked, and the most
specific wins:

1. the deepest category: a row for the line's own category beats one for its
   parent, which beats a row for any category;
2. then the region: a row for the address's region beats the country's.

So a category rule ("books, 0%") holds across the country unless a region
says otherwise for that category; a region's general rate does not override
it. No matching row is 0%. Shipping has no category: it takes the rate of
the best row without one.

Rounding: each line's tax is rounded half up to the currency's places, once;
the tax of the cart is the sum of those, so the lines always add up to it
(and the total to subtotal plus shipping plus tax).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from apps.core.money import Money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class TaxRule:
    """One row of the table, as the calculation reads it."""

    rate: Decimal  # percent
    country_area: str = ""  # "" for the whole country
    category_path: str | None = None  # a category's tree path; None for any


@dataclass(frozen=True)
class TaxTable:
    """The rules for one destination, and the tree paths of the categories
    the lines are in (a line's ancestors are the prefixes of its path)."""

    country: str
    country_area: str = ""
    rules: tuple[TaxRule, ...] = ()
    category_paths: Mapping[int, str] = field(default_factory=dict)

    def rate_for(self, category_id: int | None) -> Decimal:
        """The percentage for a line in `category_id` (None: no category, as
        shipping)."""
        path = None if category_id is None else self.category_paths.get(category_id)
        best: tuple[int, bool] | None = None
        rate = Decimal(0)
        for rule in self.rules:
            if rule.country_area and rule.country_area.casefold() != self.country_area.casefold():
                continue
            if rule.category_path is not None and not (
                path is not None and path.startswith(rule.category_path)
            ):
                continue
            rank = (len(rule.category_path or ""), bool(rule.country_area))
            if best is None or rank > best:
                best, rate = rank, rule.rate
        return rate


@dataclass(frozen=True)
class TaxableLine:
    """A line's amount after discounts (price times quantity, less its share
    of a coupon) and the category of its product."""

    amount: Money
    category_id: int | None = None


@dataclass(frozen=True)
class TaxBreakdown:
    lines: tuple[Money, ...]  # in the order given
    shipping: Money

    @property
    def total(self) -> Money:
        total = self.shipping
        for tax in self.lines:
            total = total + tax
        return total


def tax_on(amount: Money, rate: Decimal) -> Money:
    """`rate` percent of `amount`, rounded half up to the currency's places."""
    return (amount * rate / HUNDRED).rounded()


def compute_tax(*, table: TaxTable, lines: Sequence[TaxableLine], shipping: Money) -> TaxBreakdown:
    """The tax of each line and of shipping; `total` is their sum."""
    return TaxBreakdown(
        lines=tuple(tax_on(line.amount, table.rate_for(line.category_id)) for line in lines),
        shipping=tax_on(shipping, table.rate_for(None)),
    )
