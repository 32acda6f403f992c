"""Reads of shipping: which methods serve a destination and parcel, and who
sees zones. The checkout calls `shipping_methods_for` to offer methods and
`shipping_method_serves` to refuse a method that no longer serves the cart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from apps.accounts.permissions import Perm, staff_has_perm
from apps.core.money import Money
from apps.shipping.models import ShippingMethod, ShippingZone


@dataclass(frozen=True)
class ShippingQuote:
    """A method that serves a cart, with its price for that cart."""

    method: ShippingMethod
    price: Money


def shipping_zones_visible_to(
    *, user: Any, queryset: QuerySet[ShippingZone] | None = None
) -> QuerySet[ShippingZone]:
    """Zones are the shop's set-up: staff with MANAGE_SHIPPING see them all;
    to anyone else none exist."""
    queryset = ShippingZone.objects.all() if queryset is None else queryset
    return queryset if staff_has_perm(user, Perm.MANAGE_SHIPPING) else queryset.none()


def shipping_methods_visible_to(
    *, user: Any, queryset: QuerySet[ShippingMethod] | None = None
) -> QuerySet[ShippingMethod]:
    """Methods, their names and prices, are what a shopper picks from at
    checkout: everyone sees them."""
    return ShippingMethod.objects.all() if queryset is None else queryset


def _serving(queryset: QuerySet[ShippingMethod], *, country: str,
             weight_grams: int) -> QuerySet[ShippingMethod]:
    """The one rule of which methods serve a parcel: its zone holds the
    country and the weight is within the method's limits (both included)."""
    return queryset.filter(
        Q(min_weight_grams__isnull=True) | Q(min_weight_grams__lte=weight_grams),
        Q(max_weight_grams__isnull=True) | Q(max_weight_grams__gte=weight_grams),
        zone__countries__country=country.upper(),
    )


def shipping_methods_for(*, country: str, subtotal: Money,
                         weight_grams: int) -> list[ShippingQuote]:
    """The methods that ship `weight_grams` to `country`, cheapest first for
    a cart of `subtotal` (a free one above its threshold). One query."""
    methods = _serving(ShippingMethod.objects.select_related("zone"), country=country,
                       weight_grams=weight_grams)
    quotes = [ShippingQuote(method=method, price=method.price_for(subtotal)) for method in methods]
    return sorted(quotes, key=lambda quote: (quote.price.amount, quote.method.name,
                                              quote.method.pk))


def shipping_method_serves(*, method: ShippingMethod, country: str, weight_grams: int) -> bool:
    """Whether `method` still ships this parcel to `country` (the address or
    the cart changed since it was chosen, or staff changed the method)."""
    return _serving(ShippingMethod.objects.filter(pk=method.pk), country=country,
                    weight_grams=weight_grams).exists()
