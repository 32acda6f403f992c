"""The Stripe gateway through the real `stripe` library, against the local
fake of Stripe's API (tests/fake_stripe.py): PaymentIntents created,
retrieved and cancelled, refunds, idempotency keys honoured, and Stripe out
of reach answered PAYMENT_UNAVAILABLE."""

import logging

import pytest
from django.core import checks

from apps.core.errors import ErrorCode, ServiceError
from apps.core.money import Money
from apps.payments import registry
from apps.payments.gateways import (
    ChargeStatus,
    GatewayUnavailable,
    PaymentGateway,
    RefundStatus,
)
from apps.payments.gateways import stripe as stripe_gateway
from tests.fake_stripe import PUBLISHABLE_KEY, use_fake_stripe
from tests.test_payments import PAYMENT_GATEWAYS, keyword_signature

Gateway = stripe_gateway.Gateway


@pytest.fixture
def stripe_api(settings):
    return use_fake_stripe(settings)


def charge(amount: str = "12.50", currency: str = "USD", *, key: str = "checkout:1",
           token: str = "", reference: str = "1001"):
    return Gateway().charge(amount=Money.of(amount, currency), token=token,
                            reference=reference, idempotency_key=key)


def paid_intent(api, amount: str = "12.50") -> str:
    intent_id = charge(amount, key=f"paid:{amount}").reference
    api.succeed(intent_id)
    return intent_id


def refund(intent_id: str, amount: str, key: str):
    return Gateway().refund(charge_reference=intent_id, amount=Money.of(amount, "USD"),
                            idempotency_key=key)


# --- Charges: a PaymentIntent waiting for the customer -------------------------------


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("12.50", "USD", 1250), ("500", "JPY", 500), ("1.230", "BHD", 1230), ("0.5", "EUR", 50),
    ("1990", "ISK", 199000), ("5000", "UGX", 500000), ("1000", "HUF", 100000),
    ("9990", "CLP", 9990),
])
def test_a_charge_creates_a_payment_intent_in_the_minor_unit(stripe_api, amount, currency,
                                                             minor):
    result = charge(amount, currency, key=f"checkout:{currency}")
    assert result.status == ChargeStatus.PENDING
    intent = stripe_api.intents[result.reference]
    assert result.reference.startswith("pi_")
    assert result.client_secret == intent["client_secret"]
    assert (intent["amount"], intent["currency"]) == (minor, currency.lower())
    assert intent["metadata"] == {"order_number": "1001"}
    [(method, path, _, key)] = stripe_api.requests
    assert (method, path, key) == ("POST", "/v1/payment_intents", f"checkout:{currency}")


def test_the_same_idempotency_key_answers_the_same_payment_intent(stripe_api):
    first = charge(key="checkout:cart-1")
    again = charge(key="checkout:cart-1")
    assert (again.reference, again.client_secret) == (first.reference, first.client_secret)
    assert len(stripe_api.intents) == 1
    other = charge(key="checkout:cart-2")
    assert other.reference != first.reference and len(stripe_api.intents) == 2


def test_a_key_used_again_for_another_amount_is_unavailable_and_logged(stripe_api, caplog):
    charge("12.50", key="checkout:cart-1")
    with pytest.raises(GatewayUnavailable) as refused:
        charge("13.00", key="checkout:cart-1")
    assert refused.value.errors[0].code == ErrorCode.PAYMENT_UNAVAILABLE
    assert len(stripe_api.intents) == 1
    assert any(r.levelno == logging.ERROR and "IdempotencyError" in r.getMessage()
               for r in caplog.records)


def test_the_storefronts_payment_method_is_attached(stripe_api):
    result = charge(token="pm_card_visa")
    intent = stripe_api.intents[result.reference]
    assert (intent["payment_method"], intent["status"]) == ("pm_card_visa",
                                                            "requires_confirmation")


def test_a_payment_method_stripe_does_not_know_is_invalid_on_token(stripe_api):
    with pytest.raises(ServiceError) as refused:
        charge(token="tok_nonsense")
    [error] = refused.value.errors
    assert (error.code, error.field) == (ErrorCode.INVALID, "token")
    assert not isinstance(refused.value, GatewayUnavailable)
    assert stripe_api.intents == {}


def test_an_amount_stripe_does_not_take_is_declined(stripe_api):
    result = charge("0.30")
    assert result.status == ChargeStatus.DECLINED
    assert "at least" in result.message and stripe_api.intents == {}


