from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from .jwt import InvalidAccessToken, decode_access_token
from .models import Address, User


def user_from_access_token(token: str) -> User:
    """The active user an access token names.

    Raises InvalidAccessToken for a bad or expired token, or one whose user is
    gone or deactivated: deactivation takes effect at once, not at expiry.
    """
    payload = decode_access_token(token)
    user = User.objects.filter(pk=payload["sub"], is_active=True).first()
    if user is None:
        raise InvalidAccessToken("The access token is invalid.")
    return user


def anonymous() -> AnonymousUser:
    return AnonymousUser()


def addresses_of(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)
