"""Changing orders: the customer's cancellation and the order desk's
fulfilment, delivery, cancellation and refunds, through the endpoint with
the contract's own operations and through the services; the stock they
move and the money they give back."""

from decimal import Decimal

import pytest
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.core.errors import ErrorCode, ServiceError
from apps.discounts import services as discounts
from apps.discounts.models import CouponUse
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderEvent, Payment, Refund
from apps.orders.services import cancellation, fulfilment, refunds
from apps.payments.gateways import GatewayUnavailable
from apps.payments.gateways import dummy
from tests import contract
from tests.conftest import Client, client_for, error_codes, make_user, problems
from tests.factories import make_order, make_product, make_variant

pytestmark = pytest.mark.django_db

STOREFRONT = ("storefront/orders.graphql", "OrderCancel")
DESK = ("admin/orders.graphql", "OrderFulfill", "OrderMarkDelivered", "OrderAdminCancel",
        "OrderRefund")


def gid(order: Order) -> str:
    return to_base64("Order", order.pk)


def send(client: Client, operation: str, **variables) -> dict:
    document = contract.operations(*(STOREFRONT if operation == "OrderCancel" else DESK))
    data = client.execute(document, variables, operation_name=operation)
    return data[operation[0].lower() + operation[1:]]


def desk() -> Client:
    return client_for(make_user(perms=[Perm.MANAGE_ORDERS]))


def stocked(quantity: int = 10, price: str = "10.00"):
    return make_variant(product=make_product(), price=price, stock=quantity)


def stock_of(variant) -> tuple[int, int]:
    stock = Stock.objects.get(variant=variant)
    return stock.quantity_on_hand, stock.quantity_allocated


def movements(variant) -> list[tuple[str, int, int]]:
    return list(StockMovement.objects.filter(stock__variant=variant).order_by("id")
                .values_list("kind", "quantity_delta", "allocated_delta"))


def paid_order(*variants_and_quantities, user=None, **extra) -> Order:
    """A paid order (PROCESSING, PAID) of 10.00 a unit, 5.00 shipping, 20 % tax."""
    return make_order(lines=list(variants_and_quantities), user=user, status="PROCESSING",
                      payment_status="PAID", tax_rate="0.2", **extra)


# --- orderCancel -------------------------------------------------------------------------------


def test_the_customer_cancels_a_paid_order_and_gets_everything_back():
    ada = make_user()
    rose, lily = stocked(), stocked()
    order = paid_order((rose, 2), (lily, 1), user=ada)  # (30 + 5) × 1.2 = 42.00
    assert stock_of(rose) == (10, 2)
    answer = send(client_for(ada), "OrderCancel", id=gid(order))
    assert answer == {"order": {"id": gid(order), "status": "CANCELLED"}, "errors": []}
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("CANCELLED", "REFUNDED")
    assert order.total_refunded == order.total == Decimal("42.00")
    assert stock_of(rose) == (10, 0) and stock_of(lily) == (10, 0)
    assert movements(rose)[-1] == (StockMovement.Kind.DEALLOCATION, 0, -2)
    refund = Refund.objects.get(payment__order=order)
    assert (refund.amount, refund.status, refund.actor) == (Decimal("42.00"), "SUCCEEDED", ada)
    assert refund.reference.startswith("dummy_re_")
    assert list(order.events.values_list("type", "actor", "from_status", "to_status")) == [
        ("PLACED", None, "", "PENDING"),
        ("CANCELLED", ada.pk, "PROCESSING", "CANCELLED"),
        ("REFUNDED", ada.pk, "CANCELLED", "CANCELLED"),
    ]


def test_cancelling_an_unpaid_order_releases_stock_and_the_coupon_use():
    ada = make_user()
    rose = stocked()
    order = make_order(lines=[(rose, 3)], user=ada)
    coupon = discounts.coupon_create(actor=None, code="ten", discount_type="PERCENTAGE",
                                     value=Decimal(10))
    discounts.coupon_use_record(coupon=coupon, order_id=order.pk, email=ada.email, user=ada)
    assert send(client_for(ada), "OrderCancel", id=gid(order))["errors"] == []
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("CANCELLED", "NOT_CHARGED")
    assert stock_of(rose) == (10, 0)
    assert CouponUse.objects.get(order_id=order.pk).released_at is not None
    assert not Refund.objects.exists()


