"""Amounts as Stripe counts them: Decimal <-> the integer of its API.

Stripe takes every amount as an integer in the currency's minor unit, but
its minor unit is Stripe's own, not always the one of ISO 4217 / CLDR that
apps.core.money counts prices in (https://docs.stripe.com/currencies):

- zero-decimal currencies (JPY, KRW, VND, CLP and the others of
  ZERO_DECIMAL): the amount as it is, 500 JPY is 500;
- three-decimal currencies (BHD, JOD, KWD, OMR, TND): thousandths, whose
  last digit must be 0 (Stripe's partners take hundredths), 1.230 BHD is
  1230 and 1.234 BHD cannot be sent;
- the special cases: ISK and UGX are zero-decimal at Stripe, yet for
  backward compatibility are sent in two-decimal form as a multiple of 100
  (5 ISK is 500); HUF and TWD are two-decimal at Stripe, but Stripe pays
  them out only in whole units and asks for amounts divisible by 100, so
  only whole forints and dollars are sent (1000 HUF is 100000, 999.50 HUF
  cannot be sent);
- every other currency: two decimals (12.50 USD is 1250).

An amount that cannot be sent as Stripe asks is refused (NotTakenByStripe),
never rounded: what Stripe would take must be exactly what the order asks,
or the check of payment_intent.succeeded would refuse it afterwards. The
gateway answers such a charge declined and such a refund failed.

The way back (webhooks, a retrieved PaymentIntent, a refund) is exact too:
an amount Stripe reports is never rounded to the shop's places, so a
mismatch stays visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from apps.core.money import Money

# Stripe's zero-decimal currencies (ISK and UGX are zero-decimal there too,
# but sent as a multiple of 100: WHOLE_IN_HUNDREDTHS).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                          "RWF", "VND", "VUV", "XAF", "XOF", "XPF"})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Sent in hundredths, whole units only (a multiple of 100).
WHOLE_IN_HUNDREDTHS = frozenset({"ISK", "UGX", "HUF", "TWD"})


class NotTakenByStripe(ValueError):
    """An amount that Stripe's rules for its currency do not allow."""


@dataclass(frozen=True, slots=True)
class StripeUnit:
    """How Stripe counts a currency: `exponent` places in its integer, which
    must be a multiple of `step`."""

    exponent: int
    step: int = 1


def stripe_unit(currency: str) -> StripeUnit:
    currency = currency.upper()
    if currency in ZERO_DECIMAL:
        return StripeUnit(0)
    if currency in THREE_DECIMAL:
        return StripeUnit(3, step=10)
    if currency in WHOLE_IN_HUNDREDTHS:
        return StripeUnit(2, step=100)
    return StripeUnit(2)


def to_stripe_amount(amount: Money) -> int:
    """`amount` (rounded to its currency's places first, as everywhere in the
    shop) as Stripe's integer; NotTakenByStripe when Stripe cannot take it."""
    unit = stripe_unit(amount.currency)
    scaled = amount.rounded().amount.scaleb(unit.exponent)
    if scaled != scaled.to_integral_value() or int(scaled) % unit.step:
        whole = {1: "", 10: " in hundredths", 100: " in whole units"}[unit.step]
        raise NotTakenByStripe(f"Stripe takes {amount.currency} only{whole}, not {amount}.")
    return int(scaled)


def from_stripe_amount(value: int, currency: str) -> Money:
    """Stripe's integer `value` in `currency` as Money, exactly (unrounded)."""
    currency = currency.upper()
    return Money(Decimal(int(value)).scaleb(-stripe_unit(currency).exponent), currency)
