"""The user's own profile and address book."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core import events
from apps.core.errors import NotFound, ServiceError

from ..models import Address, User

ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "street_address_1",
    "street_address_2",
    "city",
    "postal_code",
    "country_area",
    "country",
    "phone",
)


NAME_FIELDS = ("first_name", "last_name")


@transaction.atomic
def account_update(
    *, user: User, first_name: str | None = None, last_name: str | None = None
) -> User:
    """None leaves a field as it is. A name that changed is told
    (AccountNameChanged): reviews are signed with it, and the response cache
    keeps signed pages."""
    changes = {
        name: value.strip()
        for name, value in zip(NAME_FIELDS, (first_name, last_name), strict=True)
        if value is not None and value.strip() != getattr(user, name)
    }
    if not changes:
        return user
    for name, value in changes.items():
        setattr(user, name, value)
    others = [f.name for f in User._meta.fields if f.name not in changes]
    try:
        user.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        user.refresh_from_db(fields=list(changes))
        raise ServiceError.from_validation_error(error) from None
    user.save(update_fields=[*changes, "updated_at"])
    events.publish(events.AccountNameChanged(user_id=user.pk))
    return user


def _apply_address(address: Address, data: dict[str, Any]) -> None:
    unknown = set(data) - set(ADDRESS_FIELDS)
    if unknown:
        raise TypeError(f"Not address fields: {sorted(unknown)}")
    for name, value in data.items():
        value = (value or "").strip()
        setattr(address, name, value.upper() if name == "country" else value)
    try:
        address.full_clean(exclude=["user"])
    except ValidationError as error:
        raise ServiceError.from_validation_error(error) from None


def address_checked(*, data: dict[str, Any]) -> Address:
    """An address checked as the address book checks it, and not saved: for
    what keeps its own copy of an address (a cart's shipping address)."""
    address = Address()
    _apply_address(address, {name: data.get(name) for name in ADDRESS_FIELDS})
    return address


def _set_default_shipping(user: User, address: Address) -> None:
    user.default_shipping_address = address
    user.save(update_fields=["default_shipping_address", "updated_at"])


@transaction.atomic
def address_create(
    *, user: User, data: dict[str, Any], set_default: bool | None = None
) -> Address:
    """`set_default` True makes the address the default shipping address;
    left out (None), it becomes the default only when the user has none yet,
    e.g. for their first address; False never makes it the default."""
    address = Address(user=user)
    _apply_address(address, {name: data.get(name) for name in ADDRESS_FIELDS})
    address.save()
    # Locked so two first addresses created at once do not both become default.
    locked = User.objects.select_for_update().only("default_shipping_address").get(pk=user.pk)
    if set_default or (set_default is None and locked.default_shipping_address_id is None):
        _set_default_shipping(user, address)
    return address


def _own_address(user: User, address_id: int | None) -> Address:
    address = Address.objects.filter(user=user, pk=address_id).first() if address_id else None
    if address is None:
        raise NotFound("Address not found.", field="id")
    return address


@transaction.atomic
def address_update(
    *, user: User, address_id: int | None, data: dict[str, Any], set_default: bool = False
) -> Address:
    """Changes only the fields in `data`; someone else's address is NotFound."""
    address = _own_address(user, address_id)
    _apply_address(address, data)
    address.save()
    if set_default:
        _set_default_shipping(user, address)
    return address


@transaction.atomic
def address_delete(*, user: User, address_id: int | None) -> None:
    """A deleted default leaves the user without one (the FK is SET_NULL)."""
    address = _own_address(user, address_id)
    address.delete()
    if user.default_shipping_address_id == address.pk or user.default_billing_address_id == address.pk:
        user.refresh_from_db(fields=["default_shipping_address", "default_billing_address"])
