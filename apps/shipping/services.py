"""Shipping writes: zones with their countries, and their methods. Checked
with apps.core.validation; a country already in another zone is UNIQUE,
naming that zone, and the unique column backs the check against a
concurrent write."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import (
    Problems,
    clean_count,
    clean_country,
    clean_price,
    clean_text,
    decimal_limits,
    max_length,
    max_value,
    reject_unknown,
)
from apps.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry

ZONE_FIELDS = {"name", "countries"}
METHOD_FIELDS = {"name", "price", "free_above", "min_weight_grams", "max_weight_grams"}


# --- Zones -------------------------------------------------------------------------------------


def _clean_countries(problems: Problems, zone: ShippingZone, value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        problems.add("countries", "Must be a list of country codes.")
        return []
    codes: list[str] = []
    for index, item in enumerate(value):
        code = clean_country(problems, f"countries.{index}", item)
        if code in codes:
            problems.add(f"countries.{index}", f"{code} is given twice.", ErrorCode.UNIQUE)
        elif code:
            codes.append(code)
    taken = (ShippingZoneCountry.objects.filter(country__in=codes).exclude(zone_id=zone.pk)
             .select_related("zone"))
    for row in taken:
        problems.add(f"countries.{codes.index(row.country)}",
                     f"{row.country} is already in the zone {row.zone.name!r}; a country "
                     "ships from one zone.", ErrorCode.UNIQUE)
    return codes


def _set_countries(zone: ShippingZone, codes: Iterable[str]) -> None:
    wanted = set(codes)
    zone.countries.exclude(country__in=wanted).delete()
    have = set(zone.countries.values_list("country", flat=True))
    try:
        with transaction.atomic():
            ShippingZoneCountry.objects.bulk_create(
                ShippingZoneCountry(zone=zone, country=code) for code in sorted(wanted - have))
    except IntegrityError as error:
        raise ServiceError("A country was added to another zone at the same moment; try again.",
                           code=ErrorCode.UNIQUE, field="countries") from error


def _write_zone(zone: ShippingZone, fields: dict[str, Any]) -> ShippingZone:
    problems = Problems()
    if "name" in fields:
        zone.name = clean_text(problems, "name", fields["name"],
                               limit=max_length(ShippingZone, "name"), required=True)
    codes = _clean_countries(problems, zone, fields["countries"]) if "countries" in fields else None
    problems.raise_any()
    zone.save()
    if codes is not None:
        _set_countries(zone, codes)
    return zone


@transaction.atomic
def shipping_zone_create(*, actor: Any, name: str | None,
                         countries: list[str] | None = None) -> ShippingZone:
    """A zone: the countries its methods ship to, none of them in another zone."""
    return _write_zone(ShippingZone(), {"name": name, "countries": countries or []})


@transaction.atomic
def shipping_zone_update(*, actor: Any, zone: ShippingZone, **fields: Any) -> ShippingZone:
    """Rename a zone or replace its countries (the whole set: left out, kept)."""
    reject_unknown(fields, ZONE_FIELDS)
    return _write_zone(zone, fields)


@transaction.atomic
def shipping_zone_delete(*, actor: Any, zone: ShippingZone) -> None:
    """The zone and its methods go; orders keep the method's name as placed."""
    zone.delete()


# --- Methods ---------------------------------------------------------------------------------


def _clean_method(problems: Problems, method: ShippingMethod, fields: dict[str, Any]) -> None:
    if "name" in fields:
        method.name = clean_text(problems, "name", fields["name"],
                                 limit=max_length(ShippingMethod, "name"), required=True)
    if "price" in fields:
        price = clean_price(problems, "price", fields["price"],
                            column=decimal_limits(ShippingMethod, "price"), required=True)
        method.price = price if price is not None else Decimal(0)
    if "free_above" in fields:
        method.free_above = clean_price(problems, "free_above", fields["free_above"],
                                        column=decimal_limits(ShippingMethod, "free_above"),
                                        required=False)
    for name in ("min_weight_grams", "max_weight_grams"):
        if name in fields:
            setattr(method, name, clean_count(problems, name, fields[name],
                                              limit=max_value(ShippingMethod, name)))
    low, high = method.min_weight_grams, method.max_weight_grams
    if low is not None and high is not None and low > high:
        problems.add("max_weight_grams", "Must not be below the minimum weight.")


@transaction.atomic
def shipping_method_create(*, actor: Any, zone: ShippingZone, name: str | None,
                           price: Decimal | None, **fields: Any) -> ShippingMethod:
    """A method of the zone; `free_above`, `min_weight_grams` and
    `max_weight_grams` are optional."""
    reject_unknown(fields, METHOD_FIELDS)
    method = ShippingMethod(zone=zone)
    problems = Problems()
    _clean_method(problems, method, {**fields, "name": name, "price": price})
    problems.raise_any()
    method.save()
    return method


@transaction.atomic
def shipping_method_update(*, actor: Any, method: ShippingMethod,
                           **fields: Any) -> ShippingMethod:
    """Change the fields given (null clears an optional one)."""
    reject_unknown(fields, METHOD_FIELDS)
    method.refresh_from_db()
    problems = Problems()
    _clean_method(problems, method, fields)
    problems.raise_any()
    method.save()
    return method


@transaction.atomic
def shipping_method_delete(*, actor: Any, method: ShippingMethod) -> None:
    method.delete()
