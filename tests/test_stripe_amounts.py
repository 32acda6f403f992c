"""Amounts as Stripe counts them (apps.payments.stripe_amounts), each class
of currency both ways: Stripe's own minor units, not only CLDR's places
(https://docs.stripe.com/currencies)."""

from decimal import Decimal

import pytest

from apps.core.money import Money, currency_places
from apps.payments.stripe_amounts import (
    NotTakenByStripe,
    StripeUnit,
    from_stripe_amount,
    stripe_unit,
    to_stripe_amount,
)

# (amount, currency, what Stripe's API takes), one class of currency a block.
SENT = [
    # Two-decimal, the default: hundredths.
    ("12.50", "USD", 1250), ("0.5", "EUR", 50), ("19.99", "GBP", 1999), ("1", "CHF", 100),
    # Zero-decimal: the amount as it is.
    ("500", "JPY", 500), ("15000", "KRW", 15000), ("250000", "VND", 250000),
    ("9990", "CLP", 9990), ("1200", "XOF", 1200),
    # Three-decimal: thousandths whose last digit is 0.
    ("1.230", "BHD", 1230), ("12.5", "KWD", 12500), ("0.01", "JOD", 10),
    # Zero-decimal at Stripe, sent in two-decimal form as a multiple of 100.
    ("5", "ISK", 500), ("1990", "ISK", 199000), ("5000", "UGX", 500000),
    # Two-decimal at Stripe, whole units only (divisible by 100).
    ("1000", "HUF", 100000), ("1000.00", "HUF", 100000), ("300", "TWD", 30000),
]


@pytest.mark.parametrize(("amount", "currency", "sent"), SENT)
def test_an_amount_goes_to_stripe_as_stripe_counts_it(amount, currency, sent):
    assert to_stripe_amount(Money.of(amount, currency)) == sent


@pytest.mark.parametrize(("amount", "currency", "sent"), SENT)
def test_what_stripe_reports_comes_back_as_the_same_amount(amount, currency, sent):
    back = from_stripe_amount(sent, currency.lower())
    assert back == Money.of(amount, currency) and back.currency == currency


@pytest.mark.parametrize(("amount", "currency"), [
    ("1.234", "BHD"), ("0.005", "KWD"),  # three-decimal: the last digit must be 0
    ("999.50", "HUF"), ("10.01", "TWD"),  # whole units only
])
def test_an_amount_stripe_does_not_take_is_refused_not_rounded(amount, currency):
    with pytest.raises(NotTakenByStripe, match=currency):
        to_stripe_amount(Money.of(amount, currency))


def test_the_shops_places_are_rounded_first_as_everywhere():
    # 12.505 USD is 12.51 to the shop (half up), so 1251 to Stripe.
    assert to_stripe_amount(Money(Decimal("12.505"), "USD")) == 1251


def test_what_stripe_reports_is_never_rounded_into_the_shops_places():
    # An ISK amount Stripe should not send: kept as it is, so a check that
    # compares it with what the order asked sees the difference.
    assert from_stripe_amount(50050, "isk") == Money(Decimal("500.50"), "ISK")
    assert from_stripe_amount(50050, "isk") != Money.of("501", "ISK")


def test_the_special_cases_differ_from_cldr_and_the_table_says_how():
    # Where babel (CLDR) and Stripe disagree, Stripe's table decides.
    assert (currency_places("ISK"), stripe_unit("ISK")) == (0, StripeUnit(2, step=100))
    assert (currency_places("UGX"), stripe_unit("ugx")) == (0, StripeUnit(2, step=100))
    assert (currency_places("HUF"), stripe_unit("HUF")) == (2, StripeUnit(2, step=100))
    assert stripe_unit("JPY") == StripeUnit(0) and stripe_unit("BHD") == StripeUnit(3, step=10)
    assert stripe_unit("USD") == StripeUnit(2)
