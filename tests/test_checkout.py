"""checkoutComplete through the endpoint (the contract's CheckoutComplete)
and its services: one order per cart, all or nothing."""

import uuid
from decimal import Decimal

import pytest
from strawberry.relay import to_base64

from apps.checkout import services
from apps.checkout.models import CartState
from apps.core.errors import ErrorCode, ServiceError
from apps.core.models import OutboxEvent
from apps.discounts.models import CouponUse
from apps.inventory import services as inventory
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderEvent, Payment
from tests import contract
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import client_for, make_user, problems
from tests.factories import (
    ADDRESS,
    make_cart,
    make_coupon,
    make_product,
    make_shipping_method,
    make_stock,
    make_tax_rate,
    make_variant,
    make_warehouse,
)

pytestmark = pytest.mark.django_db

PAID = {"gateway": "dummy", "token": "success"}
DECLINED = {"gateway": "dummy", "token": "decline"}


@pytest.fixture(autouse=True)
def _shop(settings):
    settings.DEFAULT_COUNTRY = "US"
    settings.DEFAULT_CURRENCY = "USD"
    settings.ORDER_NUMBER_OFFSET = 1000
    settings.PAYMENT_GATEWAYS = ["dummy", "tests.fake_gateway.FakeGateway"]


def complete(client, cart, payment=PAID) -> dict:
    data = client.execute(contract.operations("storefront/cart.graphql", "CheckoutComplete"),
                          {"token": str(cart.token), "payment": payment},
                          operation_name="CheckoutComplete")
    return data["checkoutComplete"]


def stocked(price: str = "10.00", stock: int = 10, **extra):
    return make_variant(product=make_product(), price=price, stock=stock, **extra)


def ready_cart(*, lines=None, coupon=None, user=None, email="guest@example.com"):
    """A cart that can be checked out: 10% tax, an address, a method."""
    make_tax_rate(country="US", rate="10")
    method = make_shipping_method(name="Ground", price="5.00")
    lines = lines if lines is not None else [(stocked("20.00"), 2), (stocked("3.50"), 1)]
    return make_cart(lines=lines, user=user, email=email, address=ADDRESS,
                     shipping_method=method, coupon=coupon)


def allocated(variant) -> int:
    return sum(Stock.objects.filter(variant=variant).values_list("quantity_allocated", flat=True))


def test_a_cart_becomes_a_paid_order(client, django_capture_on_commit_callbacks):
    coupon = make_coupon(code="TENOFF", discount_type="FIXED_AMOUNT", value=Decimal("10"))
    first, second = stocked("20.00", sku="ROSE-50"), stocked("3.50", sku="OUD-10")
    cart = ready_cart(lines=[(first, 2), (second, 1)], coupon=coupon)
    with django_capture_on_commit_callbacks(execute=True):
        answer = complete(client, cart)
    assert answer["errors"] == []
    order = Order.objects.get()
    assert answer["order"] == {
        "id": to_base64("Order", order.pk), "number": str(order.pk + 1000),
        "token": str(order.token), "status": "PROCESSING", "paymentStatus": "PAID",
        "total": {"amount": "42.35", "currency": "USD"}}
    payment = Payment.objects.get()
    assert answer["payment"] == {"id": to_base64("Payment", payment.pk), "gateway": "dummy",
                                 "status": "SUCCEEDED", "clientSecret": None}

    # The snapshot: 43.50 of lines, 10.00 off pro rata (9.19 and 0.80 rounded
    # down, the cent left over on the larger line), 5.00 of shipping, 10% tax on
    # 30.80, 2.70 and 5.00: 3.08 + 0.27 + 0.50.
    assert (order.subtotal, order.discount, order.shipping_price, order.tax, order.total) == (
        Decimal("43.50"), Decimal("10.00"), Decimal("5.00"), Decimal("3.85"), Decimal("42.35"))
    assert (order.email, order.cart_token, order.coupon_code, order.shipping_method_name) == (
        "guest@example.com", cart.token, "TENOFF", "Ground")
    assert (order.shipping_first_name, order.shipping_city, order.shipping_country) == (
        "Ada", "New York", "US")
    assert [(line.product_name, line.sku, line.quantity, line.unit_price, line.discount,
             line.total, line.tax, line.tax_rate) for line in order.lines.all()] == [
        (first.product.name, "ROSE-50", 2, Decimal("20.00"), Decimal("9.20"), Decimal("30.80"),
         Decimal("3.08"), Decimal("0.1000")),
        (second.product.name, "OUD-10", 1, Decimal("3.50"), Decimal("0.80"), Decimal("2.70"),
         Decimal("0.27"), Decimal("0.1000")),
    ]
    assert sum(line.tax for line in order.lines.all()) + Decimal("0.50") == order.tax
    assert list(order.events.values_list("type", flat=True)) == [OrderEvent.Type.PLACED,
                                                                 OrderEvent.Type.PAID]
    # Stock promised to the order, the coupon's use counted, the cart closed.
    assert (allocated(first), allocated(second)) == (2, 1)
    assert set(StockMovement.objects.filter(kind="allocation")
               .values_list("reference", flat=True)) == {f"order:{order.number}"}
    assert CouponUse.objects.get().order_id == order.pk
    cart.refresh_from_db()
    assert cart.state == CartState.COMPLETED
    assert payment.idempotency_key.startswith(f"checkout:{cart.token}:")
    assert set(OutboxEvent.objects.values_list("type", flat=True)) >= {"OrderPlaced",
                                                                       "OrderChanged"}


