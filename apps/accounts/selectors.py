from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from .jwt import InvalidAccessToken, decode_access_token, user_id_of
from .models import Address, User
from .permissions import Perm, staff_has_perm


def user_from_access_token(token: str) -> User:
    """The active user an access token names.

    Raises InvalidAccessToken for a bad or expired token, or one whose user is
    gone or deactivated: deactivation takes effect at once, not at expiry.
    """
    user_id = user_id_of(decode_access_token(token))
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise InvalidAccessToken("The access token is invalid.")
    return user


def anonymous() -> AnonymousUser:
    return AnonymousUser()


def addresses_of(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)


def user_as_queryset(*, user: User) -> QuerySet[User]:
    """The user as a one-row queryset, for the optimizer to add what a query reads."""
    return User.objects.filter(pk=user.pk)


def _manages_customers(viewer) -> bool:
    return staff_has_perm(viewer, Perm.MANAGE_CUSTOMERS)


def users_visible_to(*, viewer) -> QuerySet[User]:
    """A customer sees only themself; staff managing customers see everyone."""
    if _manages_customers(viewer):
        return User.objects.all()
    if viewer is None or not viewer.is_authenticated:
        return User.objects.none()
    return User.objects.filter(pk=viewer.pk)


def addresses_visible_to(*, viewer) -> QuerySet[Address]:
    """Address book entries: one's own; staff managing customers see all."""
    if _manages_customers(viewer):
        return Address.objects.all()
    if viewer is None or not viewer.is_authenticated:
        return Address.objects.none()
    return addresses_of(user=viewer)
