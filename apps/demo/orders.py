"""Demo orders: the demo customers' past orders, in the states the order desk
deals with, so that salesReport, verified reviews and the desk have
something to show on a fresh `make run`.

Unlike the catalog (apps.demo.seed), orders are written only through the
services a shop runs on: a cart is made, given an address, a shipping
method and now and then a coupon, checked out with the dummy gateway, and
the order then fulfilled, delivered, refunded or cancelled through the order
services. So stock is allocated and released, coupon uses are counted and
given back, and every order has its payments, refunds and history, exactly
as a real one would. That costs about a tenth of a second an order (the
services' hundred queries or so, and the dispatch of their events after the
commit), which is why the default stops at DEFAULT_MAX_ORDERS.

Everything about an order is drawn from the seed's rng, after what the
catalog drew (who orders, what and how many, where to, how it ships, with
which coupon, how long ago, what became of it), so the same seed on the same
catalog gives the same orders; on a fresh database their numbers too (a
number is the row's id plus ORDER_NUMBER_OFFSET).

The services stamp everything with the present; the orders are spread over
the last DAYS days afterwards, by apps.demo.backdating (for demo data only).
"""

import enum
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import Review
from apps.checkout import services as checkout
from apps.checkout.pricing import price_cart
from apps.checkout.selectors import variants_on_sale
from apps.core.errors import ServiceError
from apps.demo.backdating import backdate
from apps.discounts.models import Coupon
from apps.inventory.selectors import quantity_available_by_variant
from apps.orders.models import Order, OrderEvent
from apps.orders.services.cancellation import order_admin_cancel, order_cancel
from apps.orders.services.fulfilment import order_fulfil, order_mark_delivered
from apps.orders.services.refunds import order_refund
from apps.payments.gateways.dummy import SUCCESS
from apps.payments.registry import enabled_gateways
from apps.reviews.selectors import bought_lines

# About this many orders per demo customer, and no more than DEFAULT_MAX_ORDERS
# in all, unless asked for a number.
PER_CUSTOMER = 2
DEFAULT_MAX_ORDERS = 100
# Orders are placed within the last DAYS days (the newest an hour ago, the
# oldest a day and a half short of DAYS, so a report of the last DAYS days
# holds them all whatever the time zone).
DAYS = 60
GATEWAY = "dummy"

Step = OrderEvent.Type


@dataclass(frozen=True)
class Place:
    country: str
    country_area: str
    city: str
    postal_code: str
    street: str
    number_first: bool = True  # "221 Baker Street", not "Damrak 221"


# Where the demo customers live: the countries of apps.demo.shipping, the
# United States by state (sales tax goes by state; Oregon has none), with
# how often each one orders.
PLACES: list[tuple[Place, int]] = [
    (Place("US", "CA", "Los Angeles", "90012", "Spring Street"), 12),
    (Place("US", "NY", "New York", "10001", "West 34th Street"), 10),
    (Place("US", "TX", "Austin", "78701", "Congress Avenue"), 6),
    (Place("US", "IL", "Chicago", "60601", "Michigan Avenue"), 6),
    (Place("US", "WA", "Seattle", "98101", "Pike Street"), 5),
    (Place("US", "OR", "Portland", "97205", "Alder Street"), 4),
    (Place("CA", "ON", "Toronto", "M5V 2T6", "King Street West"), 6),
    (Place("GB", "", "London", "NW1 6XE", "Baker Street"), 9),
    (Place("GB", "", "Manchester", "M3 2BW", "Deansgate"), 4),
    (Place("DE", "", "Berlin", "10115", "Invalidenstraße", number_first=False), 6),
    (Place("DE", "", "München", "80331", "Kaufingerstraße", number_first=False), 4),
    (Place("FR", "", "Paris", "75001", "rue de Rivoli"), 7),
    (Place("NL", "", "Amsterdam", "1012 LG", "Damrak", number_first=False), 5),
    (Place("IE", "", "Dublin", "D02 VF25", "Grafton Street"), 4),
    (Place("ES", "", "Madrid", "28013", "Gran Vía", number_first=False), 5),
    (Place("IT", "", "Roma", "00186", "Via del Corso", number_first=False), 5),
]


