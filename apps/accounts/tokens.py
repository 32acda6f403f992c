"""The tokens the accounts domain hands out, other than access JWTs (jwt.py).

- Refresh tokens: random strings; only their SHA-256 hash is stored, so a
  leaked database does not leak usable tokens.
- Confirmation tokens: signed (django.core.signing) and timestamped; they
  carry the email they confirm, so a token minted for an old address cannot
  verify a changed one.
- Password-reset tokens: "<uidb64>.<token>" from Django's
  default_token_generator, which hashes the password and last login in, so
  a token stops working once the password changes (one-time).
- Two-factor challenges: random strings kept in the cache (Redis in
  production, so any process may take the second step) under their SHA-256
  hash, with the user and the way in that proved the first factor. Usable
  for TWO_FACTOR_CHALLENGE_MAX_AGE seconds, judged by this process's clock
  like the login throttle, and spent by deleting the key, which only one
  caller can do.
"""

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.cache import cache
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


@dataclass(frozen=True)
class TwoFactorChallenge:
    user_id: int
    method: str


def _challenge_key(raw: str) -> str:
    return "two-factor-challenge:" + hashlib.sha256(raw.encode()).hexdigest()


def make_two_factor_challenge(*, user_id: int, method: str) -> str:
    raw = secrets.token_urlsafe(32)
    cache.set(
        _challenge_key(raw),
        {"user": user_id, "method": method, "issued": time.time()},
        timeout=settings.TWO_FACTOR_CHALLENGE_MAX_AGE,
    )
    return raw


def read_two_factor_challenge(raw: str) -> TwoFactorChallenge:
    """What a challenge still usable was issued for; BadToken when it is
    unknown, expired or spent. Reading does not spend it: a mistyped code
    may be typed again."""
    stored = cache.get(_challenge_key(raw or ""))
    if not isinstance(stored, dict):
        raise BadToken
    if time.time() - float(stored["issued"]) >= settings.TWO_FACTOR_CHALLENGE_MAX_AGE:
        raise BadToken
    return TwoFactorChallenge(user_id=int(stored["user"]), method=str(stored["method"]))


def spend_two_factor_challenge(raw: str) -> bool:
    """Whether this caller spent it; of two at once, one is told False."""
    return bool(cache.delete(_challenge_key(raw or "")))
