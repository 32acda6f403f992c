from collections.abc import Iterable

import strawberry

from apps.accounts.permissions import Perm
from apps.taxes import models, selectors
from schema.connection_fields import connection
from schema.pagination import CountableConnection
from schema.permissions import StaffPerm
from schema.taxes.types import TaxRate


@strawberry.type
class TaxQuery:
    @connection(
        CountableConnection[TaxRate],
        extensions=[StaffPerm(Perm.MANAGE_SHIPPING)],
        description="The tax rate table by country, region and category, narrowed to a country "
        "when given. Staff with MANAGE_SHIPPING only.",
    )
    def tax_rates(self, country: str | None = None) -> Iterable[models.TaxRate]:
        return selectors.tax_rates(country=country)
