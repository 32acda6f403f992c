"""What a payment gateway is to the shop: one small protocol, three calls.

Checkout, order cancellation and refunds speak only this protocol, so a
gateway (dummy today, Stripe next) is one module under apps/payments/gateways
and one entry in settings.PAYMENT_GATEWAYS, and nothing that takes payments
changes when one is added. A gateway keeps no records: the Payment and Refund
rows are written by their services from what the calls answer.

The answers are values, not exceptions, for the outcomes a customer causes
and the caller must handle (paid, waiting for the customer, declined). What
the caller cannot act on as an outcome is raised: a token the gateway cannot
read is the client's mistake (ServiceError INVALID on `token`); a gateway
that cannot be reached is GatewayUnavailable, after which the caller retries
with the same idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

from apps.core.errors import ErrorCode, ServiceError
from apps.core.money import Money


class GatewayUnavailable(ServiceError):
    """The gateway could not be reached or answered an error of its own. The
    charge, refund or cancel may or may not have happened: repeat it with the
    same idempotency key to find out.

    A ServiceError coded PAYMENT_UNAVAILABLE, so a caller that does not catch
    it still answers the client a retryable payload error, never a 500."""

    def __init__(self, message: str = "The payment gateway could not be reached; try again.",
                 *, field: str | None = None):
        super().__init__(message, code=ErrorCode.PAYMENT_UNAVAILABLE, field=field)


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"  # paid at once
    PENDING = "pending"  # the customer must act (3-D Secure): client_secret
    DECLINED = "declined"  # refused; message says why


@dataclass(frozen=True, slots=True)
class ChargeResult:
    status: ChargeStatus
    # The gateway's own id for the charge (a PaymentIntent id), which refund
    # and cancel take; empty only when a declined charge left nothing behind.
    reference: str = ""
    # What the client's payment library needs to finish a pending charge.
    client_secret: str | None = None
    # Why a charge was declined, in words the customer can read.
    message: str = ""

    def __post_init__(self) -> None:
        if self.status == ChargeStatus.DECLINED:
            if not self.message:
                raise ValueError("A declined charge says why.")
        elif not self.reference:
            raise ValueError(f"A {self.status} charge has a reference.")
        if self.status == ChargeStatus.PENDING and not self.client_secret:
            raise ValueError("A pending charge has a client secret.")

    @classmethod
    def succeeded(cls, *, reference: str) -> ChargeResult:
        return cls(ChargeStatus.SUCCEEDED, reference=reference)

    @classmethod
    def pending(cls, *, reference: str, client_secret: str) -> ChargeResult:
        return cls(ChargeStatus.PENDING, reference=reference, client_secret=client_secret)

    @classmethod
    def declined(cls, *, message: str, reference: str = "") -> ChargeResult:
        return cls(ChargeStatus.DECLINED, reference=reference, message=message)


class RefundStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # accepted; the gateway confirms later (a webhook)
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RefundResult:
    status: RefundStatus
    reference: str = ""  # the gateway's id for the refund
    message: str = ""  # why it failed

    def __post_init__(self) -> None:
        if self.status == RefundStatus.FAILED and not self.message:
            raise ValueError("A failed refund says why.")


@dataclass(frozen=True, slots=True)
class ConfigLine:
    """One item of a gateway's public configuration: what a storefront needs
    to show the gateway's own payment form (Stripe's publishable key). Never a
    secret."""

    field: str
    value: str | None


def charges_after_commit(gateway: PaymentGateway) -> bool:
    """Whether checkout charges through `gateway` only after committing the
    order, outside its locks (a call across the network that waits for the
    customer: Stripe), rather than inside its transaction, where a decline
    leaves nothing behind (dummy). A gateway says so with a class attribute
    `charge_after_commit = True`; without one it is charged inside."""
    return bool(getattr(gateway, "charge_after_commit", False))


@runtime_checkable
class PaymentGateway(Protocol):
    """A payment gateway. Instances are made by the registry with no
    arguments and read their own settings; they hold no per-request state."""

    # The name in settings.PAYMENT_GATEWAYS and in PaymentInput.gateway.
    id: ClassVar[str]
    # What a customer sees.
    name: ClassVar[str]

    def public_config(self) -> list[ConfigLine]:
        """What the storefront may know (paymentGateways answers it)."""
        ...

    def charge(
        self, *, amount: Money, token: str, reference: str, idempotency_key: str
    ) -> ChargeResult:
        """Take `amount` with the customer's `token` (what the storefront's
        payment form gave). `reference` is the shop's (the order number),
        shown on the gateway's side; the same `idempotency_key` never charges
        twice."""
        ...

    def refund(
        self, *, charge_reference: str, amount: Money, idempotency_key: str, refund_id: str = ""
    ) -> RefundResult:
        """Give back `amount` (all or part) of a succeeded charge. Each refund
        has its own key, kept on its record by the caller; `refund_id` is that
        record's id, which a gateway that keeps metadata keeps with the refund
        (so that it can be found again, `find_refund`). The same key and
        arguments again answer the refund already made.

        A gateway whose keys expire (Stripe's last 24 hours) may also have
        `find_refund(*, charge_reference, idempotency_key, refund_id) ->
        RefundResult | None`: the refund made for that record, if any, which a
        retry asks once the key may be forgotten."""
        ...

    def cancel(self, *, charge_reference: str) -> None:
        """Give up a charge that has not succeeded (a pending one); harmless
        when it is already cancelled."""
        ...