def test_a_declined_payment_changes_nothing(client):
    coupon = make_coupon(code="ONCE", usage_limit=1)
    variant = stocked()
    cart = ready_cart(lines=[(variant, 2)], coupon=coupon)
    events_before = OutboxEvent.objects.count()
    answer = complete(client, cart, DECLINED)
    assert problems(answer) == [("payment", "PAYMENT_DECLINED")]
    assert answer["errors"][0]["message"] == "The card was declined."
    assert answer["order"] is None and answer["payment"] is None
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert allocated(variant) == 0 and not StockMovement.objects.filter(kind="allocation")
    assert not CouponUse.objects.exists()
    assert OutboxEvent.objects.count() == events_before
    cart.refresh_from_db()
    assert cart.state == CartState.ACTIVE
    # Another card then goes through.
    assert complete(client, cart)["order"]["paymentStatus"] == "PAID"


def test_the_same_cart_completed_twice_gives_one_order(client):
    cart = ready_cart()
    first = complete(client, cart)
    again = complete(client, cart)
    assert again["errors"] == [] and again == first
    with_another_card = complete(client, cart, DECLINED)
    assert with_another_card == first
    assert Order.objects.count() == 1 and Payment.objects.count() == 1


def test_a_customers_cart_makes_their_order_and_is_theirs_alone(customer, customer_client):
    cart = ready_cart(user=customer, email=customer.email)
    stranger = client_for(make_user())
    answer = complete(stranger, cart)
    assert problems(answer) == [("token", "NOT_FOUND")] and not Order.objects.exists()
    answer = complete(customer_client, cart)
    assert Order.objects.get().user == customer
    assert answer["order"]["status"] == "PROCESSING"
    # Completed, the token answers its order to its owner only.
    assert problems(complete(stranger, cart)) == [("token", "NOT_FOUND")]


def test_a_signed_in_customer_checking_out_a_guest_cart_owns_the_order(customer,
                                                                      customer_client):
    complete(customer_client, ready_cart())
    assert Order.objects.get().user == customer


def test_missing_details_are_each_named(client):
    cart = make_cart(lines=[(stocked(), 1)], email="")
    answer = complete(client, cart)
    assert problems(answer) == [("email", "REQUIRED"), ("shippingAddress", "REQUIRED"),
                                ("shippingMethod", "REQUIRED")]
    assert problems(complete(client, make_cart(address=ADDRESS))) == [("lines", "INVALID")]
    assert not Order.objects.exists()


def test_stock_that_fell_short_names_the_line_and_nothing_is_written(client, staff):
    plenty, scarce = stocked(stock=10), stocked(stock=5)
    cart = ready_cart(lines=[(plenty, 1), (scarce, 4)])
    inventory.stock_adjust(actor=staff, variant=scarce, delta=-2, reason="breakage")
    answer = complete(client, cart)
    assert problems(answer) == [("lines.1", "INSUFFICIENT_STOCK")]
    assert not Order.objects.exists() and allocated(plenty) == 0
    assert cart.lines.get(variant=scarce).quantity == 4  # never lowered for the customer


def test_what_blocks_a_checkout(client, staff):
    from apps.catalog import services as catalog
    from apps.discounts import services as discounts

    coupon = make_coupon(code="GONE")
    off_sale = stocked()
    cart = ready_cart(lines=[(stocked(), 1), (off_sale, 1)], coupon=coupon)
    catalog.product_unpublish(actor=staff, product=off_sale.product)
    discounts.coupon_update(actor=staff, coupon=coupon, is_active=False)
    cart.shipping_country = "FR"
    cart.save()
    answer = complete(client, cart)
    assert problems(answer) == [("lines.1", "INVALID"), ("coupon", "INVALID_COUPON"),
                                ("shippingMethod", "INVALID")]
    assert not Order.objects.exists()


