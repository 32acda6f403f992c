import uuid
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.core.countries import validate_country_code
from apps.core.validation import normalize_email


if TYPE_CHECKING:  # Django's manager is generic in the stubs only
    _UserManagerBase = BaseUserManager["User"]
else:
    _UserManagerBase = BaseUserManager


class UserManager(_UserManagerBase):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True, is_email_verified=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str | None):
        # Emails are stored lower-cased, so an exact match uses the unique index
        # where `iexact` would scan the table.
        return self.get(email=normalize_email(email))


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or a staff member; the email address is the login."""

    # Stored lower-cased (UserManager, services), so `unique` is case-insensitive.
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_email_verified = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    default_shipping_address = models.ForeignKey(
        "Address", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_billing_address = models.ForeignKey(
        "Address", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["-date_joined", "-id"]
        permissions = [
            ("manage_products", "Manage the catalog and stock"),
            ("manage_orders", "Manage orders, fulfilment and refunds"),
            ("manage_discounts", "Manage coupons"),
            ("manage_customers", "Manage customer accounts"),
            ("manage_staff", "Manage staff accounts and their permissions"),
            ("view_reports", "View sales reports"),
            ("manage_shipping", "Manage shipping zones, methods and tax rates"),
            ("manage_apps", "Manage integrations and their webhooks"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="accounts_user_email_lower_case"
            )
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


class Address(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses",
        null=True, blank=True,
    )
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    company = models.CharField(max_length=255, blank=True)
    street_address_1 = models.CharField(max_length=255)
    street_address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255)
    postal_code = models.CharField(max_length=32, blank=True)
    country_area = models.CharField(max_length=128, blank=True)
    country = models.CharField(
        max_length=2, validators=[validate_country_code], help_text="ISO 3166-1 alpha-2"
    )
    phone = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}, {self.street_address_1}, {self.city}"


class RefreshToken(models.Model):
    """A refresh token, kept only as its SHA-256 hash.

    Tokens issued from one sign-in form a family: each refresh rotates the
    token (the old one is revoked, `replaced_by` the new one). Presenting a
    rotated token means it leaked, so the whole family is revoked.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(default=uuid.uuid4, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of user {self.user_id}"


class AuditEntry(models.Model):
    """One staff action, kept for whoever manages staff: who did what to
    which object, and when. Written in the transaction of the change, so an
    entry exists exactly when the change does. The actor's email is a
    snapshot, so an entry still says who after the account is deleted; the
    object is named by its model label and id (and how it read then), not a
    foreign key, so that deleting it keeps its history. `details` holds
    plain facts of the change (states, amounts, groups), never a secret."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_pk = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="accounts_audit_newest"),
            models.Index(fields=["action", "-created_at"], name="accounts_audit_action"),
            models.Index(fields=["actor", "-created_at"], name="accounts_audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_email} {self.action} {self.object_type} {self.object_pk}"
