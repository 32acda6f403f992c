"""What deleting an account does to each domain's rows, one function a
domain, run in order by apps.privacy.services.account_delete inside its
transaction, under the lock of the user's row. The user's row is deleted
last; what it would cascade to (refresh tokens, addresses, wishlist, carts,
notification preferences, and the sessions and sign-in history to come)
goes with it, and the functions here first take out what must stay.

What stays, and why:
- Orders: the books and tax law keep an invoice's record for years
  (ORDER_RECORDS_RETENTION_DAYS). The order keeps its lines, totals,
  payments and its address snapshot (who it was shipped and billed to, as
  the law asks of an invoice), but loses its link to the account, its
  contact email (an address under .invalid, which is never mailed) and
  its receipt link (a new token, so the link in old emails opens nothing).
- Reviews: kept for the other customers, without author: signed "A former
  customer".
- The notification log: its rows stay (what was sent, when), with the
  address erased.
- The webhooks' log: its deliveries about the orders stay (what was sent,
  when, how it was answered), their bodies without the person: the email
  the order now has, the address blank but for its country (the log is no
  invoice), a refusal's text gone (it may echo the body). Those still
  pending go out so.
"""

from collections.abc import Callable
import uuid

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from apps.accounts.models import RefreshToken, User
from apps.catalog.models import Review
from apps.core.erased import ERASED_DOMAIN, erased_email
from apps.notifications.models import Notification
from apps.orders.models import Order
from apps.webhooks import services as webhooks

from .models import AccountDataExport

Eraser = Callable[[User], None]


def unlink_orders(user: User) -> None:
    for pk in Order.objects.filter(user=user).values_list("pk", flat=True):
        Order.objects.filter(pk=pk).update(user=None, email=erased_email("order", pk),
                                           token=uuid.uuid4(), updated_at=timezone.now())


def erase_webhook_deliveries(user: User) -> None:
    """Before unlink_orders, while the orders still name the account; their
    rows locked first, so that a delivery being made of one at this moment
    is either erased here or made from the erased order (webhooks'
    deliveries_create takes the same lock)."""
    order_ids = list(Order.objects.select_for_update().filter(user=user).order_by("pk")
                     .values_list("pk", flat=True))
    webhooks.deliveries_erase(order_ids=order_ids)


def unsign_reviews(user: User) -> None:
    Review.objects.filter(user=user).update(user=None)


def erase_notification_addresses(user: User) -> None:
    Notification.objects.filter(Q(user=user) | Q(recipient=user.email)).update(
        user=None,
        recipient=Concat(Value("notification-"), Cast("pk", CharField()),
                         Value(f"@{ERASED_DOMAIN}"), output_field=CharField()),
    )


def expire_exports(user: User) -> None:
    """Their files are deleted after the commit (the AccountDeleted handler)."""
    AccountDataExport.objects.filter(user=user).update(
        user=None, status=AccountDataExport.Status.EXPIRED, expires_at=timezone.now())


def revoke_sessions(user: User) -> None:
    # Deleted with the user's row; revoked first so that nothing in this
    # transaction, or a reader of it, sees a live token of a deleted account.
    RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now())


ERASERS: list[Eraser] = [
    revoke_sessions,
    erase_webhook_deliveries,
    unlink_orders,
    unsign_reviews,
    erase_notification_addresses,
    expire_exports,
]


def erase(user: User) -> None:
    for eraser in ERASERS:
        eraser(user)
    user.delete()
