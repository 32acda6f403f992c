from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.utils.translation import gettext_lazy as _

from apps.core.addresses import request_client_address
from apps.core.admin_bases import ReadOnlyAdmin, ServiceAdmin, ServiceForm, show_on_form
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import normalize_email

from . import services
from .models import Address, AuditEntry, ExternalIdentity, RefreshToken, TwoFactorDevice, User
from .permissions import Perm, staff_has_perm


class _LowerCaseEmail:
    """Emails are stored lower-cased (a database constraint insists)."""

    cleaned_data: dict[str, Any]  # the form's, which this mixes into

    def clean_email(self):
        return normalize_email(self.cleaned_data.get("email"))


class UserCreationForm(_LowerCaseEmail, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(_LowerCaseEmail, DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login, with the code of two-factor sign-in: the email,
    password and code go to `services.admin_sign_in` (README "Two-factor
    sign-in"), which refuses a staff member with two-factor sign-in on
    without a right code; its refusals show on the form."""

    code = forms.CharField(
        label=_("Two-factor code"), required=False,
        help_text=_("With two-factor sign-in on: the code from your authenticator app, "
                    "or a recovery code."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean(self) -> dict[str, Any]:
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data
        meta = self.request.META if self.request is not None else {}
        try:
            self.user_cache = services.admin_sign_in(
                email=email, password=password, code=self.cleaned_data.get("code") or "",
                ip=request_client_address(meta), user_agent=meta.get("HTTP_USER_AGENT", ""),
            )
        except ServiceError as error:
            if error.errors and error.errors[0].code == ErrorCode.INVALID_CREDENTIALS:
                # Django's words, which say the account must be staff's.
                raise self.get_invalid_login_error() from None
            show_on_form(self, error)
        return self.cleaned_data


admin.site.login_form = AdminLoginForm
admin.site.login_template = "accounts/admin_login.html"


class _ReadOnlyInline:
    """An inline to read: its rows are written elsewhere."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AddressInline(_ReadOnlyInline, admin.StackedInline):
    """A user's address book, to read; an address is edited on its own page
    (through the address services)."""

    model = Address
    extra = 0
    fk_name = "user"
    fields = services.ADDRESS_FIELDS
    readonly_fields = services.ADDRESS_FIELDS
    show_change_link = True


class ExternalIdentityInline(_ReadOnlyInline, admin.TabularInline):
    """The social sign-in identities that sign in as this user (README,
    "Social sign-in"): they are made by signing in."""

    model = ExternalIdentity
    extra = 0
    fields = readonly_fields = ("provider", "subject", "email", "created_at")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, with the email as the login instead of a username."""

    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "is_email_verified")}),
        (_("Addresses"), {"fields": ("default_shipping_address", "default_billing_address")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "is_email_verified", "groups")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("-date_joined",)
    raw_id_fields = ("default_shipping_address", "default_billing_address")
    # Who is staff and what they may do is changed through the API's staff
    # mutations (staffCreate, staffUpdate, customerSetActive), whose rules
    # (no granting what one does not hold, never no one left to manage
    # staff) and audit log this page would otherwise go around.
    readonly_fields = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions",
                       "last_login", "date_joined")
    inlines = [AddressInline, ExternalIdentityInline]

    def get_inlines(self, request, obj):
        # A user being added has no identities yet.
        return self.inlines if obj is not None else [AddressInline]

    def save_model(self, request, obj, form, change) -> None:
        """A changed name is written by the profile service, as accountUpdate
        writes it, which tells whoever shows it; the rest as Django's admin
        saves it."""
        names = {name: getattr(obj, name) for name in services.NAME_FIELDS
                 if change and name in form.changed_data}
        for name in names:
            setattr(obj, name, form.initial[name])
        super().save_model(request, obj, form, change)
        if names:
            services.account_update(user=obj, **names)


class AddressForm(ServiceForm):
    class Meta:
        model = Address
        fields = ("user", *services.ADDRESS_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:  # new: an address belongs to someone's book
            self.fields["user"].required = True

    def write(self, *, actor) -> Address:
        data = self.cleaned_data
        if self.instance.pk is None:
            return services.address_create(
                user=data["user"], data={name: data[name] for name in services.ADDRESS_FIELDS})
        return services.address_update(
            user=self.instance.user, address_id=self.instance.pk,
            data=self.changed(set(services.ADDRESS_FIELDS)))


@admin.register(Address)
class AddressAdmin(ServiceAdmin, admin.ModelAdmin):
    """Addresses are checked and written by the address services, as through
    the API (a country code, the required lines)."""

    form = AddressForm
    list_display = ("__str__", "user", "country", "city", "created_at")
    list_filter = ("country",)
    search_fields = ("first_name", "last_name", "city", "postal_code", "user__email")
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        # An address stays in its owner's book.
        return ("user",) if obj is not None else ()

    def delete_model(self, request, obj):
        services.address_delete(user=obj.user, address_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for address in queryset.select_related("user"):
            services.address_delete(user=address.user, address_id=address.pk)


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    """Read-only but for revoking: tokens are made by signing in."""

    list_display = ("id", "user", "family", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__email", "family")
    readonly_fields = ("user", "token_hash", "family", "created_at", "expires_at", "replaced_by")
    raw_id_fields = ("user",)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TwoFactorDevice)
class TwoFactorDeviceAdmin(admin.ModelAdmin):
    """Who has two-factor sign-in, and since when; never the secret. Deleting
    a device turns the user's two-factor sign-in off (two_factor_remove), for
    a user who lost both the app and the recovery codes."""

    list_display = ("user", "created_at", "confirmed_at")
    list_filter = ("confirmed_at",)
    search_fields = ("user__email",)
    fields = readonly_fields = ("user", "created_at", "confirmed_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj):
        services.two_factor_remove(user=obj.user)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            services.two_factor_remove(user=device.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log, to read: entries are written only with the changes
    they record (services.audit_record), and never edited or deleted here.
    Shown to staff managing staff, as auditLog is."""

    list_display = ("created_at", "actor_email", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("actor_email", "action", "object_repr", "object_pk")
    readonly_fields = ("created_at", "actor", "actor_email", "action", "object_type",
                       "object_pk", "object_repr", "details")
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None) -> bool:
        return staff_has_perm(request.user, Perm.MANAGE_STAFF)


class GroupAdmin(ReadOnlyAdmin):
    """Permission groups, to read: they are written by permissionGroupCreate,
    permissionGroupUpdate and permissionGroupDelete (README "Staff, roles and
    the audit log"), which hold staff to the permissions they have and
    keep the audit log."""

    list_display = ("name",)
    search_fields = ("name",)
    fields = readonly_fields = ("name", "permissions")


admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
