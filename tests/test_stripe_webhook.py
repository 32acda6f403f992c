"""POST /webhooks/stripe/: deliveries signed the way Stripe signs them
(t=timestamp,v1=HMAC-SHA256 of "t.payload" with the endpoint's secret),
recorded once, handed to the outbox, and handled by
apps.orders.services.stripe: valid, bad signature, stale timestamp,
replayed, copies at once, out of order, amount mismatch, unknown type. A
success on an order already cancelled: tests/test_late_payments.py."""

import json
import logging
import time

import pytest
import time_machine
from django.db import connection

from apps.core.models import OutboxEvent
from apps.orders.models import Order, OrderEvent, Payment, Refund
from apps.payments.gateways import stripe as stripe_gateway
from apps.payments.models import StripeEvent
from apps.payments.webhooks import Received, stripe_event_receive
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.factories import make_order, make_product, make_variant
from tests.fake_stripe import sign, use_fake_stripe

URL = "/webhooks/stripe/"


@pytest.fixture
def stripe_api(settings):
    return use_fake_stripe(settings)


def stripe_order(*, price: str = "12.50", payment_status: str = "PENDING", **extra):
    """An order placed with Stripe as checkout leaves it: PENDING, its
    payment waiting for the customer on a PaymentIntent of the fake."""
    variant = make_variant(product=make_product(), price=price, stock=5)
    order = make_order(lines=[(variant, 1)], shipping_price="0", payment_status=payment_status,
                       paid_with=None, **extra)
    key = f"checkout:{order.token}"
    result = stripe_gateway.Gateway().charge(amount=order.money(order.total), token="",
                                             reference=order.number, idempotency_key=key)
    payment = Payment.objects.create(
        order=order, gateway="stripe", amount=order.total, currency=order.currency,
        reference=result.reference, client_secret=result.client_secret or "",
        idempotency_key=key,
    )
    return order, payment


def body_of(event: dict) -> bytes:
    return json.dumps(event).encode()


def deliver(client, event: dict | bytes, *, signature: str | None = "sign", **signing):
    body = event if isinstance(event, bytes) else body_of(event)
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = sign(body, **signing)
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.request("POST", URL, content=body, headers=headers)


@pytest.fixture
def webhook(client, django_capture_on_commit_callbacks):
    """Deliver an event and run what its commit hands on (the outbox's
    dispatch, the eager task): what Stripe and a worker do together."""

    def send(event, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, event, **options)

    return send


def states(order) -> tuple[str, str]:
    order.refresh_from_db()
    return order.status, order.payment_status


def event_types(order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).values_list("type", flat=True))


# --- A valid delivery -------------------------------------------------------------------------


def test_payment_intent_succeeded_pays_the_order(db, stripe_api, webhook):
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    response = webhook(event)
    assert (response.status_code, response.json()) == (200, {"received": "recorded"})
    assert states(order) == ("PROCESSING", "PAID")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert event_types(order) == ["PLACED", "PAID"]
    recorded = StripeEvent.objects.get()
    assert (recorded.event_id, recorded.type, recorded.payload) == (
        event["id"], "payment_intent.succeeded", event)
    assert recorded.handled_at is not None and "pay" in recorded.outcome


def test_the_work_waits_for_the_commit(db, client, stripe_api,
                                       django_capture_on_commit_callbacks):
    """The endpoint only records and publishes; the order moves after the
    commit, in the handler's task."""
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert deliver(client, event).status_code == 200
    assert states(order) == ("PENDING", "PENDING")
    assert OutboxEvent.objects.filter(type="StripeEventReceived",
                                      payload={"stripe_event_id": event["id"]}).count() == 1
    for callback in callbacks:
        callback()
    assert states(order) == ("PROCESSING", "PAID")


def test_payment_failed_fails_the_payment_and_the_order_waits(db, stripe_api, webhook):
    order, payment = stripe_order()
    failed = stripe_api.fail(payment.reference, "Your card has insufficient funds.")
    assert webhook(stripe_api.event("payment_intent.payment_failed", failed)).status_code == 200
    assert states(order) == ("PENDING", "FAILED")
    payment.refresh_from_db()
    assert (payment.status, payment.message) == ("DECLINED", "Your card has insufficient funds.")
    assert event_types(order) == ["PLACED", "PAYMENT_FAILED"]


