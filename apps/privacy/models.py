"""The customer's copies of their own data (accountDataExport). The file
itself is in the private storage (apps.privacy.storage); this row says whose
it is and until when its link works."""

from django.conf import settings
from django.db import models


class AccountDataExport(models.Model):
    class Status(models.TextChoices):
        # Asked for; the Celery task builds the file after the commit.
        PENDING = "PENDING", "Being prepared"
        READY = "READY", "Ready to download"
        # Its time is up (or its account was deleted): the file is gone.
        EXPIRED = "EXPIRED", "Expired"

    # Null once the account is deleted: the row waits for beat to delete
    # its file (apps.privacy.tasks.delete_expired_exports), then goes too.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="data_exports",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # The file's name in the private storage: random, so it cannot be guessed.
    file_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    # When the link stops working and the file is deleted; set when it is ready.
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"export {self.pk} of user {self.user_id} ({self.status})"
