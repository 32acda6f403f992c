"""Order writes racing on PostgreSQL, each in its own connection: the
order's row lock makes one of them apply and the others find it applied."""

from decimal import Decimal

import pytest

from apps.core.errors import ErrorCode, ServiceError
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderEvent, Refund
from apps.orders.services import cancellation, fulfilment, refunds
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.factories import make_order, make_product, make_variant

pytestmark = [pytest.mark.postgresql, pytest.mark.usefixtures("keeps_default_warehouse")]


def paid_order(*variants) -> Order:
    """PROCESSING and PAID: 10.00 a unit, 5.00 shipping, no tax."""
    return make_order(lines=[(variant, 2) for variant in variants], status="PROCESSING",
                      payment_status="PAID")


def codes(results: list) -> list:
    """"applied" for each that applied, first, then the codes of the refused."""
    found = [r.errors[0].code if isinstance(r, ServiceError) else "applied" for r in results]
    return sorted(found, key=lambda code: (code != "applied", str(code)))


def test_cancellations_at_once_cancel_and_refund_once(transactional_db):
    rose, lily = (make_variant(product=make_product(), stock=10) for _ in range(2))
    order = paid_order(rose, lily)
    results = in_threads(4, lambda i: cancellation.order_cancel(order=order, actor=None))
    # The others find the order cancelled, or, coming between the first's
    # committed refund attempt and its cancellation, that attempt on its way.
    assert codes(results) == ["applied", *[ErrorCode.INVALID_TRANSITION] * 3], results
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("CANCELLED", "REFUNDED")
    assert Refund.objects.filter(payment__order=order).count() == 1
    assert order.total_refunded == order.total == Decimal("45.00")
    assert list(Stock.objects.values_list("quantity_on_hand", "quantity_allocated")) == [
        (10, 0), (10, 0)]
    assert StockMovement.objects.filter(kind="deallocation").count() == 2
    assert order.events.filter(type=OrderEvent.Type.CANCELLED).count() == 1


def test_refunds_at_once_never_give_back_more_than_was_paid(transactional_db):
    order = paid_order(make_variant(product=make_product(), stock=10))  # 25.00
    results = in_threads(4, lambda i: refunds.order_refund(order=order, actor=None,
                                                           amount=Decimal("10.00")))
    assert codes(results) == ["applied", "applied", ErrorCode.INVALID, ErrorCode.INVALID]
    order.refresh_from_db()
    assert (order.payment_status, order.total_refunded) == ("PARTIALLY_REFUNDED",
                                                            Decimal("20.00"))
    assert Refund.objects.count() == 2


def test_full_refunds_at_once_refund_once(transactional_db):
    order = paid_order(make_variant(product=make_product(), stock=10))
    results = in_threads(3, lambda i: refunds.order_refund(order=order, actor=None))
    # The others find the order REFUNDED (INVALID_TRANSITION), or, while the
    # first's refund is on its way, all of it held back by its attempt
    # (INVALID, "Nothing is left to refund").
    found = codes(results)
    assert found[0] == "applied", results
    assert set(found[1:]) <= {ErrorCode.INVALID_TRANSITION, ErrorCode.INVALID}, results
    assert Refund.objects.get().amount == Decimal("25.00")


def test_a_cancellation_and_a_fulfilment_at_once_do_one_of_the_two(transactional_db):
    rose = make_variant(product=make_product(), stock=10)
    order = paid_order(rose)
    results = in_threads(2, lambda i: (
        cancellation.order_admin_cancel(order=order, actor=None) if i == 0
        else fulfilment.order_fulfil(order=order, actor=None)))
    assert codes(results) == ["applied", ErrorCode.INVALID_TRANSITION], results
    order.refresh_from_db()
    stock = Stock.objects.get(variant=rose)
    if order.status == "CANCELLED":
        assert (stock.quantity_on_hand, stock.quantity_allocated) == (10, 0)
    else:
        assert order.status == "SHIPPED"
        assert (stock.quantity_on_hand, stock.quantity_allocated) == (8, 0)