class Fate(enum.Enum):
    """What became of an order."""

    TO_FULFIL = "paid, waiting to be shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    PART_REFUNDED = "delivered, part of it refunded"
    RETURNED = "delivered, returned and refunded in full"
    CANCELLED_BY_CUSTOMER = "cancelled by the customer"
    CANCELLED_BY_SHOP = "cancelled by the shop"


def fate_weights(days: float) -> dict[Fate, int]:
    """How orders placed `days` ago have ended up: the recent ones are still
    to ship, the old ones delivered."""
    if days < 2:
        return {Fate.TO_FULFIL: 85, Fate.CANCELLED_BY_CUSTOMER: 10, Fate.CANCELLED_BY_SHOP: 5}
    if days < 7:
        return {Fate.TO_FULFIL: 25, Fate.SHIPPED: 45, Fate.DELIVERED: 20,
                Fate.CANCELLED_BY_CUSTOMER: 5, Fate.CANCELLED_BY_SHOP: 5}
    return {Fate.SHIPPED: 5, Fate.DELIVERED: 70, Fate.PART_REFUNDED: 8, Fate.RETURNED: 7,
            Fate.CANCELLED_BY_CUSTOMER: 5, Fate.CANCELLED_BY_SHOP: 5}


SHOP_CANCEL_REASONS = [
    "The customer asked us by phone to cancel.",
    "The address could not be confirmed with the customer.",
    "Damaged in the warehouse; the customer chose a refund.",
]
PART_REFUND_REASONS = [
    "A bottle arrived leaking: refunded in part.",
    "Delivered late: a goodwill refund.",
    "The box arrived crushed: refunded in part.",
]
RETURN_REASON = "Returned unopened within 30 days."


@dataclass
class Plan:
    """One order, as drawn before anything is written."""

    customer: User
    placed_at: datetime
    fate: Fate
    lines: list[tuple[int, int]]  # variant id, quantity
    address: dict[str, str]
    express: bool
    coupon_code: str | None
    note: str  # a cancellation's or a refund's reason
    tracking_number: str
    refund_share: Decimal  # of the total, for PART_REFUNDED
    # When each step of its life happened, by the event it leaves.
    moments: dict[Step, datetime] = field(default_factory=dict)


@dataclass
class Shelf:
    """What the demo orders can take: the variants on sale with stock, per
    product in id order, and how many of each are still free. Planning
    takes from it, so no order can find its stock taken by another."""

    variants: dict[int, list[int]]  # product id -> variant ids
    available: dict[int, int]
    # The products with a variant in stock, made again only when a variant
    # sells out (a large catalog has hundreds of thousands).
    in_stock: list[int] | None = None

    @property
    def products(self) -> list[int]:
        if self.in_stock is None:
            self.in_stock = [product for product, variants in self.variants.items()
                             if any(self.available[v] > 0 for v in variants)]
        return self.in_stock

    def take(self, variant: int, quantity: int) -> None:
        self.available[variant] -= quantity
        if self.available[variant] <= 0:
            self.in_stock = None

    def pick(self, rng: random.Random, product: int) -> int | None:
        in_stock = [v for v in self.variants.get(product, []) if self.available[v] > 0]
        return rng.choice(in_stock) if in_stock else None


def default_order_count(customers: int) -> int:
    return min(DEFAULT_MAX_ORDERS, PER_CUSTOMER * customers)


def seed_orders(rng: random.Random, *, customers: Sequence[User], product_ids: Sequence[int],
                count: int, wishes: Mapping[int, Sequence[int]] | None = None) -> tuple[int, str]:
    """Place `count` demo orders of these products for these customers; how
    many were placed, and why none were when none were. `wishes` are the
    products each customer (by id) means to buy first, in order (the seed
    drew them with the reviews). Call it inside the seeding transaction: an
    order that fails takes the others with it."""
    if count <= 0 or not customers:
        return 0, "no orders were asked for"
    if Order.objects.filter(user__in=customers).exists():
        return 0, "the demo customers have orders already"
    if GATEWAY not in {gateway.id for gateway in enabled_gateways()}:
        return 0, f'the "{GATEWAY}" payment gateway is not enabled (PAYMENT_GATEWAYS)'
    shelf = _shelf(product_ids)
    if not shelf.products:
        return 0, "nothing is in stock"
    now = timezone.now()
    plans = _plans(rng, customers=customers, shelf=shelf, count=count, now=now,
                   wishes=wishes or {})
    placed = [(_follow(_place(plan), plan), plan) for plan in plans]
    backdate([(order, plan.moments) for order, plan in placed])
    return len(placed), ""


