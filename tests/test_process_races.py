"""Races between processes on PostgreSQL: real transactions from several
server-like processes at once (tests/concurrency.py::in_processes), for what
must hold whatever the concurrency: stock is never sold twice, a coupon is
never used past its limit, one cart makes one order, and checkouts that
lock the same stock rows never deadlock.

The carts are made in the test's process through the cart services and
committed (a transactional test); the racing processes only complete them,
through apps.checkout.services.checkout_complete, as checkoutComplete does.
"""

from collections import Counter

import pytest

from apps.accounts.models import User
from apps.catalog.models import ProductVariant
from apps.checkout import services as checkout
from apps.checkout.models import Cart, CartState
from apps.discounts.models import CouponUse
from apps.inventory import services as inventory
from apps.inventory.models import Stock
from apps.orders.models import Order, OrderLine, Payment
from tests.concurrency import in_processes
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import make_user
from tests.factories import (
    ADDRESS,
    make_coupon,
    make_product,
    make_shipping_method,
    make_stock,
    make_variant,
    make_warehouse,
)
from tests.racing import Raised

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.usefixtures("keeps_default_warehouse", "transactional_db"),
]

# What a lost race must never look like: the database gave up on a
# transaction (a deadlock, a serialization failure) instead of the service
# refusing it with a code.
BROKEN = {"OperationalError", "DeadlockDetected", "InternalError", "IntegrityError"}


# --- What the racing processes run ---------------------------------------------------


def allocate_one(index: int, variant_id: int) -> str:
    variant = ProductVariant.objects.get(pk=variant_id)
    inventory.stock_allocate(variant=variant, quantity=1, reference=f"race:{index}")
    return "taken"


def complete(token: str, user_id: int | None = None) -> str:
    """Check out a cart as its owner (a guest when `user_id` is None): the
    order's number."""
    user = User.objects.get(pk=user_id) if user_id is not None else None
    done = checkout.checkout_complete(user=user, token=token, gateway="dummy",
                                      payment_token="success")
    return done.order.number


def complete_mine(index: int, carts: list[tuple[str, int | None]]) -> str:
    """Each process its own cart: `carts[index]`, (token, owner's id)."""
    return complete(*carts[index])


def complete_the_same(index: int, token: str) -> str:
    return complete(token)


def complete_in_turn(index: int, rounds: list[list[str]]) -> list[str]:
    """Each process its own carts, one after another, as fast as it can."""
    return [complete(token) for token in rounds[index]]


# --- Helpers of the test's process ---------------------------------------------------


def ready_cart(lines: list[tuple[ProductVariant, int]], *, method, email: str,
               user: User | None = None, coupon: str | None = None) -> Cart:
    """A cart that can be checked out, made as the storefront makes one."""
    cart = checkout.cart_create(user=user, email=email,
                                lines=[(variant.pk, quantity) for variant, quantity in lines])
    checkout.cart_shipping_address_update(user=user, token=cart.token, address=ADDRESS)
    checkout.cart_shipping_method_update(user=user, token=cart.token, method_id=method.pk)
    if coupon is not None:
        checkout.cart_coupon_apply(user=user, token=cart.token, code=coupon)
    return cart


def outcomes(results: list) -> Counter:
    """"ordered" for each checkout that made its order, the code of each
    refusal; a process that broke fails the test here, with what it raised."""
    broken = [r for r in results if isinstance(r, Raised) and (r.type in BROKEN or not r.code)]
    assert not broken, broken
    return Counter(r.code if isinstance(r, Raised) else "ordered" for r in results)


def allocated(variant: ProductVariant) -> int:
    return sum(Stock.objects.filter(variant=variant).values_list("quantity_allocated", flat=True))


def sold(variant: ProductVariant) -> int:
    return sum(OrderLine.objects.filter(variant=variant).values_list("quantity", flat=True))


# --- The races -----------------------------------------------------------------------


def test_allocations_racing_for_the_last_units_take_exactly_those():
    item = make_variant(product=make_product(), stock=4, low_stock_threshold=0)

    results = in_processes(6, "tests.test_process_races:allocate_one", item.pk)
    assert results.count("taken") == 4
    refusals = [r for r in results if isinstance(r, Raised)]
    assert [r.code for r in refusals] == ["INSUFFICIENT_STOCK"] * 2
    assert Stock.objects.get(variant=item).quantity_allocated == 4


