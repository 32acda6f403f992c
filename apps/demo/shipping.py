"""Demo shipping zones and methods, and tax rates, for the countries the demo
orders ship to. Written through the shipping and taxes services; a zone or a
rate already there is left alone, so seeding twice changes nothing."""

from decimal import Decimal

from apps.shipping import services as shipping
from apps.shipping.models import ShippingZone
from apps.taxes import services as taxes
from apps.taxes.models import TaxRate

# (zone, countries, [(method, price, free above, max weight in grams)])
ZONES: list[tuple[str, list[str], list[tuple[str, str, str | None, int | None]]]] = [
    ("United States", ["US"], [
        ("Standard", "5.99", "75.00", None),
        ("Express", "14.99", None, 20_000),
    ]),
    ("Canada", ["CA"], [("Standard", "9.99", "100.00", None)]),
    ("Europe", ["GB", "DE", "FR", "NL", "IE", "ES", "IT"], [
        ("Standard", "8.99", "90.00", None),
        ("Express", "24.99", None, 20_000),
    ]),
]

# (country, region, percent): US sales tax goes by state; the others are
# the standard VAT or GST rates.
RATES: list[tuple[str, str, str]] = [
    ("US", "CA", "7.25"), ("US", "NY", "4.00"), ("US", "TX", "6.25"), ("US", "IL", "6.25"),
    ("US", "WA", "6.50"),
    ("CA", "", "5.00"),
    ("GB", "", "20.00"), ("DE", "", "19.00"), ("FR", "", "20.00"), ("NL", "", "21.00"),
    ("IE", "", "23.00"), ("ES", "", "21.00"), ("IT", "", "22.00"),
]


def seed_shipping_and_tax() -> tuple[int, int]:
    """The demo zones (with their methods) and rates that were missing; how
    many of each were made."""
    zones = 0
    for name, countries, methods in ZONES:
        if ShippingZone.objects.filter(name=name).exists():
            continue
        zone = shipping.shipping_zone_create(actor=None, name=name, countries=countries)
        for method, price, free_above, max_weight in methods:
            extra: dict[str, object] = {}
            if free_above is not None:
                extra["free_above"] = Decimal(free_above)
            if max_weight is not None:
                extra["max_weight_grams"] = max_weight
            shipping.shipping_method_create(actor=None, zone=zone, name=method,
                                            price=Decimal(price), **extra)
        zones += 1
    rates = 0
    for country, region, percent in RATES:
        if TaxRate.objects.filter(country=country, country_area=region,
                                  category__isnull=True).exists():
            continue
        taxes.tax_rate_create(actor=None, country=country, country_area=region,
                              rate=Decimal(percent))
        rates += 1
    return zones, rates