def test_another_card_after_a_failure_pays(db, stripe_api, webhook):
    order, payment = stripe_order()
    webhook(stripe_api.event("payment_intent.payment_failed", stripe_api.fail(payment.reference)))
    webhook(stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference)))
    assert states(order) == ("PROCESSING", "PAID")
    assert event_types(order) == ["PLACED", "PAYMENT_FAILED", "PAID"]


def test_payment_intent_canceled_cancels_the_payment_only(db, stripe_api, webhook):
    order, payment = stripe_order()
    intent = stripe_api.intents[payment.reference]
    webhook(stripe_api.event("payment_intent.canceled", {**intent, "status": "canceled"}))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert states(order) == ("PENDING", "PENDING")  # the expiry releases the order


def test_an_event_of_no_known_payment_is_recorded_and_changes_nothing(db, stripe_api, webhook):
    order, _ = stripe_order()
    stranger = stripe_gateway.Gateway().charge(
        amount=order.money(order.total), token="", reference="elsewhere",
        idempotency_key="other-shop").reference
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(stranger))
    assert webhook(event).json() == {"received": "recorded"}
    assert states(order) == ("PENDING", "PENDING")
    assert StripeEvent.objects.get().outcome == f"no payment for {stranger}"


# --- Deliveries that do not verify change nothing -----------------------------------------------


def assert_nothing_changed(order, payment):
    assert states(order) == ("PENDING", "PENDING")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert not StripeEvent.objects.exists()
    assert not OutboxEvent.objects.filter(type="StripeEventReceived").exists()


@pytest.mark.parametrize("how", [
    "no header", "empty header", "garbage header", "wrong secret", "no v1", "altered body",
])
def test_a_bad_signature_is_400_and_changes_nothing(db, stripe_api, webhook, caplog, how):
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    body = body_of(event)
    signature = {
        "no header": None, "empty header": "", "garbage header": "definitely-not-a-signature",
        "wrong secret": sign(body, secret="whsec_someone_else"),
        "no v1": sign(body).replace("v1=", "v0="),
        "altered body": sign(body_of({**event, "id": "evt_other"})),
    }[how]
    response = webhook(body, signature=signature)
    assert response.status_code == 400 and "error" in response.json()
    assert_nothing_changed(order, payment)
    assert any("Stripe webhook refused" in r.getMessage() for r in caplog.records)


def test_a_stale_timestamp_is_400(db, stripe_api, webhook, settings):
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    now = int(time.time())
    stale = webhook(event, timestamp=now - settings.STRIPE_WEBHOOK_TOLERANCE - 5)
    assert stale.status_code == 400 and "tolerance" in stale.json()["error"]
    assert_nothing_changed(order, payment)
    # Within the tolerance it is taken.
    assert webhook(event, timestamp=now - settings.STRIPE_WEBHOOK_TOLERANCE + 30).status_code \
        == 200


def test_a_delivery_signed_long_ago_is_refused_when_it_arrives(db, stripe_api, client,
                                                               django_capture_on_commit_callbacks):
    """A captured delivery replayed later: its signature was good when Stripe
    made it; ten minutes on it is not."""
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    body = body_of(event)
    signature = sign(body)
    with time_machine.travel(time.time() + 600, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, body, signature=signature).status_code == 400
    assert_nothing_changed(order, payment)


def test_without_a_webhook_secret_every_delivery_is_refused(db, stripe_api, webhook, settings,
                                                            caplog):
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert webhook(event, secret="").status_code == 400
    assert_nothing_changed(order, payment)
    assert any("STRIPE_WEBHOOK_SECRET is not set" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "evt_1"}',
                                  b'{"id": 1, "type": "x", "created": 1, "data": {"object": {}}}',
                                  b"\xff\xfe"])
def test_a_signed_body_that_is_no_event_is_400(db, stripe_api, webhook, body):
    assert webhook(body).status_code == 400
    assert not StripeEvent.objects.exists()


def test_only_post_is_answered(db, client, stripe_api):
    assert client.request("GET", URL).status_code == 405


def test_an_unknown_type_is_acknowledged_logged_and_changes_nothing(db, stripe_api, webhook,
                                                                     caplog):
    caplog.set_level(logging.INFO)
    order, payment = stripe_order()
    event = stripe_api.event("customer.created", {"id": "cus_1", "object": "customer"})
    response = webhook(event)
    assert (response.status_code, response.json()) == (200, {"received": "ignored"})
    assert_nothing_changed(order, payment)
    assert any("customer.created ignored" in r.getMessage() for r in caplog.records)


