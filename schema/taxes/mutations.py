"""Staff mutations of the tax rate table, under MANAGE_SHIPPING."""

from typing import Any

import strawberry
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.catalog import models as catalog_models
from apps.taxes import models, services
from schema.errors import Payload, payload_mutation
from schema.ids import get_node
from schema.inputs import provided
from schema.permissions import StaffPerm, signed_in_user
from schema.taxes.inputs import TaxRateInput
from schema.taxes.types import TaxRate


@strawberry.type
class TaxRateCreatePayload(Payload):
    tax_rate: models.TaxRate | None = strawberry.field(default=None,
                                                       graphql_type=TaxRate | None)


@strawberry.type
class TaxRateUpdatePayload(Payload):
    tax_rate: models.TaxRate | None = strawberry.field(default=None,
                                                       graphql_type=TaxRate | None)


@strawberry.type
class TaxRateDeletePayload(Payload):
    pass


def _rate(global_id: str) -> models.TaxRate:
    return get_node(models.TaxRate.objects.all(), global_id, type_name="TaxRate", field="id")


def _fields(input: TaxRateInput) -> dict[str, Any]:
    """The input as service arguments: the category ID as the category."""
    fields = provided(input)
    if "category_id" in fields:
        global_id = fields.pop("category_id")
        fields["category"] = None if global_id is None else get_node(
            catalog_models.Category.objects.all(), global_id, type_name="Category",
            field="category_id")
    if fields.get("country_area", "") is None:
        fields["country_area"] = ""
    return fields


@strawberry.type
class TaxMutation:
    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def tax_rate_create(self, info: Info, input: TaxRateInput) -> TaxRateCreatePayload:
        fields = _fields(input)
        fields.setdefault("country", None)
        fields.setdefault("rate", None)
        rate = services.tax_rate_create(actor=signed_in_user(info), **fields)
        return TaxRateCreatePayload(tax_rate=rate)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def tax_rate_update(self, info: Info, id: strawberry.ID,
                        input: TaxRateInput) -> TaxRateUpdatePayload:
        rate = services.tax_rate_update(actor=signed_in_user(info), tax_rate=_rate(id),
                                        **_fields(input))
        return TaxRateUpdatePayload(tax_rate=rate)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def tax_rate_delete(self, info: Info, id: strawberry.ID) -> TaxRateDeletePayload:
        services.tax_rate_delete(actor=signed_in_user(info), tax_rate=_rate(id))
        return TaxRateDeletePayload()
