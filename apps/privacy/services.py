"""The customer's rights over their data: a copy of it (accountDataExport)
and its erasure (accountDeleteRequest, then accountDelete with the emailed
token). Every refusal is a ServiceError; nothing is written when one is
raised. The emails and the export's file are made after the commit, by the
Celery tasks the events' handlers enqueue (apps.privacy.handlers)."""

import json
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services.checks import invalid_token
from apps.core import events
from apps.core.erased import ERASED_DOMAIN, KEPT_OF_ADDRESS, erased_email
from apps.core.errors import ErrorCode, ServiceError
from apps.orders.models import Order, OrderStatus
from apps.webhooks import services as webhooks

from . import erasure, links
from .models import AccountDataExport
from .sections import SHIPPING_FIELDS, export_data
from .storage import private_storage

logger = logging.getLogger(__name__)

# An order on its way: the account stays until it is delivered or cancelled,
# so that the customer can still be reached about it and refunded.
OPEN_ORDER_STATUSES = (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.SHIPPED)
FORMAT_VERSION = 1
# Old orders whose records are anonymised in one transaction.
RETENTION_BATCH = 500


def _locked(user: User) -> User:
    """The user's row under lock: one privacy write of an account at a time,
    and an order cannot be placed for it meanwhile (its foreign key waits)."""
    locked = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
    if locked is None:
        raise ServiceError("This account is not active.", code=ErrorCode.INVALID)
    return locked


def _refuse_staff(user: User) -> None:
    if user.is_staff or user.is_superuser:
        raise ServiceError(
            "A staff account is not deleted this way: another member of staff with "
            "manage_staff closes it, so that what it did stays accounted for.",
            code=ErrorCode.INVALID)


# --- Export ------------------------------------------------------------------------------


@transaction.atomic
def account_data_export_request(*, user: User) -> AccountDataExport:
    """Ask for a copy of everything the shop holds about the customer; it is
    built and its link emailed after the commit. One at a time: while one
    is being prepared another is THROTTLED."""
    user = _locked(user)
    if AccountDataExport.objects.filter(user=user,
                                        status=AccountDataExport.Status.PENDING).exists():
        raise ServiceError("Your data is already being prepared; its link will be emailed.",
                           code=ErrorCode.THROTTLED)
    export = AccountDataExport.objects.create(user=user)
    events.publish(events.AccountDataExportRequested(user_id=user.pk, export_id=export.pk))
    return export


def account_data_export_build(*, export_id: int) -> AccountDataExport | None:
    """Write the export's file to the private storage and mark it READY;
    None when there is nothing to build (built already, account gone). The
    file is written before the row's commit and deleted again if the row
    cannot be saved, so a READY row always has its file."""
    with transaction.atomic():
        export = (AccountDataExport.objects.select_for_update(of=("self",))
                  .select_related("user")
                  .filter(pk=export_id, status=AccountDataExport.Status.PENDING,
                          user__isnull=False).first())
        if export is None or export.user is None:
            return None
        now = timezone.now()
        document = {"format": FORMAT_VERSION, "generated_at": now,
                    "shop": settings.PUBLIC_URL, **export_data(export.user)}
        content = json.dumps(document, cls=DjangoJSONEncoder, indent=2).encode()
        name = private_storage().save(f"exports/{uuid.uuid4().hex}.json", ContentFile(content))
        try:
            export.status = AccountDataExport.Status.READY
            export.file_name, export.size, export.ready_at = name, len(content), now
            export.expires_at = now + timedelta(seconds=settings.ACCOUNT_EXPORT_LINK_MAX_AGE)
            export.save(update_fields=["status", "file_name", "size", "ready_at", "expires_at"])
        except BaseException:
            private_storage().delete(name)
            raise
    return export


def account_data_exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files whose time is up (and those of deleted accounts), and
    forget the rows of deleted accounts; how many files went. Run by beat."""
    now = now or timezone.now()
    storage = private_storage()
    deleted = 0
    due = AccountDataExport.objects.filter(expires_at__lte=now).exclude(file_name="")
    for export in due:
        storage.delete(export.file_name)
        AccountDataExport.objects.filter(pk=export.pk).update(
            status=AccountDataExport.Status.EXPIRED, file_name="")
        deleted += 1
    AccountDataExport.objects.filter(user__isnull=True, file_name="").delete()
    return deleted


# --- Deletion ----------------------------------------------------------------------------


def account_delete_request(*, user: User) -> None:
    """Email the customer a token that confirms the deletion. Refused at once
    when the account could not be deleted now (staff, an open order), so
    that the email is never a promise the deletion would break."""
    with transaction.atomic():
        user = _locked(user)
        _refuse_staff(user)
        _refuse_open_orders(user)
        events.publish(events.AccountDeleteRequested(user_id=user.pk))


def _refuse_open_orders(user: User) -> None:
    numbers = list(Order.objects.filter(user=user, status__in=OPEN_ORDER_STATUSES)
                   .order_by("created_at").values_list("number", flat=True))
    if numbers:
        listed = ", ".join(f"#{number}" for number in numbers)
        raise ServiceError(
            f"The account has orders on their way ({listed}); it can be deleted once they "
            "are delivered or cancelled.", code=ErrorCode.ORDER_OPEN)


def account_delete(*, token: str) -> int:
    """Erase the account the token was emailed to (apps.privacy.erasure says
    what goes and what stays); the deleted user's id. INVALID_TOKEN for a
    token that is forged, too old, already used, or made before the
    password or email changed; ORDER_OPEN while an order is on its way."""
    try:
        claim = links.read_delete_token(token)
    except links.BadLink:
        raise invalid_token("token") from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=claim.user_id, is_active=True).first()
        if user is None or not claim.matches(user):
            raise invalid_token("token")
        _refuse_staff(user)
        _refuse_open_orders(user)
        user_id = user.pk
        erasure.erase(user)
        events.publish(events.AccountDeleted(user_id=user_id))
    logger.info("Account %s deleted by its owner.", user_id)
    return user_id


def order_records_anonymise(*, now: datetime | None = None) -> int:
    """Blank the address snapshot and email of orders linked to no person
    (guests', deleted accounts') once ORDER_RECORDS_RETENTION_DAYS have
    passed: the books no longer need who they were for. Totals, lines and
    the country (tax reports) stay, and the webhooks' bodies of those orders
    lose the same. Run daily by beat; how many orders."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ORDER_RECORDS_RETENTION_DAYS)
    kept = {name: "" for name in SHIPPING_FIELDS if name != f"shipping_{KEPT_OF_ADDRESS}"}
    named = Q(*[~Q(**{name: ""}) for name in kept], _connector=Q.OR)
    old = Order.objects.filter(user__isnull=True, created_at__lt=cutoff)
    due = list(old.filter(named | ~Q(email__endswith=f"@{ERASED_DOMAIN}"))
               .order_by("pk").values_list("pk", flat=True))
    changed = 0
    for start in range(0, len(due), RETENTION_BATCH):
        batch = due[start:start + RETENTION_BATCH]
        # The webhooks' bodies of these orders lose the snapshot with them,
        # under the orders' locks (the updates' own), as in a deletion.
        with transaction.atomic():
            for pk in batch:
                changed += Order.objects.filter(pk=pk).update(email=erased_email("order", pk),
                                                              **kept)
            webhooks.deliveries_erase(order_ids=batch)
    return changed