@pytest.mark.parametrize(("amount", "currency"), [("999.50", "HUF"), ("1.234", "BHD")])
def test_an_amount_stripes_units_cannot_say_is_declined_without_asking(stripe_api, amount,
                                                                      currency):
    result = charge(amount, currency)
    assert result.status == ChargeStatus.DECLINED and currency in result.message
    assert stripe_api.requests == []


@pytest.mark.parametrize("outage", ["down", "broken", "wrong key"])
def test_stripe_out_of_reach_is_payment_unavailable(stripe_api, settings, outage):
    if outage == "wrong key":
        settings.STRIPE_SECRET_KEY = "sk_test_revoked"
    else:
        setattr(stripe_api, outage, True)
    with pytest.raises(GatewayUnavailable) as refused:
        charge()
    [error] = refused.value.errors
    assert (error.code, error.field) == (ErrorCode.PAYMENT_UNAVAILABLE, None)
    assert isinstance(refused.value, ServiceError)  # never a 500 where it is not caught
    assert stripe_api.intents == {}


def test_an_unreachable_address_is_payment_unavailable(stripe_api, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard: nothing listens
    with pytest.raises(GatewayUnavailable):
        charge()


def test_a_call_after_an_outage_with_the_same_key_meets_one_intent(stripe_api):
    stripe_api.down = True
    with pytest.raises(GatewayUnavailable):
        charge(key="checkout:cart-1")
    stripe_api.down = False
    first = charge(key="checkout:cart-1")
    assert charge(key="checkout:cart-1").reference == first.reference
    assert len(stripe_api.intents) == 1


# --- Refunds ---------------------------------------------------------------------------


def test_a_refund_is_made_on_the_payment_intent_with_its_own_key(stripe_api):
    intent_id = paid_intent(stripe_api)
    first = refund(intent_id, "5.00", "refund-a")
    assert first.status == RefundStatus.SUCCEEDED and first.reference.startswith("re_")
    made = stripe_api.refunds[first.reference]
    assert (made["payment_intent"], made["amount"]) == (intent_id, 500)
    assert made["metadata"] == {"idempotency_key": "refund-a"}
    assert stripe_api.requests[-1][3] == "refund-a"
    # The same key is the same refund; another key another refund.
    assert refund(intent_id, "5.00", "refund-a").reference == first.reference
    second = refund(intent_id, "5.00", "refund-b")
    assert second.reference != first.reference and len(stripe_api.refunds) == 2
    assert stripe_api.charge_of(intent_id)["amount_refunded"] == 1000


def test_a_refund_stripe_confirms_later_is_pending(stripe_api):
    stripe_api.refund_status = "pending"
    result = refund(paid_intent(stripe_api), "12.50", "refund-a")
    assert result.status == RefundStatus.PENDING and result.reference


def test_a_refund_of_more_than_is_left_fails_with_stripes_reason(stripe_api):
    intent_id = paid_intent(stripe_api)
    assert refund(intent_id, "12.50", "refund-a").status == RefundStatus.SUCCEEDED
    result = refund(intent_id, "1.00", "refund-b")
    assert result.status == RefundStatus.FAILED and "already been refunded" in result.message


def test_a_refund_of_an_amount_stripes_units_cannot_say_fails_without_asking(stripe_api):
    intent_id = charge("1000", "HUF", key="paid:huf").reference
    stripe_api.succeed(intent_id)
    result = Gateway().refund(charge_reference=intent_id, amount=Money.of("10.50", "HUF"),
                              idempotency_key="refund-huf")
    assert result.status == RefundStatus.FAILED and "HUF only in whole units" in result.message
    assert stripe_api.refunds == {}
    made = Gateway().refund(charge_reference=intent_id, amount=Money.of("10", "HUF"),
                            idempotency_key="refund-huf-2")
    assert stripe_api.refunds[made.reference]["amount"] == 1000


def test_a_refund_while_stripe_is_down_is_unavailable(stripe_api):
    intent_id = paid_intent(stripe_api)
    stripe_api.down = True
    with pytest.raises(GatewayUnavailable):
        refund(intent_id, "5.00", "refund-a")
    stripe_api.down = False
    assert stripe_api.refunds == {}


# --- Cancelling and reading back -----------------------------------------------------------


def test_cancel_cancels_and_is_harmless_when_repeated(stripe_api):
    intent_id = charge().reference
    Gateway().cancel(charge_reference=intent_id)
    assert stripe_api.intents[intent_id]["status"] == "canceled"
    Gateway().cancel(charge_reference=intent_id)
    assert stripe_api.intents[intent_id]["status"] == "canceled"


def test_cancel_after_a_failed_attempt_cancels(stripe_api):
    intent_id = charge().reference
    stripe_api.fail(intent_id)
    Gateway().cancel(charge_reference=intent_id)
    assert stripe_api.intents[intent_id]["status"] == "canceled"


@pytest.mark.parametrize("state", ["process", "succeed"])
def test_cancel_leaves_a_processing_or_succeeded_intent_alone_and_says_so(stripe_api, state):
    intent_id = charge().reference
    getattr(stripe_api, state)(intent_id)
    with pytest.raises(ServiceError) as refused:
        Gateway().cancel(charge_reference=intent_id)
    assert refused.value.errors[0].code == ErrorCode.INVALID_TRANSITION
    assert stripe_api.intents[intent_id]["status"] != "canceled"
    assert [r[1] for r in stripe_api.requests].count(f"/v1/payment_intents/{intent_id}/cancel") \
        == 0


def test_cancel_while_stripe_is_down_is_unavailable(stripe_api):
    intent_id = charge().reference
    stripe_api.down = True
    with pytest.raises(GatewayUnavailable):
        Gateway().cancel(charge_reference=intent_id)


def test_retrieve_reads_the_intent_as_a_webhook_would(stripe_api):
    intent_id = charge("12.50").reference
    state = Gateway().retrieve(charge_reference=intent_id)
    assert (state.id, state.status, state.amount, state.amount_received, state.failed) == (
        intent_id, "requires_payment_method", Money.of("12.50", "USD"), Money.of(0, "USD"),
        False)
    stripe_api.fail(intent_id, "Insufficient funds.")
    state = Gateway().retrieve(charge_reference=intent_id)
    assert state.failed and state.failure == "Insufficient funds."
    stripe_api.succeed(intent_id)
    state = Gateway().retrieve(charge_reference=intent_id)
    assert (state.status, state.amount_received, state.failed) == (
        "succeeded", Money.of("12.50", "USD"), False)
    assert stripe_gateway.PaymentIntentState.of(stripe_api.intents[intent_id]) == state


def test_retrieve_of_an_unknown_intent_is_unavailable(stripe_api):
    with pytest.raises(GatewayUnavailable):
        Gateway().retrieve(charge_reference="pi_missing")


# --- Settings, the registry, paymentGateways ------------------------------------------------


def test_the_gateway_follows_the_protocol():
    assert isinstance(Gateway(), PaymentGateway)
    for method in ("public_config", "charge", "refund", "cancel"):
        assert keyword_signature(getattr(Gateway, method)) == keyword_signature(
            getattr(PaymentGateway, method)), method


def test_stripe_is_enabled_by_being_listed(settings):
    settings.PAYMENT_GATEWAYS = ["dummy", "stripe"]
    assert isinstance(registry.gateway_named("stripe"), Gateway)
    settings.PAYMENT_GATEWAYS = ["dummy"]
    with pytest.raises(ServiceError):
        registry.gateway_named("stripe")


def test_payment_gateways_shows_the_publishable_key(db, client, stripe_api):
    assert client.execute(PAYMENT_GATEWAYS)["paymentGateways"] == [
        {"id": "dummy", "name": "Dummy", "config": []},
        {"id": "stripe", "name": "Stripe",
         "config": [{"field": "publishableKey", "value": PUBLISHABLE_KEY}]},
    ]
    assert stripe_api.requests == []  # the key is a setting: no call to Stripe


def stripe_warnings() -> list[str]:
    return [m.msg for m in checks.run_checks() if m.id == "payments.W002"]


def test_stripe_listed_without_keys_is_warned_of(settings, stripe_api):
    assert stripe_warnings() == []
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert stripe_warnings() == [
        "PAYMENT_GATEWAYS enables stripe but STRIPE_WEBHOOK_SECRET is not set."]
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = ""
    [warning] = stripe_warnings()
    assert "STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET are" in warning
    settings.PAYMENT_GATEWAYS = ["dummy"]
    assert stripe_warnings() == []
