from decimal import Decimal
from typing import overload

import strawberry
from django.conf import settings

from apps.core.money import quantize


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
    def of(cls, amount: Decimal | int | str | None, currency: str | None = None) -> "Money | None":
        if amount is None:
            return None
        currency = currency or settings.DEFAULT_CURRENCY
        return cls(amount=quantize(amount, currency), currency=currency)
