"""A second payment gateway that lives outside apps/payments, to show that a
gateway plugs in by settings.PAYMENT_GATEWAYS alone (tests/test_payments.py)."""

from typing import ClassVar

from apps.core.money import Money
from apps.payments.gateways import ChargeResult, ConfigLine, RefundResult, RefundStatus


class FakeGateway:
    id: ClassVar[str] = "fake"
    name: ClassVar[str] = "Fake cards"

    def public_config(self) -> list[ConfigLine]:
        return [ConfigLine(field="publishableKey", value="pk_test_fake"),
                ConfigLine(field="accountCountry", value=None)]

    def charge(self, *, amount: Money, token: str, reference: str,
               idempotency_key: str) -> ChargeResult:
        # A charge that waits for the customer, as a card with 3-D Secure does.
        return ChargeResult.pending(reference=f"fake_{idempotency_key}",
                                    client_secret=f"fake_{idempotency_key}_secret")

    def refund(self, *, charge_reference: str, amount: Money,
               idempotency_key: str, refund_id: str = "") -> RefundResult:
        return RefundResult(RefundStatus.PENDING, reference=f"fake_re_{idempotency_key}")

    def cancel(self, *, charge_reference: str) -> None:
        return None


class NotAGateway:
    """Has no charge, refund or cancel."""

    id = "broken"