def reviews_verify(*, product_ids: Sequence[int]) -> int:
    """Make the reviews of these products verified exactly when their
    authors bought them, by the rule of apps.reviews (one bulk UPDATE, for
    demo data: reviewCreate decides it once, when a review is written).
    How many are verified."""
    reviews = Review.objects.filter(product_id__in=product_ids)
    bought = Exists(bought_lines().filter(product_id=OuterRef("product_id"),
                                          order__user_id=OuterRef("user_id")))
    # Only the rows that change: a large catalog has hundreds of thousands
    # of reviews and a hundred orders.
    reviews.filter(verified_purchase=True).exclude(bought).update(verified_purchase=False)
    buyers = bought_lines().filter(product_id__in=product_ids).values("order__user_id")
    reviews.filter(verified_purchase=False, user_id__in=buyers).filter(bought).update(
        verified_purchase=True)
    return reviews.filter(verified_purchase=True).count()


# --- Planning --------------------------------------------------------------------------------


def _shelf(product_ids: Sequence[int]) -> Shelf:
    rows = list(variants_on_sale().filter(product_id__in=product_ids).order_by("pk")
                .values_list("pk", "product_id"))
    variants: dict[int, list[int]] = {}
    for variant, product in rows:
        variants.setdefault(product, []).append(variant)
    return Shelf(variants=dict(sorted(variants.items())),
                 available=quantity_available_by_variant(variant_ids=[pk for pk, _ in rows]))


def _plans(rng: random.Random, *, customers: Sequence[User], shelf: Shelf, count: int,
           now: datetime, wishes: Mapping[int, Sequence[int]]) -> list[Plan]:
    """Every order drawn, oldest first, so that numbers follow time. Each
    buyer orders first what they reviewed as bought (apps.demo.seed drew
    that flag), so most of those reviews stay verified."""
    buyers = list(customers[:max(1, math.ceil(count / PER_CUSTOMER))])
    wanted = {buyer.pk: [p for p in wishes.get(buyer.pk, ()) if p in shelf.variants]
              for buyer in buyers}
    coupons = list(Coupon.objects.filter(is_active=True)
                   .exclude(valid_until__lte=now).exclude(valid_from__gt=now)
                   .order_by("code").values_list("code", flat=True))
    places, weights = zip(*PLACES)
    plans = []
    for index in range(count):
        customer = buyers[index % len(buyers)]
        lines = _lines(rng, wanted.setdefault(customer.pk, []), shelf)
        # A growing shop: fewer orders the further back, linearly (two in
        # five are from the last fortnight).
        days = 1 / 24 + (DAYS - 1.5 - 1 / 24) * (1 - math.sqrt(rng.random()))
        fate = _draw(rng, fate_weights(days))
        place = rng.choices(places, weights=weights)[0]
        number = rng.randint(1, 240)
        plan = Plan(
            customer=customer, placed_at=now - timedelta(days=days), fate=fate, lines=lines,
            address=_address(customer, place, number),
            express=rng.random() < 0.15,
            coupon_code=rng.choice(coupons) if coupons and rng.random() < 0.2 else None,
            note=rng.choice(SHOP_CANCEL_REASONS if fate is Fate.CANCELLED_BY_SHOP
                            else PART_REFUND_REASONS),
            tracking_number=f"1Z{rng.randrange(10**12):012d}",
            refund_share=Decimal(rng.choice((10, 15, 20, 25, 30))) / 100,
        )
        plan.moments = _moments(rng, plan, now)
        if lines:
            plans.append(plan)
    return sorted(plans, key=lambda plan: plan.placed_at)


