"""Forgetting guest carts nobody came back to.

A guest's cart (one without a customer) that has not changed for
CART_ABANDON_AFTER_DAYS is deleted, with its lines, rather than marked
ABANDONED: it holds a stranger's email and address, no one can find it but
by its token, and a storefront that still keeps the token reads it as no
cart and makes a new one. Carts that became an order (COMPLETED) stay, for
checkoutComplete to answer their order again; customers' carts stay, they
are the customer's until checkout.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.checkout.models import Cart, CartState

BATCH = 500


def guest_carts_delete_stale(*, before: datetime | None = None) -> int:
    """Delete the guest carts untouched since `before` (default
    CART_ABANDON_AFTER_DAYS ago), a batch per transaction; how many went.

    Each batch is locked first, skipping carts a request has locked: a
    change under way moves `updated_at` and keeps its cart; one that comes
    after the delete finds no cart (NOT_FOUND)."""
    before = before or timezone.now() - timedelta(days=settings.CART_ABANDON_AFTER_DAYS)
    stale = Cart.objects.filter(user__isnull=True, updated_at__lt=before,
                                state__in=[CartState.ACTIVE, CartState.ABANDONED])
    total = 0
    while True:
        with transaction.atomic():
            ids = list(stale.select_for_update(skip_locked=True)
                       .order_by("pk").values_list("pk", flat=True)[:BATCH])
            if ids:
                Cart.objects.filter(pk__in=ids).delete()
        total += len(ids)
        if len(ids) < BATCH:
            return total
