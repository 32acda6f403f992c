"""The privacy tasks: the export built and its link emailed, the deletion
token emailed (through apps.notifications.delivery, so both are logged and
sent once per event like every email of the shop), and beat's upkeep.

Tasks take ids, never tokens or links: those are signed when the email is
written, so no secret travels through (or rests in) the broker."""

from celery import shared_task
from django.conf import settings

from apps.accounts.models import User
from apps.core.events import once_per_event
from apps.notifications import delivery
from apps.notifications.delivery import Letter
from apps.notifications.emails import storefront_link
from apps.notifications.models import Kind
from apps.notifications.tasks import RETRIED, resend_with_event

from . import links, services
from .models import AccountDataExport


@once_per_event
def _build(event_id: str, export_id: int) -> None:
    services.account_data_export_build(export_id=export_id)


@shared_task(**RETRIED)
def send_account_data_export(event_id: str, export_id: int, only: str = "") -> int:
    """AccountDataExportRequested: build the file once, then email its link
    (once, through the log: a retried send does not build again)."""
    _build(event_id, export_id)
    export = (AccountDataExport.objects.select_related("user")
              .filter(pk=export_id, status=AccountDataExport.Status.READY,
                      user__is_active=True).first())
    if export is None or export.user is None:
        return 0
    user = export.user
    return delivery.send(event_id, [Letter(
        kind=Kind.ACCOUNT_DATA_EXPORT, to=user.email, user=user,
        context={"name": user.first_name, "link": links.export_link(export_id=export.pk),
                 "days": max(1, settings.ACCOUNT_EXPORT_LINK_MAX_AGE // 86400)})], only=only)


@shared_task(**RETRIED)
def send_account_delete_confirmation(event_id: str, user_id: int, only: str = "") -> int:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return 0
    link = storefront_link(links.DELETE_PATH, token=links.delete_token(user))
    return delivery.send(event_id, [Letter(
        kind=Kind.ACCOUNT_DELETE_CONFIRMATION, to=user.email, user=user,
        context={"name": user.first_name, "link": link,
                 "minutes": max(1, settings.ACCOUNT_DELETE_TOKEN_MAX_AGE // 60)})], only=only)


# A failed one is sent again from the notifications' admin as the others are.
resend_with_event(Kind.ACCOUNT_DATA_EXPORT, send_account_data_export, ("export_id",))
resend_with_event(Kind.ACCOUNT_DELETE_CONFIRMATION, send_account_delete_confirmation,
                  ("user_id",))


@shared_task
def delete_expired_exports() -> int:
    """Hourly by beat (settings.CELERY_BEAT_SCHEDULE), and after a deletion."""
    return services.account_data_exports_expire()


@shared_task
def anonymise_old_order_records() -> int:
    """Daily by beat: ORDER_RECORDS_RETENTION_DAYS."""
    return services.order_records_anonymise()
