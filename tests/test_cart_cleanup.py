"""Guest carts nobody touched for CART_ABANDON_AFTER_DAYS are deleted by a
daily beat task (apps.checkout.services.cleanup), with a clock that moves."""

from datetime import timedelta

import pytest
from django.conf import settings
from strawberry.relay import to_base64

from apps.checkout import tasks
from apps.checkout.models import Cart, CartLine
from commerce.celery import app
from tests import contract
from tests.conftest import make_user
from tests.factories import make_cart, make_product, make_variant

pytestmark = pytest.mark.django_db


def cart_of(client, cart) -> dict | None:
    data = client.execute(contract.operations("storefront/cart.graphql", "Cart"),
                          {"token": str(cart.token)}, operation_name="Cart")
    return data["cart"]


def test_stale_guest_carts_are_deleted_and_the_rest_kept(client, settings, time_machine):
    settings.CART_ABANDON_AFTER_DAYS = 30
    time_machine.move_to("2026-03-01 12:00:00+00:00", tick=False)
    variant = make_variant(product=make_product(), stock=5)
    stale = make_cart(lines=[(variant, 2)])
    merged = make_cart(state="ABANDONED")
    checked_out = make_cart(state="COMPLETED")
    customers = make_cart(user=make_user(), email=None)
    time_machine.shift(timedelta(days=2))
    touched = make_cart(lines=[(variant, 1)])

    time_machine.shift(timedelta(days=29))  # 31 days after the first carts, 29 after `touched`
    assert cart_of(client, stale) is not None
    assert tasks.delete_stale_guest_carts.delay().get() == 2
    assert set(Cart.objects.values_list("pk", flat=True)) == {
        checked_out.pk, customers.pk, touched.pk}
    assert list(CartLine.objects.values_list("cart_id", flat=True)) == [touched.pk]
    assert cart_of(client, stale) is None  # the storefront makes a new one
    assert cart_of(client, merged) is None

    time_machine.shift(timedelta(days=1, seconds=1))
    assert tasks.delete_stale_guest_carts.delay().get() == 1
    assert tasks.delete_stale_guest_carts.delay().get() == 0  # nothing twice


def test_a_change_keeps_a_guest_cart(client, settings, time_machine):
    settings.CART_ABANDON_AFTER_DAYS = 7
    time_machine.move_to("2026-03-01 12:00:00+00:00", tick=False)
    variant = make_variant(product=make_product(), stock=5)
    cart = make_cart()
    time_machine.shift(timedelta(days=6))
    added = client.execute(contract.operations("storefront/cart.graphql", "CartLinesAdd"), {
        "token": str(cart.token),
        "lines": [{"variantId": to_base64("ProductVariant", variant.pk), "quantity": 1}]},
        operation_name="CartLinesAdd")["cartLinesAdd"]
    assert added["errors"] == []
    time_machine.shift(timedelta(days=6))
    assert tasks.delete_stale_guest_carts.delay().get() == 0
    time_machine.shift(timedelta(days=1, seconds=1))
    assert tasks.delete_stale_guest_carts.delay().get() == 1


def test_beat_cleans_up_carts_daily():
    entry = app.conf.beat_schedule["delete-stale-guest-carts"]
    assert entry == {"task": tasks.delete_stale_guest_carts.name,
                     "schedule": timedelta(hours=24)}
    assert settings.CART_ABANDON_AFTER_DAYS == 30
