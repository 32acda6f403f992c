"""The GraphQL face of apps.core.money.Money: the same value, its amount sent
as a string with the currency's decimal places (never a float)."""

from decimal import Decimal
from typing import overload

import strawberry

from apps.core import money


@strawberry.type
class Money:
    """An amount in a currency. `amount` is a Decimal sent as a string with the
    currency's decimal places; never a float."""

    amount: Decimal
    currency: str

    @overload
    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str | None = None) -> "Money": ...

    @overload
    @classmethod
    def of(cls, amount: None, currency: str | None = None) -> None: ...

    @classmethod
    def of(cls, amount: money.Amount | None, currency: str | None = None) -> "Money | None":
        """An amount (a price column, an aggregate) in `currency`, the shop's
        when left out; None stays None."""
        if amount is None:
            return None
        # Rounded and checked as money.Money.of does, without an instance of
        # it for each of a listing's two hundred prices.
        rounded, code = money.rounded_amount(amount, currency)
        return cls(amount=rounded, currency=code)

    @classmethod
    def from_money(cls, value: money.Money) -> "Money":
        rounded = value.rounded()
        return cls(amount=rounded.amount, currency=rounded.currency)
