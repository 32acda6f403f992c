"""Account data exports in the Django admin, read-only: who asked, when, and
until when the link works. The files are not reachable from here; only the
customer's signed link serves them."""

from django.contrib import admin

from apps.core.admin_bases import ReadOnlyAdmin

from .models import AccountDataExport


@admin.register(AccountDataExport)
class AccountDataExportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "status", "size", "expires_at")
    list_filter = ("status",)
    list_select_related = ("user",)
    readonly_fields = ("user", "status", "size", "created_at", "ready_at", "expires_at")
    exclude = ("file_name",)
