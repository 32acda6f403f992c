"""checkoutComplete with gateway stripe, and orderRefund and orderCancel
through Stripe, against the local fake of Stripe's API: the order committed
PENDING with its stock, then the PaymentIntent made outside the stock's
locks; Stripe out of reach leaves the order PENDING and a retry answers the
same order; after a failure, the same PaymentIntent."""

import hashlib

import pytest
from django.db import connections, transaction
from strawberry.relay import to_base64

from apps.checkout import services as checkout
from apps.checkout.models import CartState
from apps.inventory.models import Stock
from apps.orders.models import Order, OrderEvent, Payment, Refund
from tests import contract
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import client_for, make_user, problems
from tests.fake_stripe import use_fake_stripe
from tests.factories import (
    ADDRESS,
    make_cart,
    make_product,
    make_shipping_method,
    make_tax_rate,
    make_variant,
)
from tests.test_checkout import allocated
from tests.test_stripe_webhook import deliver

STRIPE = {"gateway": "stripe", "token": ""}


@pytest.fixture
def stripe_api(settings):
    settings.DEFAULT_COUNTRY = "US"
    settings.DEFAULT_CURRENCY = "USD"
    return use_fake_stripe(settings)


@pytest.fixture
def variant(db):
    return make_variant(product=make_product(), price="20.00", stock=10)


def two_of(variant):
    """A cart ready to check out: two of `variant`, an address, 5.00 shipping."""
    return make_cart(lines=[(variant, 2)], address=ADDRESS,
                     shipping_method=make_shipping_method(name="Ground", price="5.00"))


@pytest.fixture
def cart(variant):
    """20.00 × 2 + 5.00 shipping, 10 % tax: 49.50."""
    make_tax_rate(country="US", rate="10")
    return two_of(variant)


def complete(client, cart, payment=STRIPE) -> dict:
    data = client.execute(contract.operations("storefront/cart.graphql", "CheckoutComplete"),
                          {"token": str(cart.token), "payment": payment},
                          operation_name="CheckoutComplete")
    return data["checkoutComplete"]


def webhook(client, stripe_api, capture, event_type: str, obj: dict):
    with capture(execute=True):
        assert deliver(client, stripe_api.event(event_type, obj)).status_code == 200


def intent_creations(stripe_api) -> list[tuple]:
    return [r for r in stripe_api.requests if r[:2] == ("POST", "/v1/payment_intents")]


# --- checkoutComplete -------------------------------------------------------------------------


def test_the_order_waits_for_stripe_with_the_intents_client_secret(
        client, stripe_api, cart, variant, django_capture_on_commit_callbacks):
    answer = complete(client, cart)
    assert answer["errors"] == []
    order = Order.objects.get()
    assert answer["order"]["number"] == order.number
    assert (answer["order"]["status"], answer["order"]["paymentStatus"]) == ("PENDING",
                                                                           "PENDING")
    assert answer["order"]["total"] == {"amount": "49.50", "currency": "USD"}
    [intent] = stripe_api.intents.values()
    assert answer["payment"] == {"id": answer["payment"]["id"], "gateway": "stripe",
                                 "status": "PENDING", "clientSecret": intent["client_secret"]}
    assert (intent["amount"], intent["currency"]) == (4950, "usd")
    assert intent["metadata"] == {"order_number": order.number}
    payment = Payment.objects.get()
    card = hashlib.sha256(b"stripe:").hexdigest()[:16]
    assert payment.idempotency_key == f"order:{order.token}:0:{card}"  # from the order
    assert intent_creations(stripe_api)[0][3] == payment.idempotency_key
    assert allocated(variant) == 2
    cart.refresh_from_db()
    assert cart.state == CartState.COMPLETED
    # The customer confirms in the browser; Stripe tells the shop.
    webhook(client, stripe_api, django_capture_on_commit_callbacks, "payment_intent.succeeded",
            stripe_api.succeed(payment.reference))
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("PROCESSING", "PAID")


def test_the_same_cart_completed_again_answers_the_same_intent(client, stripe_api, cart):
    first = complete(client, cart)
    again = complete(client, cart)
    assert again["order"]["number"] == first["order"]["number"]
    assert again["payment"] == first["payment"]
    assert len(intent_creations(stripe_api)) == 1 and Payment.objects.count() == 1


