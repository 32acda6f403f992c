"""Whether a coupon applies to a cart, and how much it takes off each line.

Pure functions of plain values, no database: the checkout gathers the
coupon's terms (apps.discounts.selectors.coupon_terms), the lines and the
use counts, and asks `coupon_applicability`. The same answer serves the
cart's display and the order's totals, so a customer is charged what was
shown.

Rounding, by discount type:

- PERCENTAGE: each line's discount is its total times the rate, rounded half
  up to the currency's places. The coupon's discount is the sum of the
  line discounts, so lines and total agree by construction; that sum may
  differ from the rate applied to the lines' total by at most half a minor
  unit per line (three 0.05 lines at 10%: 0.01 each, 0.03 in all, where
  10% of 0.15 would round to 0.02).
- FIXED_AMOUNT: the amount (never more than the lines it applies to) is
  spread over those lines pro rata, each share rounded down to the
  currency's places; the minor units left over go to the largest line
  (then the next largest, should it be full), so the line discounts add up
  exactly to the coupon's amount and no line is discounted below zero.
- FREE_SHIPPING: no line discount; the answer says shipping is free.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from apps.core.money import Money, currency_places, quantize

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")


def normalize_code(code: str | None) -> str:
    """Codes are case-insensitive: stored and looked up trimmed, in upper case."""
    return (code or "").strip().upper()


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """What decides whether a coupon applies: a coupon as plain values."""

    code: str
    discount_type: str  # a models.DiscountType value
    value: Decimal | None
    min_subtotal: Money | None
    valid_from: datetime | None
    valid_until: datetime | None
    is_active: bool
    usage_limit: int | None
    usage_limit_per_user: int | None
    # The scope: empty both ways means every line. Category paths are the
    # tree's materialised paths, so a path covers every path it prefixes.
    category_paths: frozenset[str] = frozenset()
    product_ids: frozenset[int] = frozenset()

    @property
    def scoped(self) -> bool:
        return bool(self.category_paths or self.product_ids)


@dataclass(frozen=True, slots=True)
class CouponLine:
    """A cart or order line as the rules see it. `category_path` is the
    product's category's path (None when it has none)."""

    product_id: int
    category_path: str | None
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


class Refusal(StrEnum):
    INACTIVE = "inactive"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    USED_UP = "used_up"
    USED_UP_BY_CUSTOMER = "used_up_by_customer"
    NOTHING_APPLIES = "nothing_applies"
    MINIMUM_NOT_MET = "minimum_not_met"


@dataclass(frozen=True, slots=True)
class CouponRefused:
    """The coupon does not apply: INVALID_COUPON with `message`."""

    reason: Refusal
    message: str


@dataclass(frozen=True, slots=True)
class CouponApplies:
    """The discount of each line, in the order of the lines given (zero for
    the lines outside the coupon's scope), and whether shipping is free."""

    line_discounts: tuple[Money, ...]
    free_shipping: bool

    @property
    def total(self) -> Money | None:
        """The sum of the line discounts; None for no lines."""
        if not self.line_discounts:
            return None
        return _sum(self.line_discounts, self.line_discounts[0].currency)


def covers(terms: CouponTerms, line: CouponLine) -> bool:
    """Whether the coupon's scope takes in the line."""
    if not terms.scoped:
        return True
    if line.product_id in terms.product_ids:
        return True
    path = line.category_path
    return path is not None and any(path.startswith(scope) for scope in terms.category_paths)


def _sum(amounts: Sequence[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def coupon_applicability(
    *, coupon: CouponTerms, lines: Sequence[CouponLine], now: datetime, uses: int,
    uses_by_customer: int,
) -> CouponApplies | CouponRefused:
    """The coupon on these lines at `now`, given how often it was used in all
    (`uses`) and by this customer (`uses_by_customer`, see
    selectors.coupon_use_counts). Refusals come in the order a customer can do
    least about: the coupon itself, then its limits, then the cart."""
    code = coupon.code
    if not coupon.is_active:
        return CouponRefused(Refusal.INACTIVE, f"The coupon {code} is not active.")
    if coupon.valid_from is not None and now < coupon.valid_from:
        return CouponRefused(Refusal.NOT_YET_VALID, f"The coupon {code} is not valid yet.")
    if coupon.valid_until is not None and now >= coupon.valid_until:
        return CouponRefused(Refusal.EXPIRED, f"The coupon {code} has expired.")
    if coupon.usage_limit is not None and uses >= coupon.usage_limit:
        return CouponRefused(Refusal.USED_UP, f"The coupon {code} has been used up.")
    if coupon.usage_limit_per_user is not None and uses_by_customer >= coupon.usage_limit_per_user:
        return CouponRefused(Refusal.USED_UP_BY_CUSTOMER,
                             f"You have already used the coupon {code} as often as it allows.")
    covered = [covers(coupon, line) for line in lines]
    if not any(covered):
        return CouponRefused(Refusal.NOTHING_APPLIES,
                             f"The coupon {code} applies to nothing in the cart.")
    currency = next(line.unit_price.currency for line in lines)
    totals = [line.total if hit else Money.zero(currency) for line, hit in zip(lines, covered)]
    subtotal = _sum(totals, currency)
    if coupon.min_subtotal is not None and subtotal < coupon.min_subtotal:
        scope = " of the items it applies to" if coupon.scoped else ""
        return CouponRefused(
            Refusal.MINIMUM_NOT_MET,
            f"The coupon {code} needs a subtotal{scope} of at least "
            f"{coupon.min_subtotal.rounded()}.",
        )
    if coupon.discount_type == "FREE_SHIPPING":
        return CouponApplies(tuple(Money.zero(currency) for _ in lines), free_shipping=True)
    value = coupon.value if coupon.value is not None else Decimal(0)
    if coupon.discount_type == "PERCENTAGE":
        discounts = [Money(quantize(total.amount * value / 100, currency), currency)
                     for total in totals]
    else:
        discounts = spread(Money.of(value, currency), totals)
    return CouponApplies(tuple(discounts), free_shipping=False)


def spread(amount: Money, totals: Sequence[Money]) -> list[Money]:
    """`amount` shared over `totals` pro rata (capped at their sum), shares
    rounded down to the currency's places and the leftover minor units given
    to the largest total first: the shares add up to the amount exactly and
    none is larger than its total."""
    currency = amount.currency
    unit = Decimal(1).scaleb(-currency_places(currency))
    whole = _sum(totals, currency).rounded()
    amount = min(amount.rounded(), whole)
    if not whole:
        return [Money.zero(currency) for _ in totals]
    shares = [
        (amount.amount * total.amount / whole.amount).quantize(unit, rounding=ROUND_DOWN)
        for total in totals
    ]
    leftover = amount.amount - sum(shares, Decimal(0))
    # Largest first; among equals, the first line.
    for index in sorted(range(len(totals)), key=lambda i: (-totals[i].amount, i)):
        if leftover <= 0:
            break
        room = totals[index].amount - shares[index]
        taken = min(room, leftover)
        shares[index] += taken
        leftover -= taken
    return [Money(quantize(share, currency), currency) for share in shares]
