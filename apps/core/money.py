"""Money: an amount in a currency, as a value.

The currency's decimal places come from babel (the CLDR data, kept current
with ISO 4217), so a new currency or a changed minor unit needs no code.

One rounding rule everywhere: half up (ROUND_HALF_UP), to the currency's
places. It is what customers expect on a receipt ("0.125" shows as "0.13"),
what most tax rules prescribe for a single amount, and what the shop's staff
would do by hand. Banker's rounding (half even) removes a bias from long sums
of rounded amounts, but those sums are made from unrounded amounts here and
rounded once, so the bias does not build up and the surprise is not worth it.

Prices are stored as Decimal columns, not as Money: a model gives Money
through an accessor (ProductVariant.price_money). Arithmetic stays within one
currency; mixing two raises CurrencyMismatch, never converts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import overload

from babel.numbers import get_currency_precision
from django.conf import settings

ROUNDING = ROUND_HALF_UP

Amount = Decimal | int | str


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


@functools.cache
def currency_places(currency: str) -> int:
    """The currency's decimal places (minor unit): USD 2, JPY 0, BHD 3."""
    return int(get_currency_precision(currency.upper()))


def shop_currency() -> str:
    """The currency prices are kept in (settings.DEFAULT_CURRENCY)."""
    return str(settings.DEFAULT_CURRENCY).upper()


@functools.cache
def currency_code(currency: str) -> str:
    """The ISO 4217 code, upper case, as Money keeps it; ValueError for
    anything else. Once per currency: a listing shows two hundred prices."""
    code = str(currency).upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"Not an ISO 4217 currency code: {currency!r}")
    return code


@functools.cache
def _smallest_unit(currency: str) -> Decimal:
    """1 in the currency's last decimal place (0.01 for USD), once per currency."""
    return Decimal(1).scaleb(-currency_places(currency))


def quantize(amount: Amount, currency: str) -> Decimal:
    """`amount` rounded to the currency's places by the one rounding rule."""
    return Decimal(amount).quantize(_smallest_unit(currency), rounding=ROUNDING)


def rounded_amount(amount: Amount, currency: str | None = None) -> tuple[Decimal, str]:
    """`amount` rounded to `currency`'s places (the shop's when left out),
    with the currency's code; ValueError for an amount that is not finite or
    a code that is not one. What `Money.of` holds, without making one (the
    GraphQL Money type takes these two values)."""
    code = currency_code(currency or shop_currency())
    rounded = quantize(amount, code)
    if not rounded.is_finite():
        raise ValueError(f"Not an amount: {rounded}")
    return rounded, code


@dataclass(frozen=True, slots=True)
class Money:
    """An amount and its currency (ISO 4217 code, upper case). Immutable;
    `amount` is kept as given: `rounded()` (or `Money.of`) rounds it."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", Decimal(self.amount))
        if not self.amount.is_finite():
            raise ValueError(f"Not an amount: {self.amount}")
        object.__setattr__(self, "currency", currency_code(self.currency))

    @classmethod
    def of(cls, amount: Amount, currency: str | None = None) -> Money:
        """`amount` in `currency` (the shop's when left out), rounded."""
        return cls(*rounded_amount(amount, currency))

    @classmethod
    def zero(cls, currency: str | None = None) -> Money:
        return cls.of(0, currency)

    @property
    def places(self) -> int:
        return currency_places(self.currency)

    def rounded(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"Money and {type(other).__name__} do not combine.")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} do not combine.")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    @overload
    def __truediv__(self, other: Money) -> Decimal: ...
    @overload
    def __truediv__(self, other: int | Decimal) -> Money: ...

    def __truediv__(self, other: Money | int | Decimal) -> Money | Decimal:
        """A share of an amount (Money / n, unrounded) or a ratio (Money / Money)."""
        if isinstance(other, Money):
            self._same_currency(other)
            return self.amount / other.amount
        return Money(self.amount / other, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
