"""The enabled gateways, from settings.PAYMENT_GATEWAYS.

An entry is the name of a module in apps/payments/gateways (`dummy`, later
`stripe`), whose class is called `Gateway`, or the dotted path of any class
that follows the PaymentGateway protocol (`myshop.payments.AcmeGateway`). So a
gateway plugs in by settings alone; this module never lists them. The
entries' order is the order paymentGateways shows them in.

Gateways are made on each call, not cached: they are cheap (the modules are
imported once by Python) and a changed setting takes effect at once, in
tests as in `override_settings`. apps/payments/checks.py refuses an entry
that does not load at start-up, so these calls fail only on a caller's name.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from apps.core.errors import ErrorCode, ServiceError

from .gateways import PaymentGateway

BUILT_IN = "apps.payments.gateways"


def gateway_path(entry: str) -> str:
    """The dotted path of the class a settings entry names."""
    return entry if "." in entry else f"{BUILT_IN}.{entry}.Gateway"


def load_gateway(entry: str) -> PaymentGateway:
    """The gateway a settings entry names. ImportError when there is none."""
    gateway = import_string(gateway_path(entry))()
    if not isinstance(gateway, PaymentGateway):
        raise ImportError(f"{gateway_path(entry)} is not a PaymentGateway.")
    return gateway


def enabled_gateways() -> list[PaymentGateway]:
    """The gateways a customer may pay with, in the order of the setting."""
    return [load_gateway(entry) for entry in settings.PAYMENT_GATEWAYS]


def gateway_named(name: str, *, field: str = "gateway") -> PaymentGateway:
    """The enabled gateway whose id is `name` (what PaymentInput.gateway
    sends). A gateway that is not enabled, known or not, is INVALID on
    `field`."""
    for gateway in enabled_gateways():
        if gateway.id == name:
            return gateway
    enabled = ", ".join(gateway.id for gateway in enabled_gateways())
    raise ServiceError(
        f'"{name}" is not an enabled payment gateway (enabled: {enabled or "none"}).',
        code=ErrorCode.INVALID, field=field,
    )
