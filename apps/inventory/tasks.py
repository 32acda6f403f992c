"""Background work of the inventory: telling staff when stock runs low."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail

from apps.accounts.permissions import Perm
from apps.accounts.selectors import staff_with_perm
from apps.inventory.models import variant_model
from apps.inventory.selectors import variant_quantity_available


@shared_task
def send_low_stock_alert(variant_id: int) -> int:
    """Email each catalog manager that a variant has run low.

    Runs after the change committed; by then it may have been restocked, so it
    checks again and stays quiet when the variant is no longer low. Returns how
    many emails went out.
    """
    variant = (
        variant_model().objects.select_related("product")
        .filter(pk=variant_id, product__deleted_at__isnull=True)
        .first()
    )
    if variant is None:
        return 0
    available = variant_quantity_available(variant_id=variant.pk)
    if available > variant.low_stock_threshold:
        return 0
    subject = f"Low stock: {variant.product.name} ({variant.sku})"
    body = (
        f"{variant.product.name} — {variant.name or variant.sku} (SKU {variant.sku}) has "
        f"{available} available, at or below its threshold of {variant.low_stock_threshold}.\n"
    )
    messages = [
        (subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        for email in staff_with_perm(perm=Perm.MANAGE_PRODUCTS).values_list("email", flat=True)
    ]
    return send_mass_mail(messages, fail_silently=False) if messages else 0