def test_a_coupon_used_up_meanwhile_is_refused_at_the_lock(client, monkeypatch):
    """The coupon's limit is counted again under its lock (coupon_use_record):
    a use taken after the cart was priced is INVALID_COUPON. (Here the other
    use is made inside the checkout's transaction, so it goes with it.)"""
    from apps.checkout.services import complete as module
    from apps.discounts.services import coupon_use_record

    coupon = make_coupon(code="LAST", usage_limit=1)
    cart = ready_cart(coupon=coupon)
    place = module.order_place

    def meanwhile(**kwargs):
        coupon_use_record(coupon=coupon, order_id=999_999, email="first@example.com")
        return place(**kwargs)

    monkeypatch.setattr(module, "order_place", meanwhile)
    answer = complete(client, cart)
    assert problems(answer) == [("coupon", "INVALID_COUPON")]
    assert not Order.objects.exists() and not CouponUse.objects.exists()


@pytest.mark.parametrize(("payment", "field"), [
    ({"gateway": "nope", "token": "success"}, "payment.gateway"),
    ({"gateway": "dummy", "token": "anything"}, "payment.token"),
])
def test_a_payment_the_gateways_cannot_take_is_invalid(client, payment, field):
    answer = complete(client, ready_cart(), payment)
    assert problems(answer) == [(field, "INVALID")] and not Order.objects.exists()


def test_a_gateway_that_waits_for_the_customer_leaves_the_order_pending(client):
    answer = complete(client, ready_cart(), {"gateway": "fake", "token": "pm_card"})
    assert answer["errors"] == []
    assert (answer["order"]["status"], answer["order"]["paymentStatus"]) == ("PENDING",
                                                                           "PENDING")
    assert answer["payment"]["status"] == "PENDING"
    assert answer["payment"]["clientSecret"].endswith("_secret")
    assert Payment.objects.get().client_secret == answer["payment"]["clientSecret"]


def test_an_order_with_nothing_to_pay_is_paid_without_the_gateway(client):
    make_shipping_method(name="Free", price="0.00")
    coupon = make_coupon(code="ALL", discount_type="PERCENTAGE", value=Decimal(100))
    cart = ready_cart(coupon=coupon)
    cart.shipping_method = make_shipping_method(name="Pickup", price="0.00")
    cart.save()
    answer = complete(client, cart, {"gateway": "dummy", "token": "decline"})
    assert answer["errors"] == []
    assert answer["order"]["total"]["amount"] == "0.00"
    assert answer["order"]["paymentStatus"] == "PAID"


def test_a_merged_cart_cannot_be_checked_out(client):
    cart = ready_cart()
    cart.state = CartState.ABANDONED
    cart.save()
    assert problems(complete(client, cart)) == [("token", "INVALID")]


# --- stock_allocate_many ----------------------------------------------------------------------


def test_allocating_many_is_all_or_nothing_and_names_every_short_line():
    plenty, short, empty = stocked(stock=10), stocked(stock=1), stocked(stock=0)
    with pytest.raises(ServiceError) as refused:
        inventory.stock_allocate_many(lines=[(plenty, 3), (short, 2), (empty, 1)],
                                      reference="order:1")
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("lines.1", ErrorCode.INSUFFICIENT_STOCK), ("lines.2", ErrorCode.INSUFFICIENT_STOCK)]
    assert allocated(plenty) == 0


def test_allocating_many_takes_the_default_warehouse_first_and_adds_up_a_variant():
    variant = stocked(stock=2)
    make_stock(variant=variant, quantity_on_hand=5, warehouse=make_warehouse())
    inventory.stock_allocate_many(lines=[(variant, 3), (variant, 1)], reference="order:7")
    rows = list(Stock.objects.filter(variant=variant).order_by("-warehouse__is_default")
                .values_list("quantity_allocated", flat=True))
    assert rows == [2, 2]
    assert inventory.stock_allocate_many(lines=[]) is None


# --- Concurrency (PostgreSQL: real row locks) ------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db")
def test_the_same_cart_completed_at_once_makes_one_order():
    variant = stocked(stock=3)
    cart = ready_cart(lines=[(variant, 2)])

    def checkout(index: int):
        return services.checkout_complete(user=None, token=cart.token, gateway="dummy",
                                          payment_token="success")

    results = in_threads(4, checkout)
    assert all(isinstance(result, services.Checkout) for result in results), results
    assert len({result.order.pk for result in results}) == 1
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert allocated(variant) == 2


def test_a_token_that_names_no_cart_is_not_found(client):
    cart = make_cart()
    cart.token = uuid.uuid4()
    assert problems(complete(client, cart)) == [("token", "NOT_FOUND")]
