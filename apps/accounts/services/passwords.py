"""Changing and resetting passwords. A new password ends every session."""

from typing import Any

from django.db import transaction

from apps.core import events
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import normalize_email

from .. import throttling, tokens
from ..models import User
from .checks import invalid_token, password_errors, throttled
from .sessions import refresh_tokens_revoke_all


@transaction.atomic
def _set_password(user: User, password: str, **also: Any) -> None:
    """A new password ends every session: its refresh tokens are revoked,
    and its access tokens are refused from the next request on (their `sid`)."""
    user.set_password(password)
    for name, value in also.items():
        setattr(user, name, value)
    user.save(update_fields=["password", *also, "updated_at"])
    refresh_tokens_revoke_all(user=user)


def password_change(*, user: User, old_password: str, new_password: str, ip: str = "") -> User:
    """Guessing the current password here counts as failed sign-ins, so a
    stolen access token cannot be used to find the password."""
    if throttling.is_locked(email=user.email, ip=ip):
        raise throttled("old_password")
    if not user.check_password(old_password or ""):
        throttling.record_failure(email=user.email, ip=ip)
        raise ServiceError(
            "The current password is not right.",
            code=ErrorCode.INVALID_CREDENTIALS,
            field="old_password",
        )
    errors = password_errors(new_password, user, field="new_password")
    if errors:
        raise ServiceError(errors=errors)
    _set_password(user, new_password)
    return user


def password_reset_request(*, email: str) -> None:
    """Emails a reset link if the account exists. The caller is never told
    whether it does; the email is sent after commit, by Celery."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None and throttling.may_send_password_reset(email=user.email):
        events.publish(events.PasswordResetRequested(user_id=user.pk))


def password_reset(*, token: str, new_password: str) -> User:
    """The link reached the user's inbox, so the email counts as verified."""
    try:
        user = tokens.user_for_password_reset_token(token)
    except tokens.BadToken:
        raise invalid_token("token") from None
    errors = password_errors(new_password, user, field="new_password")
    if errors:
        raise ServiceError(errors=errors)
    _set_password(user, new_password, is_email_verified=True)
    return user
