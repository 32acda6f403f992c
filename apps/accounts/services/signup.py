"""Sign-up and confirming the email address."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core import events
from apps.core.errors import ErrorCode, FieldError, ServiceError
from apps.core.validation import normalize_email

from .. import tokens
from ..models import User
from .checks import field_errors, invalid_token, password_errors


@transaction.atomic
def account_register(
    *, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    user = User(
        email=normalize_email(email),
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
    )
    errors: list[FieldError] = []
    try:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors += field_errors(error)
    errors += password_errors(password, user, field="password")
    if errors:
        raise ServiceError(errors=errors)
    taken = ServiceError(
        "An account with this email already exists.", code=ErrorCode.UNIQUE, field="email"
    )
    if User.objects.filter(email=user.email).exists():
        raise taken
    try:
        with transaction.atomic():  # a concurrent sign-up may win the race
            user.set_password(password)
            user.save()
    except IntegrityError as error:
        raise taken from error
    events.publish(events.AccountRegistered(user_id=user.pk))
    return user


def account_confirm(*, token: str) -> User:
    try:
        user_id, email = tokens.read_confirmation_token(token)
    except tokens.BadToken:
        raise invalid_token("token") from None
    user = User.objects.filter(pk=user_id, email=email, is_active=True).first()
    if user is None:
        raise invalid_token("token")
    if not user.is_email_verified:
        user.is_email_verified = True
        user.save(update_fields=["is_email_verified", "updated_at"])
    return user
