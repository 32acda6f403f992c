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


class Session(models.Model):
    """A sign-in and what has kept it alive: one refresh-token family.

    `family` is the UUID its refresh tokens carry (RefreshToken.family) and
    access tokens name (their `sid` claim). `ip` and `user_agent` are those
    of the latest use, the sign-in or a refresh, which is what a customer
    looking for a device they do not know wants to see; `method` is how the
    customer signed in ("password", "password+totp", "oidc:google"). A session
    ends when it is revoked or its latest refresh token expires
    (`expires_at`); it is deleted with its expired tokens.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sessions"
    )
    family = models.UUIDField(default=uuid.uuid4, unique=True)
    method = models.CharField(max_length=40, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_used_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="session_user_live")]

    def __str__(self) -> str:
        return f"session {self.pk} of user {self.user_id}"


class SignInAttempt(models.Model):
    """One try at signing in to an existing account, kept
    SIGN_IN_HISTORY_RETENTION_DAYS for the customer and the customer desk
    to read (unknown emails are not recorded: there is no one to show them
    to). `reason` says how it ended."""

    class Reason(models.TextChoices):
        OK = "OK", "Signed in"
        INVALID_CREDENTIALS = "INVALID_CREDENTIALS", "Wrong password"
        THROTTLED = "THROTTLED", "Refused: too many failures"
        INACTIVE = "INACTIVE", "Refused: account deactivated"
        TWO_FACTOR_REQUIRED = "TWO_FACTOR_REQUIRED", "Second factor asked for"
        INVALID_TOKEN = "INVALID_TOKEN", "Wrong second-factor code"
        # The Django admin's login (apps.accounts.services.admin_site), past
        # the right password: the account is no staff member's, or its
        # staff member has not turned on the two-factor sign-in it asks for.
        NOT_STAFF = "NOT_STAFF", "Refused: not a staff account (the admin)"
        TWO_FACTOR_NOT_ON = "TWO_FACTOR_NOT_ON", "Refused: two-factor sign-in not on (the admin)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_in_attempts"
    )
    succeeded = models.BooleanField()
    reason = models.CharField(max_length=30, choices=Reason.choices)
    method = models.CharField(max_length=40, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at", "-id"],
                                name="sign_in_attempt_user_recent")]

    def __str__(self) -> str:
        return f"sign-in {self.reason} of user {self.user_id}"


class TwoFactorDevice(models.Model):
    """A user's authenticator app: the TOTP (RFC 6238) secret it shares with us.

    `twoFactorSetup` makes it unconfirmed; two-factor sign-in is on once a code
    from the app confirmed it (`confirmed_at`), so a secret the user never
    managed to scan cannot lock them out. The secret is stored encrypted
    (apps.accounts.otp) and shown only once, at setup. `last_used_step` is the
    time step of the last code accepted: a code of that step or an earlier one
    is refused, which is how no code is accepted twice.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_device"
    )
    encrypted_secret = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"two-factor device of user {self.user_id}"


class RecoveryCode(models.Model):
    """A one-time code for signing in without the authenticator app, kept only
    as its HMAC (apps.accounts.otp.recovery_code_hashes)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "code_hash"], name="accounts_recovery_code_unique"
            )
        ]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of user {self.user_id}"


class ExternalIdentity(models.Model):
    """An account at a social sign-in provider that signs in as this user.

    The provider's subject (OpenID Connect's `sub`, GitHub's user id) is what
    identifies it: an email address can change hands at a provider, a subject
    does not. `email` is the verified address it was linked by, kept for the
    account owner and for support."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    provider = models.CharField(max_length=64)
    subject = models.CharField(max_length=255)
    email = models.EmailField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="accounts_external_identity_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} identity {self.subject} of user {self.user_id}"


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