def test_someone_elses_order_is_not_found_even_for_staff():
    order = paid_order((stocked(), 1), user=make_user())
    for client in (client_for(make_user()), desk()):
        answer = send(client, "OrderCancel", id=gid(order))
        assert answer["order"] is None and problems(answer) == [("id", "NOT_FOUND")]
    assert Order.objects.get(pk=order.pk).status == "PROCESSING"


@pytest.mark.parametrize("bad_id", ["", "nonsense", to_base64("Product", 1),
                                    to_base64("Order", "x"), to_base64("Order", 10**30)])
def test_bad_ids_are_not_found(bad_id):
    answer = send(client_for(make_user()), "OrderCancel", id=bad_id)
    assert problems(answer) == [("id", "NOT_FOUND")]
    assert problems(send(desk(), "OrderRefund", id=bad_id)) == [("id", "NOT_FOUND")]


def test_anonymous_callers_must_sign_in():
    order = make_order(lines=[(stocked(), 1)])
    document = contract.operations(*STOREFRONT)
    result = Client().post(document, {"id": gid(order)}, operation_name="OrderCancel")
    assert error_codes(result) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("status", ["SHIPPED", "DELIVERED", "CANCELLED"])
def test_an_order_past_cancelling_is_an_invalid_transition(status):
    ada = make_user()
    rose = stocked()
    order = make_order(lines=[(rose, 1)], user=ada, status=status, payment_status="PAID")
    before = stock_of(rose), list(order.events.all())
    answer = send(client_for(ada), "OrderCancel", id=gid(order))
    assert answer["order"] is None and problems(answer) == [(None, "INVALID_TRANSITION")]
    assert (stock_of(rose), list(order.events.all())) == before
    assert Order.objects.get(pk=order.pk).status == status


def test_cancelling_gives_up_a_charge_that_waits_for_the_customer(settings, monkeypatch):
    settings.PAYMENT_GATEWAYS = ["dummy", "tests.fake_gateway.FakeGateway"]
    cancelled = []
    monkeypatch.setattr("tests.fake_gateway.FakeGateway.cancel",
                        lambda self, *, charge_reference: cancelled.append(charge_reference))
    ada = make_user()
    order = make_order(lines=[(stocked(), 1)], user=ada, payment_status="PENDING")
    Payment.objects.create(order=order, gateway="fake", amount=order.total, currency="USD",
                           reference="fake_pi_1", client_secret="fake_secret",
                           idempotency_key="k1")
    order = cancellation.order_cancel(order=order, actor=ada)
    assert (order.status, order.payment_status) == ("CANCELLED", "NOT_CHARGED")
    assert cancelled == ["fake_pi_1"]
    assert Payment.objects.get(order=order).status == Payment.Status.CANCELLED


# --- orderFulfill and orderMarkDelivered -------------------------------------------------------


def test_fulfilling_ships_the_stock_and_delivery_follows():
    rose, lily = stocked(), stocked()
    order = paid_order((rose, 2), (lily, 3))
    client = desk()
    answer = send(client, "OrderFulfill", id=gid(order), trackingNumber="  1Z999  ")
    assert answer == {"order": {"id": gid(order), "status": "SHIPPED", "trackingNumber": "1Z999"},
                      "errors": []}
    assert stock_of(rose) == (8, 0) and stock_of(lily) == (7, 0)
    assert movements(rose) == [("allocation", 0, 2), ("fulfilment", -2, -2)]
    assert StockMovement.objects.filter(kind="fulfilment").values_list(
        "reference", flat=True).distinct().get() == f"order:{order.number}"
    answer = send(client, "OrderMarkDelivered", id=gid(order))
    assert answer == {"order": {"id": gid(order), "status": "DELIVERED"}, "errors": []}
    assert list(order.events.values_list("type", flat=True)) == ["PLACED", "FULFILLED",
                                                                 "DELIVERED"]
    assert order.events.get(type="FULFILLED").message == "Shipped, tracking number 1Z999."


def test_fulfilling_without_a_tracking_number():
    order = paid_order((stocked(), 1))
    answer = send(desk(), "OrderFulfill", id=gid(order))
    assert answer["order"] == {"id": gid(order), "status": "SHIPPED", "trackingNumber": None}


@pytest.mark.parametrize("status", ["PENDING", "SHIPPED", "DELIVERED", "CANCELLED"])
def test_only_a_processing_order_is_fulfilled(status):
    rose = stocked()
    order = make_order(lines=[(rose, 1)], status=status, payment_status="PAID")
    before = movements(rose)
    answer = send(desk(), "OrderFulfill", id=gid(order), trackingNumber="T")
    assert problems(answer) == [(None, "INVALID_TRANSITION")]
    assert movements(rose) == before and Order.objects.get(pk=order.pk).tracking_number == ""


