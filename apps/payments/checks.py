"""System checks of settings.PAYMENT_GATEWAYS, so a mistyped entry stops the
server at start-up instead of failing the first checkout."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from .registry import gateway_path, load_gateway


@checks.register()
def check_gateways(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    ids: list[str] = []
    for entry in settings.PAYMENT_GATEWAYS:
        try:
            ids.append(load_gateway(entry).id)
        except (ImportError, TypeError) as error:
            problems.append(checks.Error(
                f"PAYMENT_GATEWAYS entry {entry!r} does not load: {error}",
                hint=f"Name a module of apps/payments/gateways or the dotted path of a "
                f"PaymentGateway class ({gateway_path(entry)} was tried).",
                id="payments.E001",
            ))
    for gateway_id, count in Counter(ids).items():
        if count > 1:
            problems.append(checks.Error(
                f"PAYMENT_GATEWAYS enables gateway {gateway_id!r} {count} times.",
                id="payments.E002",
            ))
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_dummy_gateway(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if "dummy" not in settings.PAYMENT_GATEWAYS:
        return []
    return [checks.Warning(
        "The dummy payment gateway is enabled: anyone can pay for an order with the "
        'token "success".',
        hint="Leave dummy out of PAYMENT_GATEWAYS in a shop that takes real money.",
        id="payments.W001",
    )]


STRIPE_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")


@checks.register()
def check_stripe_keys(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Stripe listed without its keys starts (a shop may switch it on before
    the keys arrive), but every checkout through it would fail, and a
    webhook without its secret is refused: say so at start-up."""
    if "stripe" not in settings.PAYMENT_GATEWAYS:
        return []
    missing = [name for name in STRIPE_KEYS if not getattr(settings, name, "")]
    if not missing:
        return []
    return [checks.Warning(
        f"PAYMENT_GATEWAYS enables stripe but {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not set.",
        hint="Set the keys of the Stripe account (README, \"Stripe\"); checkouts through "
        "Stripe answer PAYMENT_UNAVAILABLE and webhooks are refused until then.",
        id="payments.W002",
    )]