@pytest.mark.parametrize("outage", ["down", "broken", "mute"])
def test_stripe_out_of_reach_leaves_the_order_pending_and_a_retry_pays(client, stripe_api,
                                                                       cart, variant, outage):
    setattr(stripe_api, outage, True)
    answer = complete(client, cart)
    assert problems(answer) == [("payment", "PAYMENT_UNAVAILABLE")]
    order = Order.objects.get()  # committed, with its stock, unpaid
    assert (order.status, order.payment_status) == ("PENDING", "NOT_CHARGED")
    assert not Payment.objects.exists() and allocated(variant) == 2
    setattr(stripe_api, outage, False)
    retry = complete(client, cart)
    assert retry["errors"] == []
    assert retry["order"]["number"] == order.number and Order.objects.count() == 1
    assert (retry["order"]["paymentStatus"], retry["payment"]["status"]) == ("PENDING",
                                                                           "PENDING")
    # The retry carried the same key: an intent Stripe made for the lost
    # answer is the one answered now, not a second one.
    assert len(stripe_api.intents) == 1
    assert retry["payment"]["clientSecret"] == next(iter(stripe_api.intents.values()))[
        "client_secret"]
    assert allocated(variant) == 2


def test_after_a_failed_payment_the_same_call_answers_the_same_intent(
        client, stripe_api, cart, django_capture_on_commit_callbacks):
    first = complete(client, cart)
    payment = Payment.objects.get()
    webhook(client, stripe_api, django_capture_on_commit_callbacks,
            "payment_intent.payment_failed", stripe_api.fail(payment.reference))
    again = complete(client, cart)
    assert again["errors"] == []  # another card may be tried on it
    assert again["order"]["number"] == first["order"]["number"]
    assert (again["order"]["status"], again["order"]["paymentStatus"]) == ("PENDING", "FAILED")
    assert again["payment"]["status"] == "DECLINED"
    assert again["payment"]["clientSecret"] == first["payment"]["clientSecret"]
    assert len(intent_creations(stripe_api)) == 1
    webhook(client, stripe_api, django_capture_on_commit_callbacks, "payment_intent.succeeded",
            stripe_api.succeed(payment.reference))
    paid = complete(client, cart)
    assert (paid["order"]["status"], paid["order"]["paymentStatus"]) == ("PROCESSING", "PAID")


def test_another_gateway_cancels_the_intent_and_switches(client, stripe_api, cart):
    complete(client, cart)
    intent_id = Payment.objects.get().reference
    answer = complete(client, cart, {"gateway": "dummy", "token": "success"})
    assert answer["errors"] == []
    assert (answer["order"]["status"], answer["order"]["paymentStatus"]) == ("PROCESSING",
                                                                           "PAID")
    assert answer["payment"]["gateway"] == "dummy"
    assert stripe_api.intents[intent_id]["status"] == "canceled"
    assert dict(Payment.objects.values_list("gateway", "status")) == {
        "stripe": "CANCELLED", "dummy": "SUCCEEDED"}


def test_a_switch_declined_leaves_the_order_waiting_and_stripe_again_is_a_new_intent(
        client, stripe_api, cart):
    first = complete(client, cart)
    declined = complete(client, cart, {"gateway": "dummy", "token": "decline"})
    assert problems(declined) == [("payment", "PAYMENT_DECLINED")]
    order = Order.objects.get()
    assert (order.status, order.payment_status) == ("PENDING", "FAILED")
    again = complete(client, cart)
    assert again["errors"] == [] and again["order"]["paymentStatus"] == "PENDING"
    assert again["payment"]["clientSecret"] != first["payment"]["clientSecret"]
    assert [i["status"] for i in stripe_api.intents.values()] == ["canceled",
                                                                 "requires_payment_method"]


def test_a_switch_while_the_bank_debit_is_processing_is_refused(client, stripe_api, cart):
    complete(client, cart)
    stripe_api.process(Payment.objects.get().reference)
    answer = complete(client, cart, {"gateway": "dummy", "token": "success"})
    assert problems(answer) == [("payment", "INVALID_TRANSITION")]
    assert dict(Payment.objects.values_list("gateway", "status")) == {"stripe": "PENDING"}
    assert Order.objects.get().payment_status == "PENDING"