def test_a_tracking_number_too_long_is_invalid():
    order = paid_order((stocked(), 1))
    answer = send(desk(), "OrderFulfill", id=gid(order), trackingNumber="x" * 256)
    assert problems(answer) == [("trackingNumber", "INVALID")]


def test_only_a_shipped_order_is_delivered():
    order = paid_order((stocked(), 1))
    assert problems(send(desk(), "OrderMarkDelivered", id=gid(order))) == [
        (None, "INVALID_TRANSITION")]


def test_a_line_whose_variant_was_deleted_holds_no_stock():
    rose, gone = stocked(), stocked()
    order = paid_order((rose, 1), (gone, 1))
    gone.delete()
    order = fulfilment.order_fulfil(order=order, actor=None)
    assert order.status == "SHIPPED" and stock_of(rose) == (9, 0)


# --- orderAdminCancel ---------------------------------------------------------------------------


def test_the_desk_cancels_with_a_reason():
    staff = make_user(perms=[Perm.MANAGE_ORDERS])
    rose = stocked()
    order = paid_order((rose, 1), user=make_user())
    answer = send(client_for(staff), "OrderAdminCancel", id=gid(order), reason="Out of roses")
    assert answer == {"order": {"id": gid(order), "status": "CANCELLED"}, "errors": []}
    event = order.events.get(type=OrderEvent.Type.CANCELLED)
    assert (event.message, event.actor) == ("Out of roses", staff)
    assert Order.objects.get(pk=order.pk).payment_status == "REFUNDED"
    assert stock_of(rose) == (10, 0)


def test_the_desk_cancels_without_a_reason_and_not_twice():
    order = paid_order((stocked(), 1))
    client = desk()
    assert send(client, "OrderAdminCancel", id=gid(order))["errors"] == []
    assert order.events.get(type="CANCELLED").message == "Cancelled by the shop."
    assert problems(send(client, "OrderAdminCancel", id=gid(order))) == [
        (None, "INVALID_TRANSITION")]
    assert Refund.objects.count() == 1


def test_a_gateway_out_of_reach_cancels_nothing(monkeypatch):
    def unreachable(self, **kwargs):
        raise GatewayUnavailable("timeout")

    monkeypatch.setattr(dummy.Gateway, "refund", unreachable)
    rose = stocked()
    order = paid_order((rose, 2))
    answer = send(desk(), "OrderAdminCancel", id=gid(order))
    assert problems(answer) == [(None, "PAYMENT_UNAVAILABLE")]
    assert "Try again" in answer["errors"][0]["message"]
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("PROCESSING", "PAID")
    # Only the attempt, kept with its key and counted nowhere, for the retry.
    assert stock_of(rose) == (10, 2)
    assert list(Refund.objects.values_list("status", flat=True)) == ["REQUESTED"]
    monkeypatch.undo()
    assert send(desk(), "OrderAdminCancel", id=gid(order))["errors"] == []
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("CANCELLED", "REFUNDED")
    assert list(Refund.objects.values_list("status", flat=True)) == ["SUCCEEDED"]


# --- orderRefund --------------------------------------------------------------------------------


def refund(order: Order, amount: str | None = None) -> dict:
    return send(desk(), "OrderRefund", id=gid(order), amount=amount)


def test_partial_refunds_then_the_rest_shipping_and_tax_included():
    order = paid_order((stocked(), 2))  # (20 + 5) × 1.2 = 30.00
    first = refund(order, "10.00")
    assert first == {"order": {"id": gid(order), "paymentStatus": "PARTIALLY_REFUNDED",
                               "totalRefunded": {"amount": "10.00", "currency": "USD"}},
                     "errors": []}
    assert refund(order, "10.00")["order"]["totalRefunded"]["amount"] == "20.00"
    rest = refund(order)
    assert rest["order"]["paymentStatus"] == "REFUNDED"
    assert rest["order"]["totalRefunded"]["amount"] == "30.00"
    rows = list(Refund.objects.filter(payment__order=order).values_list("amount",
                                                                         "idempotency_key"))
    assert [amount for amount, _ in rows] == [Decimal("10.00"), Decimal("10.00"),
                                              Decimal("10.00")]
    assert len({key for _, key in rows}) == 3
    assert Order.objects.get(pk=order.pk).status == "PROCESSING"  # refunds move money only
    assert [e.message for e in order.events.filter(type="REFUNDED")] == [
        "Refunded 10.00 USD."] * 3