def _lines(rng: random.Random, wanted: list[int], shelf: Shelf) -> list[tuple[int, int]]:
    """One to three lines: the products the buyer still wants first, then
    any others; each taken off the shelf."""
    size = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
    lines: dict[int, int] = {}
    for _ in range(size * 3):  # a few tries: a product may be sold out
        if len(lines) == size:
            break
        products = shelf.products
        if not products:
            break
        product = wanted.pop(0) if wanted else rng.choice(products)
        variant = shelf.pick(rng, product)
        if variant is None or variant in lines:
            continue
        quantity = min(rng.choices((1, 2), weights=(85, 15))[0], shelf.available[variant])
        shelf.take(variant, quantity)
        lines[variant] = quantity
    return list(lines.items())


def _draw(rng: random.Random, weights: Mapping[Fate, int]) -> Fate:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _address(customer: User, place: Place, number: int) -> dict[str, str]:
    street = f"{number} {place.street}" if place.number_first else f"{place.street} {number}"
    return {"first_name": customer.first_name, "last_name": customer.last_name,
            "street_address_1": street, "city": place.city, "postal_code": place.postal_code,
            "country_area": place.country_area, "country": place.country}


def _moments(rng: random.Random, plan: Plan, now: datetime) -> dict[Step, datetime]:
    """When each step of the order's life happened: each a while after the
    one before, all before now."""

    def later(after: datetime, most: timedelta) -> datetime:
        return after + min(now - after, most) * rng.uniform(0.2, 0.9)

    placed = plan.placed_at
    moments = {Step.PLACED: placed, Step.PAID: placed}
    if plan.fate in (Fate.CANCELLED_BY_CUSTOMER, Fate.CANCELLED_BY_SHOP):
        # A paid order is refunded in full as it is cancelled.
        moments[Step.CANCELLED] = moments[Step.REFUNDED] = later(placed, timedelta(hours=20))
        return moments
    if plan.fate is Fate.TO_FULFIL:
        return moments
    moments[Step.FULFILLED] = later(placed, timedelta(days=2))
    if plan.fate is Fate.SHIPPED:
        return moments
    moments[Step.DELIVERED] = later(moments[Step.FULFILLED], timedelta(days=4))
    if plan.fate in (Fate.PART_REFUNDED, Fate.RETURNED):
        moments[Step.REFUNDED] = later(moments[Step.DELIVERED], timedelta(days=14))
    return moments


# --- Writing, through the services -------------------------------------------------------------


def _place(plan: Plan) -> Order:
    """The buyer's cart, checked out: the path of storefront/cart.graphql."""
    customer = plan.customer
    cart = checkout.cart_create(user=customer, lines=plan.lines)
    cart = checkout.cart_shipping_address_update(user=customer, token=cart.token,
                                                 address=plan.address)
    quotes = price_cart(cart=cart).shipping_methods  # cheapest first
    if not quotes:
        raise ServiceError(f"No shipping method serves {plan.address['country']}; "
                           "apps.demo.shipping makes the zones the demo orders need.")
    quote = quotes[-1] if plan.express else quotes[0]
    checkout.cart_shipping_method_update(user=customer, token=cart.token,
                                         method_id=quote.method.pk)
    if plan.coupon_code:
        try:
            checkout.cart_coupon_apply(user=customer, token=cart.token, code=plan.coupon_code)
        except ServiceError:
            pass  # not for this cart (its minimum, its scope, a use already made): none
    return checkout.checkout_complete(user=customer, token=cart.token, gateway=GATEWAY,
                                      payment_token=SUCCESS).order


def _follow(order: Order, plan: Plan) -> Order:
    """Take the order to its fate through the order desk's services."""
    if plan.fate is Fate.CANCELLED_BY_CUSTOMER:
        return order_cancel(order=order, actor=plan.customer)
    if plan.fate is Fate.CANCELLED_BY_SHOP:
        return order_admin_cancel(order=order, actor=None, reason=plan.note)
    if Step.FULFILLED in plan.moments:
        order = order_fulfil(order=order, actor=None, tracking_number=plan.tracking_number)
    if Step.DELIVERED in plan.moments:
        order = order_mark_delivered(order=order, actor=None)
    if Step.REFUNDED in plan.moments and order.total > 0:
        if plan.fate is Fate.RETURNED:
            return order_refund(order=order, actor=None, reason=RETURN_REASON)
        share = (order.money(order.total) * plan.refund_share).rounded().amount
        order = order_refund(order=order, actor=None, amount=max(share, Decimal("0.01")),
                             reason=plan.note)
    return order
