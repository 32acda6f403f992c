"""Stripe, through the official `stripe` library.

A charge is a PaymentIntent: created here for the order's total, in the
currency's minor unit, with the order number in its metadata and the
caller's idempotency key, and answered "pending" with its client secret.
The storefront confirms it in the browser with Stripe.js; Stripe then tells
the shop through the webhook (apps.payments.webhooks) and, should the
webhook be lost, the reconciliation task asks (`retrieve`).

A StripeClient is made for each call from the settings (STRIPE_SECRET_KEY,
STRIPE_API_BASE), so a changed setting takes effect at once, as the
registry's gateways do; the HTTP client underneath is shared, so that calls
reuse their connections. Whatever Stripe cannot do for a reason that is not
the customer's (unreachable, a timeout, a bad key, an error on its side) is
GatewayUnavailable, coded PAYMENT_UNAVAILABLE: the library has already
retried it STRIPE_MAX_NETWORK_RETRIES times with the same idempotency key,
and the caller may call again with it (Stripe keeps keys for 24 hours, so a
key is for retrying now, never for replaying a call days later).

Amounts cross as Stripe counts them (apps.payments.stripe_amounts: its
zero-decimal currencies, three-decimal ones in tens, ISK, UGX, HUF and TWD
in whole units written in hundredths); an amount Stripe cannot take is a
declined charge or a failed refund, never rounded into another amount.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import stripe
from django.conf import settings

from apps.core.errors import ErrorCode, ServiceError
from apps.core.money import Money
from apps.payments.stripe_amounts import NotTakenByStripe, from_stripe_amount, to_stripe_amount

from . import ChargeResult, ConfigLine, GatewayUnavailable, RefundResult, RefundStatus

logger = logging.getLogger(__name__)

# The states of a PaymentIntent (Stripe's own words).
SUCCEEDED = "succeeded"
PROCESSING = "processing"
CANCELED = "canceled"
REQUIRES_PAYMENT_METHOD = "requires_payment_method"

# What Stripe answers a charge for an amount it does not take: the customer
# can do nothing about it, and a retry would not help either.
_AMOUNT_REFUSALS = frozenset({"amount_too_small", "amount_too_large"})

# What Stripe answers a refund it will never make.
_REFUND_REFUSALS = frozenset({"charge_already_refunded", "amount_too_large", "charge_disputed"})
# An intent cancel() does not touch: done, or on its way (a bank debit).
_LEFT_AS_THEY_ARE = frozenset({CANCELED, PROCESSING, SUCCEEDED})

_REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class PaymentIntentState:
    """What the shop reads of a PaymentIntent, from a webhook's event or from
    `retrieve`: the same reading for both, so a lost webhook heals the same
    way as a delivered one."""

    id: str
    status: str
    amount: Money
    # What was actually taken (0 until it succeeds).
    amount_received: Money
    # Why the last attempt failed, in words for the customer ("" if none did).
    failure: str

    @classmethod
    def of(cls, intent: Mapping[str, Any]) -> PaymentIntentState:
        currency = str(intent["currency"])
        error = intent.get("last_payment_error") or {}
        return cls(
            id=str(intent["id"]), status=str(intent["status"]),
            amount=from_stripe_amount(int(intent["amount"]), currency),
            amount_received=from_stripe_amount(int(intent.get("amount_received") or 0), currency),
            failure=str(error.get("message") or ""),
        )

    @property
    def failed(self) -> bool:
        """The customer tried to pay and the attempt failed (Stripe sends the
        intent back to requires_payment_method with the error, so they can
        try another card on the same intent)."""
        return self.status == REQUIRES_PAYMENT_METHOD and bool(self.failure)


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """A Stripe Refund as the gateway protocol reads it."""
    status = _REFUND_STATUSES.get(str(refund.get("status")), RefundStatus.PENDING)
    failure = str(refund.get("failure_reason") or "Stripe refused the refund.")
    return RefundResult(status, reference=str(refund["id"]),
                        message=failure if status == RefundStatus.FAILED else "")


@functools.cache
def _http_client(timeout: float) -> stripe.HTTPClient:
    return stripe.RequestsClient(timeout=timeout)


def client() -> stripe.StripeClient:
    """A client for one call, from the settings of the moment."""
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=_http_client(float(settings.STRIPE_TIMEOUT)),
    )


def _unavailable(what: str, error: stripe.StripeError) -> GatewayUnavailable:
    """Stripe's error that the caller cannot act on as an outcome, logged, as
    GatewayUnavailable (the caller raises it from `error`)."""
    # A bad key or a request built wrongly will not heal by retrying: an
    # error in the log for whoever runs the shop; an outage a warning.
    wrong = (stripe.AuthenticationError, stripe.InvalidRequestError, stripe.IdempotencyError)
    logger.log(logging.ERROR if isinstance(error, wrong) else logging.WARNING,
               "Stripe: %s failed: %r", what, error)
    return GatewayUnavailable("The payment provider could not be reached; try again.")


class Gateway:
    id: ClassVar[str] = "stripe"
    name: ClassVar[str] = "Stripe"
    # Checkout commits the order first, then creates the PaymentIntent.
    charge_after_commit: ClassVar[bool] = True

    def public_config(self) -> list[ConfigLine]:
        return [ConfigLine(field="publishableKey", value=settings.STRIPE_PUBLISHABLE_KEY or None)]

    def charge(
        self, *, amount: Money, token: str, reference: str, idempotency_key: str
    ) -> ChargeResult:
        """A PaymentIntent for `amount`, waiting for the customer. `token`,
        when given, is the PaymentMethod (pm_...) the storefront's Stripe form
        made, attached for the confirmation in the browser."""
        try:
            stripe_amount = to_stripe_amount(amount)
        except NotTakenByStripe as refused:
            return ChargeResult.declined(message=str(refused))
        params: dict[str, Any] = {
            "amount": stripe_amount, "currency": amount.currency.lower(),
            "metadata": {"order_number": reference},
            "automatic_payment_methods": {"enabled": True},
        }
        if token:
            params["payment_method"] = token
        try:
            intent = client().v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            if error.param == "payment_method":
                raise ServiceError("Stripe does not know this payment method.",
                                   code=ErrorCode.INVALID, field="token") from error
            if error.code in _AMOUNT_REFUSALS:
                return ChargeResult.declined(
                    message=error.user_message or "Stripe does not take this amount.")
            raise _unavailable("creating a PaymentIntent", error) from error
        except stripe.StripeError as error:
            raise _unavailable("creating a PaymentIntent", error) from error
        if not intent.client_secret:
            raise GatewayUnavailable("The payment provider answered without a client secret.")
        return ChargeResult.pending(reference=intent.id, client_secret=intent.client_secret)

    def refund(
        self, *, charge_reference: str, amount: Money, idempotency_key: str, refund_id: str = ""
    ) -> RefundResult:
        """A Refund of the PaymentIntent; the key and the record's id are also
        in its metadata, so that a webhook about a refund can be matched to
        its record before the record knows the refund's id, and the refund
        found again once the key is forgotten (find_refund). A retry sends
        the same parameters, as Stripe's idempotency asks."""
        try:
            stripe_amount = to_stripe_amount(amount)
        except NotTakenByStripe as refused:
            return RefundResult(RefundStatus.FAILED, message=str(refused))
        metadata = {"idempotency_key": idempotency_key}
        if refund_id:
            metadata["refund_id"] = refund_id
        try:
            refund = client().v1.refunds.create(
                params={"payment_intent": charge_reference, "amount": stripe_amount,
                        "metadata": metadata},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.IdempotencyError as error:
            # The key was used with other parameters (another record's id: a
            # request rolled back after Stripe made its refund, then asked
            # again): the refund made under it is the answer.
            found = self.find_refund(charge_reference=charge_reference,
                                     idempotency_key=idempotency_key, refund_id="")
            if found is None:
                raise _unavailable("creating a Refund", error) from error
            return found
        except stripe.InvalidRequestError as error:
            if error.code not in _REFUND_REFUSALS:
                raise _unavailable("creating a Refund", error) from error
            # Refused for good (nothing left to give back, a dispute): an
            # outcome for the staff, not an outage.
            return RefundResult(RefundStatus.FAILED,
                                message=error.user_message or "Stripe refused the refund.")
        except stripe.StripeError as error:
            raise _unavailable("creating a Refund", error) from error
        return refund_result(refund.to_dict())

    def find_refund(
        self, *, charge_reference: str, idempotency_key: str, refund_id: str
    ) -> RefundResult | None:
        """The Refund of the PaymentIntent whose metadata names the record (its
        id or its key), or None when Stripe made none: what a retry asks once
        the key may have expired, before it makes a refund with a new one."""
        try:
            found = client().v1.refunds.list(
                params={"payment_intent": charge_reference, "limit": 100})
            for refund in found.auto_paging_iter():
                metadata = refund.to_dict().get("metadata") or {}
                if (refund_id and metadata.get("refund_id") == refund_id) or \
                        metadata.get("idempotency_key") == idempotency_key:
                    return refund_result(refund.to_dict())
        except stripe.StripeError as error:
            raise _unavailable("listing Refunds", error) from error
        return None

    def cancel(self, *, charge_reference: str) -> None:
        """Cancel the PaymentIntent; harmless when it is already cancelled.
        One that is `processing` (a bank debit on its way) is left alone, to
        its webhook, and one that has succeeded cannot be given up: both are
        refused (INVALID_TRANSITION), so that no caller records as cancelled
        a payment that is being, or has been, taken."""
        intents = client().v1.payment_intents
        try:
            intent = intents.retrieve(charge_reference)
            if intent.status not in _LEFT_AS_THEY_ARE:
                try:
                    intent = intents.cancel(charge_reference)
                except stripe.InvalidRequestError:
                    # It moved between the two calls: see where it went.
                    intent = intents.retrieve(charge_reference)
        except stripe.StripeError as error:
            raise _unavailable("cancelling a PaymentIntent", error) from error
        if intent.status == PROCESSING:
            logger.info("Stripe: PaymentIntent %s is processing; left to its webhook.",
                        charge_reference)
            raise ServiceError(
                "The payment is on its way from the bank and cannot be given up; "
                "try again once it has gone through or failed.",
                code=ErrorCode.INVALID_TRANSITION,
            )
        if intent.status == SUCCEEDED:
            raise ServiceError(
                "The payment has just gone through at Stripe; it cannot be given up.",
                code=ErrorCode.INVALID_TRANSITION,
            )
        if intent.status != CANCELED:
            logger.error("Stripe: PaymentIntent %s could not be cancelled (%s).",
                         charge_reference, intent.status)
            raise GatewayUnavailable("The payment provider did not cancel the payment; try again.")

    def retrieve(self, *, charge_reference: str) -> PaymentIntentState:
        """Where the PaymentIntent is now (the reconciliation asks)."""
        try:
            intent = client().v1.payment_intents.retrieve(charge_reference)
        except stripe.StripeError as error:
            raise _unavailable("retrieving a PaymentIntent", error) from error
        return PaymentIntentState.of(intent.to_dict())