def test_a_payment_method_stripe_does_not_know_is_invalid_and_can_be_corrected(
        client, stripe_api, cart):
    answer = complete(client, cart, {"gateway": "stripe", "token": "tok_nonsense"})
    assert problems(answer) == [("payment.token", "INVALID")]
    retry = complete(client, cart, {"gateway": "stripe", "token": "pm_card_visa"})
    assert retry["errors"] == [] and retry["payment"]["status"] == "PENDING"
    assert [i["payment_method"] for i in stripe_api.intents.values()] == ["pm_card_visa"]


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_the_intent_is_made_with_the_order_committed_and_no_stock_locked(stripe_api):
    variant = make_variant(product=make_product(), price="20.00", stock=10)
    cart = two_of(variant)
    seen = {}

    def meanwhile(method: str, path: str) -> None:
        # Another connection, in the fake's thread, while the shop waits.
        if (method, path) != ("POST", "/v1/payment_intents"):
            return
        try:
            with transaction.atomic():
                stock = Stock.objects.select_for_update(nowait=True).get(variant=variant)
                seen["allocated"] = stock.quantity_allocated
            seen["order"] = Order.objects.filter(cart_token=cart.token).values_list(
                "status", flat=True).first()
        finally:
            connections.close_all()

    stripe_api.on_request = meanwhile
    done = checkout.checkout_complete(user=None, token=cart.token, gateway="stripe",
                                      payment_token="")
    assert seen == {"allocated": 2, "order": "PENDING"}
    assert done.payment is not None and done.payment.status == Payment.Status.PENDING


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_the_same_cart_completed_at_once_makes_one_order_and_one_intent(stripe_api):
    variant = make_variant(product=make_product(), price="20.00", stock=10)
    cart = two_of(variant)

    def pay(index: int):
        return checkout.checkout_complete(user=None, token=cart.token, gateway="stripe",
                                          payment_token="")

    results = in_threads(4, pay)
    assert all(not isinstance(r, Exception) for r in results), results
    assert {r.order.pk for r in results} == {Order.objects.get().pk}
    assert {r.payment.pk for r in results} == {Payment.objects.get().pk}
    assert len(stripe_api.intents) == 1
    assert allocated(variant) == 2


# --- orderRefund and orderCancel through Stripe ---------------------------------------------------


@pytest.fixture
def paid_order(client, stripe_api, cart, django_capture_on_commit_callbacks):
    """A customer's order paid through Stripe: checkout, confirmation, webhook."""
    customer = checked_out_by_a_customer(cart)
    payment = Payment.objects.get()
    webhook(client, stripe_api, django_capture_on_commit_callbacks, "payment_intent.succeeded",
            stripe_api.succeed(payment.reference))
    order = Order.objects.get()
    assert order.payment_status == "PAID"
    return order, payment, customer


def checked_out_by_a_customer(cart):
    """The cart made a customer's and completed with Stripe; the customer."""
    customer = make_user()
    cart.user, cart.email = customer, customer.email
    cart.save()
    complete(client_for(customer), cart)
    return customer


def order_id(order) -> str:
    return to_base64("Order", order.pk)


def refund(staff_client, order, amount=None) -> dict:
    data = staff_client.execute(contract.operations("admin/orders.graphql", "OrderRefund"),
                                {"id": order_id(order), "amount": amount},
                                operation_name="OrderRefund")
    return data["orderRefund"]


def cancel(customer, order) -> dict:
    data = client_for(customer).execute(
        contract.operations("storefront/orders.graphql", "OrderCancel"),
        {"id": order_id(order)}, operation_name="OrderCancel")
    return data["orderCancel"]


def test_order_refund_refunds_through_stripe_with_its_own_key(staff_client, stripe_api,
                                                              paid_order):
    order, payment, _ = paid_order
    first = refund(staff_client, order, "10.00")
    assert first["errors"] == []
    assert first["order"]["paymentStatus"] == "PARTIALLY_REFUNDED"
    second = refund(staff_client, order, "10.00")
    assert second["order"]["totalRefunded"] == {"amount": "20.00", "currency": "USD"}
    refunds = list(Refund.objects.order_by("pk"))
    made = [stripe_api.refunds[r.reference] for r in refunds]
    assert [(m["payment_intent"], m["amount"]) for m in made] == [(payment.reference, 1000)] * 2
    assert [m["metadata"]["idempotency_key"] for m in made] == [r.idempotency_key
                                                                for r in refunds]
    keys = [r[3] for r in stripe_api.requests if r[1] == "/v1/refunds"]
    assert keys == [r.idempotency_key for r in refunds] and len(set(keys)) == 2
    assert {r.status for r in refunds} == {Refund.Status.SUCCEEDED}
    assert stripe_api.charge_of(payment.reference)["amount_refunded"] == 2000


def test_a_refund_stripe_confirms_later_settles_by_webhook(client, staff_client, stripe_api,
                                                           paid_order,
                                                           django_capture_on_commit_callbacks):
    order, _, _ = paid_order
    stripe_api.refund_status = "pending"
    assert refund(staff_client, order)["order"]["paymentStatus"] == "REFUNDED"
    record = Refund.objects.get()
    assert record.status == Refund.Status.PENDING
    webhook(client, stripe_api, django_capture_on_commit_callbacks, "refund.updated",
            stripe_api.settle(record.reference, "succeeded"))
    record.refresh_from_db()
    assert record.status == Refund.Status.SUCCEEDED


