"""The dummy gateway, for development, tests and demos: no network, no keys.

Token `success` pays at once and `decline` is declined (API.md's
PaymentInput); any other token is refused as invalid, so a client that sends
something else learns it at once rather than paying by accident. Anyone who
can call checkoutComplete can pay with `success`: a shop that takes real money
leaves `dummy` out of PAYMENT_GATEWAYS (`manage.py check --deploy` warns).
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from apps.core.errors import ErrorCode, ServiceError
from apps.core.money import Money

from . import ChargeResult, ConfigLine, RefundResult, RefundStatus

SUCCESS = "success"
DECLINE = "decline"


def _reference(prefix: str, key: str) -> str:
    # Derived from the idempotency key, so a repeated call answers the same
    # reference, as a real gateway does.
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class Gateway:
    id: ClassVar[str] = "dummy"
    name: ClassVar[str] = "Dummy"

    def public_config(self) -> list[ConfigLine]:
        return []

    def charge(
        self, *, amount: Money, token: str, reference: str, idempotency_key: str
    ) -> ChargeResult:
        if token == SUCCESS:
            return ChargeResult.succeeded(reference=_reference("dummy_ch", idempotency_key))
        if token == DECLINE:
            return ChargeResult.declined(message="The card was declined.")
        raise ServiceError(
            f'The dummy gateway takes the token "{SUCCESS}" or "{DECLINE}".',
            code=ErrorCode.INVALID, field="token",
        )

    def refund(
        self, *, charge_reference: str, amount: Money, idempotency_key: str, refund_id: str = ""
    ) -> RefundResult:
        return RefundResult(
            RefundStatus.SUCCEEDED, reference=_reference("dummy_re", idempotency_key)
        )

    def cancel(self, *, charge_reference: str) -> None:
        return None