def test_checkouts_racing_for_the_last_units_sell_exactly_those():
    method = make_shipping_method()
    item = make_variant(product=make_product(), stock=5, low_stock_threshold=0)
    carts = [(str(ready_cart([(item, 1)], method=method, email=f"buyer{n}@example.com").token),
              None) for n in range(8)]

    results = in_processes(8, "tests.test_process_races:complete_mine", carts)
    assert outcomes(results) == {"ordered": 5, "INSUFFICIENT_STOCK": 3}, results
    numbers = {r for r in results if isinstance(r, str)}
    assert set(Order.objects.values_list("number", flat=True)) == numbers
    assert sold(item) == allocated(item) == 5
    assert Payment.objects.count() == 5
    assert Counter(Cart.objects.values_list("state", flat=True)) == {
        CartState.COMPLETED: 5, CartState.ACTIVE: 3}


def test_checkouts_locking_the_same_rows_in_opposite_orders_never_deadlock():
    """Cart lines x then y against y then x, round after round, with x in
    two warehouses: each checkout locks every row it allocates from at once,
    so were the rows locked in the order of the cart's lines, two of these
    would each hold a row the other waits for."""
    method = make_shipping_method()
    x = make_variant(product=make_product(), stock=30, low_stock_threshold=0)
    make_stock(variant=x, quantity_on_hand=100, warehouse=make_warehouse())
    y = make_variant(product=make_product(), stock=100, low_stock_threshold=0)
    processes, turns = 6, 8
    rounds = [
        [str(ready_cart([(x, 1), (y, 1)] if (index + turn) % 2 else [(y, 1), (x, 1)],
                        method=method, email=f"buyer{index}@example.com").token)
         for turn in range(turns)]
        for index in range(processes)
    ]

    results = in_processes(processes, "tests.test_process_races:complete_in_turn", rounds)
    outcomes(results)
    assert all(len(numbers) == turns for numbers in results), results
    assert Order.objects.count() == processes * turns
    assert sold(x) == allocated(x) == sold(y) == allocated(y) == processes * turns
    # x is taken from the default warehouse first, then from the other one.
    assert sorted(Stock.objects.filter(variant=x).values_list("quantity_allocated", flat=True)
                  ) == [18, 30]


def test_checkouts_racing_for_a_coupons_last_uses_take_exactly_the_limit():
    method = make_shipping_method()
    item = make_variant(product=make_product(), stock=50)
    coupon = make_coupon(usage_limit=2)
    carts = [(str(ready_cart([(item, 1)], method=method, email=f"buyer{n}@example.com",
                             coupon=coupon.code).token), None) for n in range(6)]

    results = in_processes(6, "tests.test_process_races:complete_mine", carts)
    assert outcomes(results) == {"ordered": 2, "INVALID_COUPON": 4}, results
    assert CouponUse.objects.filter(coupon=coupon).count() == 2
    assert Order.objects.filter(coupon=coupon).count() == Order.objects.count() == 2
    # A refused checkout changed nothing: its stock is not allocated.
    assert allocated(item) == 2


def test_one_customer_racing_themself_gets_the_per_customer_limit():
    """The customer's own cart, signed in, against guest carts given their
    email in other spellings: one customer, by account and email both."""
    method = make_shipping_method()
    item = make_variant(product=make_product(), stock=50)
    coupon = make_coupon(usage_limit=10, usage_limit_per_user=1)
    ada = make_user(email="ada@example.com")
    carts = [(str(ready_cart([(item, 1)], method=method, email="ada@example.com", user=ada,
                             coupon=coupon.code).token), ada.pk)]
    carts += [(str(ready_cart([(item, 1)], method=method, email=email,
                              coupon=coupon.code).token), None)
              for email in ["ada@example.com", "ADA@example.com", "Ada@Example.com",
                            " ada@EXAMPLE.com", "ada@example.COM"]]

    results = in_processes(6, "tests.test_process_races:complete_mine", carts)
    assert outcomes(results) == {"ordered": 1, "INVALID_COUPON": 5}, results
    assert CouponUse.objects.filter(coupon=coupon).count() == 1
    assert CouponUse.objects.get().email == "ada@example.com"
    assert Order.objects.count() == 1 and allocated(item) == 1


def test_the_same_cart_completed_from_several_processes_makes_one_order():
    method = make_shipping_method()
    item = make_variant(product=make_product(), stock=3)
    cart = ready_cart([(item, 2)], method=method, email="guest@example.com")

    results = in_processes(6, "tests.test_process_races:complete_the_same", str(cart.token))
    outcomes(results)
    order = Order.objects.get()
    assert results == [order.number] * 6
    assert Payment.objects.count() == 1
    assert sold(item) == allocated(item) == 2
    cart.refresh_from_db()
    assert cart.state == CartState.COMPLETED
