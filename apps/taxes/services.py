"""Writes of the tax table, checked with apps.core.validation. One row per
country, region and category: a second is UNIQUE (and the partial unique
indexes back the check against a concurrent write)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from apps.catalog.models import Category
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import (
    Problems,
    clean_country,
    clean_percentage,
    clean_text,
    decimal_limits,
    max_length,
    reject_unknown,
)
from apps.taxes.models import TaxRate

RATE_FIELDS = {"country", "country_area", "category", "rate"}


def _clean(problems: Problems, rate: TaxRate, fields: dict[str, Any]) -> None:
    if "country" in fields:
        rate.country = clean_country(problems, "country", fields["country"])
    if "country_area" in fields:
        rate.country_area = clean_text(problems, "country_area", fields["country_area"],
                                       limit=max_length(TaxRate, "country_area"))
    if "category" in fields:
        rate.category = fields["category"]
    if "rate" in fields:
        value = clean_percentage(problems, "rate", fields["rate"],
                                 column=decimal_limits(TaxRate, "rate"), required=True)
        rate.rate = value if value is not None else Decimal(0)


def _save(rate: TaxRate, problems: Problems) -> TaxRate:
    twin = TaxRate.objects.filter(country=rate.country, country_area__iexact=rate.country_area,
                                  category=rate.category).exclude(pk=rate.pk)
    if rate.country and twin.exists():
        problems.add("country_area" if rate.country_area else "country",
                     "There is a rate for this place and category already; change that one.",
                     ErrorCode.UNIQUE)
    problems.raise_any()
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError as error:
        raise ServiceError("A rate for this place and category was added at the same moment.",
                           code=ErrorCode.UNIQUE, field="country") from error
    return rate


@transaction.atomic
def tax_rate_create(*, actor: Any, country: str | None, rate: Decimal | None,
                    country_area: str = "", category: Category | None = None) -> TaxRate:
    """A rate for a country, optionally a region of it and a category (with
    its descendants)."""
    row = TaxRate()
    problems = Problems()
    _clean(problems, row, {"country": country, "country_area": country_area,
                           "category": category, "rate": rate})
    return _save(row, problems)


@transaction.atomic
def tax_rate_update(*, actor: Any, tax_rate: TaxRate, **fields: Any) -> TaxRate:
    """Change the fields given (`rate` is the percentage, `tax_rate` the row)."""
    reject_unknown(fields, RATE_FIELDS)
    tax_rate.refresh_from_db()
    problems = Problems()
    _clean(problems, tax_rate, fields)
    return _save(tax_rate, problems)


@transaction.atomic
def tax_rate_delete(*, actor: Any, tax_rate: TaxRate) -> None:
    tax_rate.delete()