# --- Once, in any order ---------------------------------------------------------------------------


def test_a_replayed_event_is_acknowledged_and_ignored(db, stripe_api, webhook):
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    assert webhook(event).json() == {"received": "recorded"}
    again = webhook(event)  # Stripe retries a delivery it thinks was lost
    assert (again.status_code, again.json()) == (200, {"received": "repeated"})
    assert StripeEvent.objects.count() == 1
    assert OutboxEvent.objects.filter(type="StripeEventReceived").count() == 1
    assert event_types(order) == ["PLACED", "PAID"]


def test_a_failure_arriving_after_the_success_is_ignored(db, stripe_api, webhook):
    order, payment = stripe_order()
    failed = stripe_api.event("payment_intent.payment_failed", stripe_api.fail(payment.reference),
                              created=int(time.time()) - 60)
    succeeded = stripe_api.event("payment_intent.succeeded",
                                 stripe_api.succeed(payment.reference))
    webhook(succeeded)
    assert webhook(failed).status_code == 200  # the earlier attempt's news, late
    assert states(order) == ("PROCESSING", "PAID")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert event_types(order) == ["PLACED", "PAID"]
    assert "failure ignored" in StripeEvent.objects.get(event_id=failed["id"]).outcome


def test_a_success_on_an_order_moved_on_is_logged_not_applied(db, stripe_api, webhook, caplog):
    """The order was fulfilled meanwhile (paid by another route, say): the
    table refuses PAY, which is logged; the payment records what Stripe took."""
    order, payment = stripe_order()
    webhook(stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference)))
    Order.objects.filter(pk=order.pk).update(status="SHIPPED")
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PENDING)
    event = stripe_api.event("payment_intent.succeeded", stripe_api.intents[payment.reference])
    assert webhook(event).status_code == 200
    assert states(order) == ("SHIPPED", "PAID")
    assert "left as it was" in StripeEvent.objects.get(event_id=event["id"]).outcome
    assert any("not moved" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("field", "value"), [("amount_received", 1249), ("currency", "eur")])
def test_an_amount_or_currency_that_is_not_the_payments_is_refused(db, stripe_api, webhook,
                                                                   caplog, field, value):
    order, payment = stripe_order()
    intent = {**stripe_api.succeed(payment.reference), field: value}
    assert webhook(stripe_api.event("payment_intent.succeeded", intent)).status_code == 200
    assert states(order) == ("PENDING", "PENDING")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert StripeEvent.objects.get().outcome.startswith("refused:")
    assert any(r.levelno == logging.ERROR and "refused" in r.getMessage()
               for r in caplog.records)


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_copies_arriving_at_once_are_recorded_and_handled_once(stripe_api):
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    body = body_of(event)
    signature = sign(body)

    def receive(index: int) -> Received:
        return stripe_event_receive(payload=body, signature=signature)

    results = in_threads(6, receive)
    assert sorted(results) == sorted([Received.RECORDED] + [Received.REPEATED] * 5), results
    assert StripeEvent.objects.count() == 1
    assert states(order) == ("PROCESSING", "PAID")
    assert event_types(order) == ["PLACED", "PAID"]
    assert connection.vendor == "postgresql"


# --- Refunds and disputes -------------------------------------------------------------------------


def paid_stripe_order(stripe_api, webhook):
    order, payment = stripe_order()
    webhook(stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference)))
    return order, payment


def pending_refund(stripe_api, payment, *, amount: str = "5.00", known: bool = True) -> Refund:
    """A refund Stripe accepted and confirms later, as orderRefund records it
    (`known`: the record has learnt the refund's id)."""
    stripe_api.refund_status = "pending"
    key = f"refund-{Refund.objects.count() + 1}"
    result = stripe_gateway.Gateway().refund(
        charge_reference=payment.reference, amount=payment.order.money(amount),
        idempotency_key=key)
    return Refund.objects.create(payment=payment, amount=amount, idempotency_key=key,
                                 reference=result.reference if known else "")