@pytest.mark.parametrize("outage", ["down", "broken"])
def test_order_refund_while_stripe_is_out_of_reach_is_retryable_and_changes_nothing(
        staff_client, stripe_api, paid_order, outage):
    order, payment, _ = paid_order
    setattr(stripe_api, outage, True)
    answer = refund(staff_client, order, "10.00")
    assert problems(answer) == [(None, "PAYMENT_UNAVAILABLE")] and answer["order"] is None
    # The attempt is kept, with its key, counted nowhere.
    assert Refund.objects.get().status == Refund.Status.REQUESTED
    order.refresh_from_db()
    assert (order.payment_status, order.total_refunded) == ("PAID", 0)
    # Stripe is back: asking again settles that attempt, once.
    setattr(stripe_api, outage, False)
    again = refund(staff_client, order, "10.00")
    assert again["errors"] == [] and again["order"]["paymentStatus"] == "PARTIALLY_REFUNDED"
    assert again["order"]["totalRefunded"] == {"amount": "10.00", "currency": "USD"}
    record = Refund.objects.get()
    assert list(stripe_api.refunds) == [record.reference]
    assert stripe_api.refunds[record.reference]["payment_intent"] == payment.reference


@pytest.mark.parametrize("outage", ["down", "broken"])
def test_order_cancel_of_a_paid_order_while_stripe_is_out_of_reach_is_retryable(
        stripe_api, paid_order, variant, outage):
    order, payment, customer = paid_order
    setattr(stripe_api, outage, True)
    answer = cancel(customer, order)
    assert problems(answer) == [(None, "PAYMENT_UNAVAILABLE")]
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.total_refunded) == ("PROCESSING",
                                                                          "PAID", 0)
    assert allocated(variant) == 2
    assert Refund.objects.get().status == Refund.Status.REQUESTED
    assert not OrderEvent.objects.filter(order=order, type="CANCELLED").exists()
    setattr(stripe_api, outage, False)
    again = cancel(customer, order)
    assert again["errors"] == [] and again["order"]["status"] == "CANCELLED"
    order.refresh_from_db()
    assert order.payment_status == "REFUNDED" and allocated(variant) == 0
    [made] = stripe_api.refunds.values()
    assert (made["payment_intent"], made["amount"]) == (payment.reference, 4950)


def test_order_cancel_of_an_unpaid_order_while_stripe_is_down_is_retryable(
        client, stripe_api, cart, variant):
    customer = checked_out_by_a_customer(cart)
    order, payment = Order.objects.get(), Payment.objects.get()
    stripe_api.down = True
    assert problems(cancel(customer, order)) == [(None, "PAYMENT_UNAVAILABLE")]
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("PENDING", "PENDING")
    assert allocated(variant) == 2
    stripe_api.down = False
    assert cancel(customer, order)["errors"] == []
    assert stripe_api.intents[payment.reference]["status"] == "canceled"


def test_order_cancel_of_a_paid_order_refunds_it_in_full_through_stripe(stripe_api, paid_order,
                                                                         variant):
    order, payment, customer = paid_order
    answer = cancel(customer, order)
    assert answer["errors"] == [] and answer["order"]["status"] == "CANCELLED"
    order.refresh_from_db()
    assert order.payment_status == "REFUNDED"
    [made] = stripe_api.refunds.values()
    assert (made["payment_intent"], made["amount"]) == (payment.reference, 4950)
    assert allocated(variant) == 0


def test_order_cancel_before_the_customer_paid_cancels_the_intent(client, stripe_api, cart,
                                                                   variant):
    customer = checked_out_by_a_customer(cart)
    order, payment = Order.objects.get(), Payment.objects.get()
    answer = cancel(customer, order)
    assert answer["errors"] == [] and answer["order"]["status"] == "CANCELLED"
    assert stripe_api.intents[payment.reference]["status"] == "canceled"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.payment_status) == ("CANCELLED", "NOT_CHARGED")
    assert allocated(variant) == 0 and not stripe_api.refunds


def test_order_cancel_while_the_bank_debit_is_processing_is_refused(client, stripe_api, cart,
                                                                    variant):
    customer = checked_out_by_a_customer(cart)
    order, payment = Order.objects.get(), Payment.objects.get()
    stripe_api.process(payment.reference)
    answer = cancel(customer, order)
    assert problems(answer) == [(None, "INVALID_TRANSITION")]
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("PENDING", "PENDING")
    assert allocated(variant) == 2
    assert not OrderEvent.objects.filter(order=order, type="CANCELLED").exists()


def test_order_cancel_after_a_failed_payment_cancels_the_intent_still_open(
        client, stripe_api, cart, django_capture_on_commit_callbacks):
    """After a failure the PaymentIntent still takes another card: cancelling
    the order gives it up, so that the cancelled order cannot be paid."""
    customer = checked_out_by_a_customer(cart)
    order, payment = Order.objects.get(), Payment.objects.get()
    webhook(client, stripe_api, django_capture_on_commit_callbacks,
            "payment_intent.payment_failed", stripe_api.fail(payment.reference))
    assert cancel(customer, order)["errors"] == []
    assert stripe_api.intents[payment.reference]["status"] == "canceled"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status, order.payment_status) == (
        "CANCELLED", "CANCELLED", "FAILED")
