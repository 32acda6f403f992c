"""The tokens the accounts domain hands out, other than access JWTs (jwt.py).

- Refresh tokens: random strings; only their SHA-256 hash is stored, so a
  leaked database does not leak usable tokens.
- Confirmation tokens: signed (django.core.signing) and timestamped; they
  carry the email they confirm, so a token minted for an old address cannot
  verify a changed one.
- Password-reset tokens: "<uidb64>.<token>" from Django's
  default_token_generator, which hashes the password and last login in, so
  a token stops working once the password changes (one-time).
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from .models import User

CONFIRMATION_SALT = "accounts.confirm-email"


class BadToken(Exception):
    pass


def new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def hash_refresh_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def make_confirmation_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "email": user.email}, salt=CONFIRMATION_SALT)


def read_confirmation_token(token: str) -> tuple[int, str]:
    """(user id, email) of a valid token; BadToken when forged or too old."""
    try:
        payload = signing.loads(
            token, salt=CONFIRMATION_SALT, max_age=settings.ACCOUNT_CONFIRMATION_MAX_AGE
        )
        return int(payload["user"]), str(payload["email"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadToken from error


def make_password_reset_token(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{default_token_generator.make_token(user)}"


def user_for_password_reset_token(token: str) -> User:
    """The active user a valid reset token was made for; BadToken otherwise."""
    uid, _, key = (token or "").partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError) as error:
        raise BadToken from error
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, key):
        raise BadToken
    return user
