"""Background work of the inventory: telling staff when stock runs low."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.mail import send_mass_mail
from django.db.models import Q

from apps.accounts.models import User
from apps.accounts.permissions import Perm
from apps.catalog.models import ProductVariant
from apps.core.events import once_per_event
from apps.inventory.selectors import variant_quantity_available


def staff_who_manage_products():
    """Active staff holding MANAGE_PRODUCTS, directly, through a group, or as
    superusers (Django's has_perm, as a query)."""
    permission = Permission.objects.filter(
        content_type__app_label="accounts", codename=Perm.MANAGE_PRODUCTS.codename
    ).first()
    holds = Q(is_superuser=True)
    if permission is not None:
        holds |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    return User.objects.filter(holds, is_active=True, is_staff=True).distinct()


@shared_task
@once_per_event
def send_low_stock_alert(event_id: str, variant_id: int) -> int:
    """Email each catalog manager that a variant has run low (a StockFellLow
    event, apps.inventory.handlers).

    Runs after the change committed; by then it may have been restocked, so it
    checks again and stays quiet when the variant is no longer low. Returns how
    many emails went out.
    """
    variant = (
        ProductVariant.objects.select_related("product")
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
        for email in staff_who_manage_products().values_list("email", flat=True)
    ]
    return send_mass_mail(messages, fail_silently=False) if messages else 0
