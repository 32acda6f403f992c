"""Card testing: declined checkoutComplete payments are counted per email
and per client address; over the limit, checkoutComplete answers THROTTLED
without asking the gateway, until the window has passed. Through the
endpoint (the contract's CheckoutComplete), from several addresses; the
window with time-machine (the cache's own expiry does not see a moved
clock, the throttle compares the times itself)."""

from datetime import UTC, datetime

import pytest

from apps.checkout.models import CartState
from apps.orders.models import Order, Payment
from apps.payments.gateways import dummy
from tests.conftest import Client, problems
from tests.fake_stripe import use_fake_stripe
from tests.factories import ADDRESS, make_cart, make_product, make_shipping_method, make_variant
from tests.test_checkout import DECLINED, PAID, complete

pytestmark = pytest.mark.django_db

WINDOW = 600


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.DEFAULT_COUNTRY = "US"
    settings.DEFAULT_CURRENCY = "USD"
    settings.CHECKOUT_DECLINE_LIMIT_EMAIL = 3
    settings.CHECKOUT_DECLINE_LIMIT_IP = 5
    settings.CHECKOUT_DECLINE_WINDOW = WINDOW


@pytest.fixture
def charges(monkeypatch) -> list[str]:
    """The tokens the dummy gateway was asked to charge, in order."""
    asked: list[str] = []
    charge = dummy.Gateway.charge

    def counted(self, **kwargs):
        asked.append(kwargs["token"])
        return charge(self, **kwargs)

    monkeypatch.setattr(dummy.Gateway, "charge", counted)
    return asked


@pytest.fixture
def cart_for(db):
    """A new cart ready to check out, for `email`."""
    variant = make_variant(product=make_product(), price="20.00", stock=100)
    method = make_shipping_method(name="Ground", price="5.00")
    return lambda email: make_cart(lines=[(variant, 1)], email=email, address=ADDRESS,
                                   shipping_method=method)


@pytest.fixture
def attempt(cart_for):
    """checkoutComplete of a new cart for `email`, from `address`."""
    return lambda email, address, payment=DECLINED: complete(Client(address=address),
                                                             cart_for(email), payment)


def test_declines_for_one_email_are_throttled_from_any_address(charges, attempt, cart_for):
    for i in range(3):
        assert problems(attempt("card.tester@example.com", f"203.0.113.{i}")) == [
            ("payment", "PAYMENT_DECLINED")]
    assert len(charges) == 3
    # The fourth, from yet another address and with a card that would pay:
    cart = cart_for("Card.Tester@Example.com")  # the same email, normalised
    answer = complete(Client(address="198.51.100.7"), cart, PAID)
    assert problems(answer) == [(None, "THROTTLED")]
    assert answer["errors"][0]["message"] == "Too many payments were declined. Try again later."
    assert answer["order"] is None and answer["payment"] is None
    assert len(charges) == 3  # the gateway was not asked
    assert not Order.objects.exists() and not Payment.objects.exists()
    cart.refresh_from_db()
    assert cart.state == CartState.ACTIVE
    # Another customer, from an address the tester used, is not held up.
    assert attempt("someone@example.com", "203.0.113.0", PAID)["errors"] == []


def test_declines_from_one_address_are_throttled_for_any_email(charges, attempt):
    for i in range(5):
        assert problems(attempt(f"tester{i}@example.com", "192.0.2.1")) == [
            ("payment", "PAYMENT_DECLINED")]
    assert problems(attempt("fresh@example.com", "192.0.2.1", PAID)) == [(None, "THROTTLED")]
    assert len(charges) == 5
    assert attempt("fresh@example.com", "192.0.2.2", PAID)["errors"] == []  # elsewhere


def test_only_declines_count(charges, attempt):
    for i in range(4):
        assert attempt("regular@example.com", f"192.0.2.{i}", PAID)["errors"] == []
    assert Order.objects.count() == 4


def test_the_throttle_ends_with_the_window(charges, time_machine, attempt):
    time_machine.move_to(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
    attempt("tester@example.com", "192.0.2.9")
    time_machine.shift(60)  # later declines do not move the window's end
    attempt("tester@example.com", "192.0.2.9")
    attempt("tester@example.com", "192.0.2.9")
    assert problems(attempt("tester@example.com", "192.0.2.10")) == [(None, "THROTTLED")]
    time_machine.shift(WINDOW - 61)
    assert problems(attempt("tester@example.com", "192.0.2.10")) == [(None, "THROTTLED")]
    time_machine.shift(1)  # the window that began with the first decline is over
    assert attempt("tester@example.com", "192.0.2.10", PAID)["errors"] == []
    assert len(charges) == 4


def test_stripe_is_not_asked_for_a_payment_intent_once_throttled(settings, charges, attempt):
    stripe_api = use_fake_stripe(settings)
    for _ in range(3):
        attempt("tester@example.com", "192.0.2.20")
    answer = attempt("tester@example.com", "192.0.2.21", {"gateway": "stripe", "token": ""})
    assert problems(answer) == [(None, "THROTTLED")]
    assert stripe_api.requests == [] and not Order.objects.exists()