def test_a_refund_over_what_is_left_is_invalid():
    order = paid_order((stocked(), 1))  # 18.00
    refund(order, "10.00")
    answer = refund(order, "8.01")
    assert problems(answer) == [("amount", "INVALID")]
    assert answer["errors"][0]["message"] == "At most 8.00 USD is left to refund."
    assert Order.objects.get(pk=order.pk).total_refunded == Decimal("10.00")


@pytest.mark.parametrize(("amount", "message"), [
    ("0", "A refund must be more than zero."), ("-1", "Must not be negative."),
    ("1.005", "At most 2 decimal places."), ("1e3000", "Too large."),
])
def test_amounts_that_are_not_refunds(amount, message):
    order = paid_order((stocked(), 1))
    answer = refund(order, amount)
    assert problems(answer) == [("amount", "INVALID")]
    assert answer["errors"][0]["message"] == message
    assert not Refund.objects.exists()


@pytest.mark.parametrize("payment_status", ["NOT_CHARGED", "PENDING", "FAILED", "REFUNDED"])
def test_only_a_paid_order_is_refunded(payment_status):
    order = make_order(lines=[(stocked(), 1)], payment_status=payment_status)
    assert problems(refund(order, "1.00")) == [(None, "INVALID_TRANSITION")]


def test_a_refund_goes_through_the_gateway_of_the_payment(settings, monkeypatch):
    settings.PAYMENT_GATEWAYS = ["dummy", "tests.fake_gateway.FakeGateway"]
    asked = []
    original = dummy.Gateway.refund

    def spy(self, **kwargs):
        asked.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(dummy.Gateway, "refund", spy)
    order = paid_order((stocked(), 1))
    refunds.order_refund(order=order, actor=None, amount=Decimal("5"))
    payment = Payment.objects.get(order=order)
    [call] = asked
    assert call["charge_reference"] == payment.reference
    assert str(call["amount"]) == "5.00 USD"
    assert call["idempotency_key"] == Refund.objects.get().idempotency_key


def test_a_refund_the_gateway_confirms_later_is_counted_and_pending(settings):
    settings.PAYMENT_GATEWAYS = ["dummy", "tests.fake_gateway.FakeGateway"]
    order = paid_order((stocked(), 1), paid_with="fake")
    order = refunds.order_refund(order=order, actor=None)
    assert (order.payment_status, order.total_refunded) == ("REFUNDED", order.total)
    assert Refund.objects.get().status == Refund.Status.PENDING


def test_a_gateway_switched_off_cannot_refund(settings):
    order = paid_order((stocked(), 1), paid_with="gone")
    with pytest.raises(ServiceError, match="no longer enabled") as refused:
        refunds.order_refund(order=order, actor=None)
    assert refused.value.errors[0].field is None
    assert not Refund.objects.exists()


def test_a_paid_order_without_a_payment_cannot_be_refunded():
    order = paid_order((stocked(), 1), paid_with=None)
    with pytest.raises(ServiceError, match="no payment") as refused:
        refunds.order_refund(order=order, actor=None)
    assert refused.value.errors[0].code == ErrorCode.INVALID


def test_the_desk_needs_the_orders_permission():
    order = paid_order((stocked(), 1))
    document = contract.operations(*DESK)
    for client, code in ((Client(), "UNAUTHENTICATED"), (client_for(make_user()), "FORBIDDEN"),
                         (client_for(make_user(perms=[Perm.MANAGE_PRODUCTS])), "FORBIDDEN")):
        result = client.post(document, {"id": gid(order)}, operation_name="OrderRefund")
        assert error_codes(result) == [code]
    assert not Refund.objects.exists()


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", [], {"x": 1}])
def test_an_amount_that_is_no_decimal_is_a_coded_error(amount):
    order = paid_order((stocked(), 1))
    result = desk().post(contract.operations(*DESK), {"id": gid(order), "amount": amount},
                         operation_name="OrderRefund")
    if amount in ("NaN", "Infinity"):  # Decimals, but not amounts
        assert problems(result["data"]["orderRefund"]) == [("amount", "INVALID")]
    else:
        assert error_codes(result) and "INTERNAL_SERVER_ERROR" not in error_codes(result)
    assert not Refund.objects.exists()
