"""The two signed tokens of the privacy flows (django.core.signing, each with
its own salt, so neither can stand for the other or for any other token of
the shop).

- An export link names one AccountDataExport and is timestamped: it works
  ACCOUNT_EXPORT_LINK_MAX_AGE seconds after the email was written.
- A deletion token names the user and a stamp of what the account is now
  (its password hash and email, HMAC'd with the secret key): changing the
  password or the email spends every token made before, and the deletion
  spends its own (the account is gone). It works ACCOUNT_DELETE_TOKEN_MAX_AGE seconds.

Both are made when their email is written, never carried by the broker.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from apps.accounts.models import User

EXPORT_SALT = "privacy.export-link"
DELETE_SALT = "privacy.account-delete"
# commerce/urls.py serves it; the links are made here.
EXPORT_PATH = "privacy/exports/"
# The storefront's page that calls accountDelete(token).
DELETE_PATH = "/account/delete"


class BadLink(Exception):
    """Forged, or signed for something else."""


class ExpiredLink(BadLink):
    """Signed here, but older than its max age."""


def export_link_token(*, export_id: int) -> str:
    return signing.TimestampSigner(salt=EXPORT_SALT).sign_object({"export": export_id})


def export_link(*, export_id: int) -> str:
    token = export_link_token(export_id=export_id)
    return f"{settings.PUBLIC_URL.rstrip('/')}/{EXPORT_PATH}{token}/"


def read_export_link(token: str) -> int:
    """The export id a link names; ExpiredLink when too old, BadLink otherwise."""
    try:
        payload = signing.TimestampSigner(salt=EXPORT_SALT).unsign_object(
            token, max_age=settings.ACCOUNT_EXPORT_LINK_MAX_AGE)
        return int(payload["export"])
    except signing.SignatureExpired as error:
        raise ExpiredLink from error
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadLink from error


def _stamp(user: User) -> str:
    value = f"{user.pk}|{user.password}|{user.email}"
    return salted_hmac(DELETE_SALT, value).hexdigest()[:32]


def delete_token(user: User) -> str:
    return signing.dumps({"user": user.pk, "stamp": _stamp(user)}, salt=DELETE_SALT)


@dataclass(frozen=True)
class DeleteClaim:
    user_id: int
    stamp: str

    def matches(self, user: User) -> bool:
        """Whether the token was made for the account as it is now."""
        return user.pk == self.user_id and constant_time_compare(self.stamp, _stamp(user))


def read_delete_token(token: str) -> DeleteClaim:
    try:
        payload = signing.loads(token or "", salt=DELETE_SALT,
                                max_age=settings.ACCOUNT_DELETE_TOKEN_MAX_AGE)
        return DeleteClaim(user_id=int(payload["user"]), stamp=str(payload["stamp"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadLink from error
