"""Admin shipping mutations, under MANAGE_SHIPPING; a refused write comes back
as payload errors (schema.errors)."""

import strawberry
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.shipping import models, services
from schema.errors import Payload, payload_mutation
from schema.ids import get_node
from schema.inputs import provided
from schema.permissions import StaffPerm, signed_in_user
from schema.shipping.inputs import ShippingMethodInput, ShippingZoneInput
from schema.shipping.types import ShippingMethod, ShippingZone


@strawberry.type
class ShippingZoneCreatePayload(Payload):
    zone: models.ShippingZone | None = strawberry.field(
        default=None, graphql_type=ShippingZone | None)


@strawberry.type
class ShippingZoneUpdatePayload(Payload):
    zone: models.ShippingZone | None = strawberry.field(
        default=None, graphql_type=ShippingZone | None)


@strawberry.type
class ShippingZoneDeletePayload(Payload):
    pass


@strawberry.type
class ShippingMethodCreatePayload(Payload):
    method: models.ShippingMethod | None = strawberry.field(
        default=None, graphql_type=ShippingMethod | None)


@strawberry.type
class ShippingMethodUpdatePayload(Payload):
    method: models.ShippingMethod | None = strawberry.field(
        default=None, graphql_type=ShippingMethod | None)


@strawberry.type
class ShippingMethodDeletePayload(Payload):
    pass


def _zone(global_id: str, field: str) -> models.ShippingZone:
    return get_node(models.ShippingZone.objects.all(), global_id, type_name="ShippingZone",
                    field=field)


def _method(global_id: str) -> models.ShippingMethod:
    return get_node(models.ShippingMethod.objects.all(), global_id, type_name="ShippingMethod",
                    field="id")


@strawberry.type
class ShippingMutation:
    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def shipping_zone_create(self, info: Info,
                             input: ShippingZoneInput) -> ShippingZoneCreatePayload:
        fields = provided(input)
        zone = services.shipping_zone_create(actor=signed_in_user(info),
                                             name=fields.get("name"),
                                             countries=fields.get("countries"))
        return ShippingZoneCreatePayload(zone=zone)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def shipping_zone_update(self, info: Info, id: strawberry.ID,
                             input: ShippingZoneInput) -> ShippingZoneUpdatePayload:
        zone = services.shipping_zone_update(actor=signed_in_user(info), zone=_zone(id, "id"),
                                             **provided(input))
        return ShippingZoneUpdatePayload(zone=zone)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)],
                      description="Deletes the zone and its methods.")
    def shipping_zone_delete(self, info: Info, id: strawberry.ID) -> ShippingZoneDeletePayload:
        services.shipping_zone_delete(actor=signed_in_user(info), zone=_zone(id, "id"))
        return ShippingZoneDeletePayload()

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def shipping_method_create(self, info: Info, zone_id: strawberry.ID,
                               input: ShippingMethodInput) -> ShippingMethodCreatePayload:
        fields = provided(input)
        fields.setdefault("name", None)
        fields.setdefault("price", None)
        method = services.shipping_method_create(actor=signed_in_user(info),
                                                 zone=_zone(zone_id, "zone_id"), **fields)
        return ShippingMethodCreatePayload(method=method)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def shipping_method_update(self, info: Info, id: strawberry.ID,
                               input: ShippingMethodInput) -> ShippingMethodUpdatePayload:
        method = services.shipping_method_update(actor=signed_in_user(info), method=_method(id),
                                                 **provided(input))
        return ShippingMethodUpdatePayload(method=method)

    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_SHIPPING)])
    def shipping_method_delete(self, info: Info,
                               id: strawberry.ID) -> ShippingMethodDeletePayload:
        services.shipping_method_delete(actor=signed_in_user(info), method=_method(id))
        return ShippingMethodDeletePayload()
