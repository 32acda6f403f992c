"""Reads of the privacy domain: the export a download link names."""

from django.utils import timezone

from . import links
from .models import AccountDataExport
from .storage import private_storage


def export_for_link(*, token: str) -> AccountDataExport:
    """The READY export a link names, its file in the private storage.
    ExpiredLink when the link or the export is past its time (the file may
    already be deleted); BadLink when the link was not signed here for an
    export, or names one that is gone."""
    export_id = links.read_export_link(token)
    export = AccountDataExport.objects.filter(pk=export_id, user__isnull=False).first()
    if export is None or export.status == AccountDataExport.Status.PENDING:
        raise links.BadLink
    if (export.status != AccountDataExport.Status.READY or export.expires_at is None
            or export.expires_at <= timezone.now()
            or not private_storage().exists(export.file_name)):
        raise links.ExpiredLink
    return export
