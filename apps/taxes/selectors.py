"""Reads of the tax table: the rules for a destination (what the checkout
hands to apps.taxes.calculation.compute_tax), the staff's list, and who
sees rates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from apps.accounts.permissions import Perm, staff_has_perm
from apps.catalog.models import Category
from apps.taxes.calculation import TaxRule, TaxTable
from apps.taxes.models import TaxRate


def default_country() -> str:
    """Where tax is computed for before an address is given (DEFAULT_COUNTRY)."""
    return str(settings.DEFAULT_COUNTRY).upper()


def tax_rates_visible_to(
    *, user: Any, queryset: QuerySet[TaxRate] | None = None
) -> QuerySet[TaxRate]:
    """The table is the shop's set-up: staff with MANAGE_SHIPPING see it; to
    anyone else no rate exists (shoppers see the tax it makes, not the rows)."""
    queryset = TaxRate.objects.all() if queryset is None else queryset
    return queryset if staff_has_perm(user, Perm.MANAGE_SHIPPING) else queryset.none()


def tax_rates(*, country: str | None = None) -> QuerySet[TaxRate]:
    """The staff's list, narrowed to a country when given."""
    rates = TaxRate.objects.all()
    return rates if country is None else rates.filter(country=country.strip().upper())


def tax_table_for(*, country: str | None, country_area: str = "",
                  category_ids: Iterable[int] = ()) -> TaxTable:
    """The rules of the destination (the shop's default country when
    `country` is None) and the paths of the lines' categories: two queries,
    whatever the number of lines."""
    country = (country or default_country()).upper()
    area = (country_area or "").strip()
    rows = (TaxRate.objects.filter(country=country)
            .filter(Q(country_area="") | Q(country_area__iexact=area))
            .values_list("rate", "country_area", "category__path"))
    rules = tuple(TaxRule(rate=rate, country_area=row_area, category_path=path)
                  for rate, row_area, path in rows)
    ids = set(category_ids)
    paths = dict(Category.objects.filter(pk__in=ids).values_list("pk", "path")) if ids else {}
    return TaxTable(country=country, country_area=area, rules=rules, category_paths=paths)
