"""The payment gateways as the storefront sees them: which it may offer and
what their payment forms need. Not Node types: a gateway is a setting, not
a record, and its id is the name PaymentInput.gateway takes."""

from __future__ import annotations

import strawberry

from apps.payments.gateways import ConfigLine, PaymentGateway as Gateway
from schema.cost import list_size


@strawberry.type(description="One item of a gateway's public configuration. Never a secret.")
class GatewayConfigLine:
    field: str
    value: str | None

    @classmethod
    def of(cls, line: ConfigLine) -> GatewayConfigLine:
        return cls(field=line.field, value=line.value)


@strawberry.type(description="A payment gateway the shop takes payments through.")
class PaymentGateway:
    id: strawberry.ID = strawberry.field(
        description="The gateway's name, as PaymentInput.gateway takes it: dummy, stripe."
    )
    name: str = strawberry.field(description="What a customer sees.")
    config: list[GatewayConfigLine] = strawberry.field(
        description="What the storefront needs to show the gateway's payment form "
        "(Stripe's publishableKey); empty for dummy.",
        directives=list_size(5),
    )

    @classmethod
    def of(cls, gateway: Gateway) -> PaymentGateway:
        return cls(
            id=strawberry.ID(gateway.id), name=gateway.name,
            config=[GatewayConfigLine.of(line) for line in gateway.public_config()],
        )
