"""The bases of the Django admin's pages: read-only pages for records only
services write, and forms whose writes are the services'. The admin is one
more way in, so it obeys the same rules as the API and the CSV importer: a form's
`clean()` runs its service in a transaction that is rolled back (a dry run),
shows whatever the service refuses on the form's fields, and the admin's
save calls the same service for real."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest
from django.forms.models import construct_instance

from apps.core.errors import ServiceError


class _RolledBack(Exception):
    pass


def dry_run(write: Callable[[], object]) -> ServiceError | None:
    """What the service `write` would refuse, having written nothing."""
    try:
        with transaction.atomic():
            write()
            raise _RolledBack
    except _RolledBack:
        return None
    except ServiceError as error:
        return error


def show_on_form(form: forms.BaseForm, error: ServiceError) -> None:
    """A service's refusal as form errors: "attributes.1.name" on the
    attributes field, anything the form has no field for on the form."""
    for found in error.errors:
        name = (found.field or "").split(".")[0]
        form.add_error(name if name in form.fields else None, found.message)


class ServiceForm(forms.ModelForm):  # any model
    """A ModelForm that writes through a service. Subclasses say how, in
    `write(actor=...)`, from `self.instance` (None pk: new) and
    `self.cleaned_data`, returning the saved object. The admin binds `actor`
    (ServiceAdmin.get_form)."""

    actor: ClassVar[Any] = None

    def write(self, *, actor: Any) -> models.Model:
        raise NotImplementedError

    def changed(self, names: set[str]) -> dict[str, Any]:
        """The cleaned values of the fields among `names` that the user changed."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in names}

    def _post_clean(self) -> None:
        # The service checked the object (uniqueness included); the model's
        # own validation would only say it again, in other words.
        self.instance = construct_instance(self, self.instance, self._meta.fields,
                                           self._meta.exclude)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.errors:
            error = dry_run(lambda: self.write(actor=self.actor))
            if self.instance.pk is not None:
                # The dry run changed the object in memory too (a moved
                # category's path, say); back to what the database holds.
                self.instance.refresh_from_db()
            if error is not None:
                show_on_form(self, error)
        return cleaned


class ServiceAdmin:
    """A ModelAdmin mixin: the form (a ServiceForm) saves through its service."""

    def get_form(self, request: Any, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: Any, obj: models.Model, form: ServiceForm,
                   change: bool) -> None:
        saved = form.write(actor=request.user)
        if saved.pk != obj.pk:
            # Created by the service: the admin's object (which its inlines
            # point at) becomes that row.
            obj.pk = saved.pk
            obj.refresh_from_db()
            obj._state.adding = False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """The rows of a record, shown on its page and never written there."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ServiceDelete:
    """A ModelAdmin mixin: deleting, one object or a selection, goes through
    `delete_through(actor=, obj=)`, which calls the domain's delete service;
    a selection is deleted in one transaction, all or nothing."""

    def delete_through(self, *, actor: Any, obj: Any) -> None:
        raise NotImplementedError

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        self.delete_through(actor=request.user, obj=obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_through(actor=request.user, obj=obj)


# An admin page's layout: field names, a tuple for fields side by side.
Layout = tuple[str | tuple[str, ...], ...]

# A shipping address copied onto a row (an AddressInput's fields, each
# prefixed `shipping_`), as carts and orders keep it.
SHIPPING_ADDRESS: Layout = (
    ("shipping_first_name", "shipping_last_name"), "shipping_company",
    "shipping_street_address_1", "shipping_street_address_2",
    ("shipping_postal_code", "shipping_city"), ("shipping_country_area", "shipping_country"),
    "shipping_phone",
)


def field_names(*layouts: Sequence[str | Sequence[str]]) -> tuple[str, ...]:
    """Every field a layout shows: what a read-only page lists as its
    readonly_fields."""
    return tuple(name for layout in layouts for entry in layout
                 for name in ((entry,) if isinstance(entry, str) else entry))
