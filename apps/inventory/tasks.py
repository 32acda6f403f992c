"""Background work of the inventory: telling staff when stock runs low."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail

from apps.accounts.permissions import Perm
from apps.accounts.selectors import staff_with_perm
from apps.core.events import once_per_event
from apps.inventory.models import Stock
from apps.inventory.selectors import variant_quantity_available


@shared_task
@once_per_event
def send_low_stock_alert(event_id: str, variant_id: int) -> int:
    """Email each catalog manager that a variant has run low (a StockFellLow
    event, apps.inventory.handlers).

    Runs after the change committed; by then it may have been restocked, so it
    checks again and stays quiet when the variant is no longer low. Returns how
    many emails went out.
    """
    # Through a stock row: inventory reaches the variant by its foreign key.
    stock = (
        Stock.objects.select_related("variant__product")
        .filter(variant_id=variant_id, variant__product__deleted_at__isnull=True)
        .first()
    )
    if stock is None:
        return 0
    variant = stock.variant
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