@pytest.mark.parametrize("event_type", ["refund.updated", "charge.refund.updated"])
def test_a_refund_that_goes_through_is_recorded(db, stripe_api, webhook, event_type):
    order, payment = paid_stripe_order(stripe_api, webhook)
    refund = pending_refund(stripe_api, payment)
    settled = stripe_api.settle(refund.reference, "succeeded")
    assert webhook(stripe_api.event(event_type, settled)).status_code == 200
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert not OrderEvent.objects.filter(order=order, type="NOTE").exists()


def test_a_refund_is_matched_by_its_key_before_its_id_is_known(db, stripe_api, webhook):
    _, payment = paid_stripe_order(stripe_api, webhook)
    refund = pending_refund(stripe_api, payment, known=False)
    [made] = stripe_api.refunds.values()
    webhook(stripe_api.event("refund.updated", stripe_api.settle(made["id"], "succeeded")))
    refund.refresh_from_db()
    assert (refund.status, refund.reference) == (Refund.Status.SUCCEEDED, made["id"])


def test_a_failed_refund_is_recorded_and_noted_for_the_staff(db, stripe_api, webhook):
    order, payment = paid_stripe_order(stripe_api, webhook)
    refund = pending_refund(stripe_api, payment)
    webhook(stripe_api.event("refund.failed", stripe_api.settle(refund.reference, "failed")))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    note = OrderEvent.objects.get(order=order, type="NOTE")
    assert "5.00 USD" in note.message and "expired_or_canceled_card" in note.message
    # A late "pending" or a repeated "succeeded" does not bring it back.
    webhook(stripe_api.event("refund.updated", stripe_api.settle(refund.reference, "succeeded")))
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED


def test_charge_refunded_applies_the_refunds_it_lists(db, stripe_api, webhook):
    _, payment = paid_stripe_order(stripe_api, webhook)
    first, second = pending_refund(stripe_api, payment), pending_refund(stripe_api, payment,
                                                                        amount="2.00")
    stripe_api.settle(first.reference, "succeeded")
    stripe_api.settle(second.reference, "succeeded")
    webhook(stripe_api.event("charge.refunded", stripe_api.charge_of(payment.reference)))
    assert set(Refund.objects.values_list("status", flat=True)) == {Refund.Status.SUCCEEDED}
    # Without the list (newer API versions leave it out) it waits for refund.*.
    charge = {**stripe_api.charge_of(payment.reference), "refunds": None}
    webhook(stripe_api.event("charge.refunded", charge))
    assert "left to the refund events" in StripeEvent.objects.order_by("-pk").first().outcome


@pytest.mark.parametrize(("event_type", "status", "words"), [
    ("charge.dispute.created", "needs_response", "disputes 12.50 USD"),
    ("charge.dispute.closed", "lost", "was closed: lost"),
])
def test_a_dispute_is_noted_on_the_order(db, stripe_api, webhook, event_type, status, words):
    order, payment = paid_stripe_order(stripe_api, webhook)
    dispute = {"id": "dp_1", "object": "dispute", "amount": 1250, "currency": "usd",
               "payment_intent": payment.reference,
               "charge": stripe_api.intents[payment.reference]["latest_charge"],
               "reason": "fraudulent", "status": status}
    assert webhook(stripe_api.event(event_type, dispute)).status_code == 200
    note = OrderEvent.objects.get(order=order, type="NOTE")
    assert words in note.message and "dp_1" in note.message
    assert states(order) == ("PROCESSING", "PAID")  # the money's fate is Stripe's to settle
    disputed = OutboxEvent.objects.get(type="OrderDisputed")
    assert disputed.payload == {"order_id": order.pk, "dispute_id": "dp_1", "status": status}


def test_the_django_admin_lists_the_events_read_only(db, stripe_api, webhook, admin_client):
    order, payment = stripe_order()
    event = stripe_api.event("payment_intent.succeeded", stripe_api.succeed(payment.reference))
    webhook(event)
    recorded = StripeEvent.objects.get()
    listing = admin_client.get(f"/admin/payments/stripeevent/?q={event['id']}")
    assert listing.status_code == 200
    assert [e.pk for e in listing.context["cl"].result_list] == [recorded.pk]
    page = admin_client.get(f"/admin/payments/stripeevent/{recorded.pk}/change/")
    assert page.status_code == 200 and recorded.outcome in page.content.decode()
    assert admin_client.post(f"/admin/payments/stripeevent/{recorded.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert StripeEvent.objects.count() == 1
