"""What several account services check alike, and how they say it."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from apps.core.errors import ErrorCode, FieldError, ServiceError

from ..models import User


def field_errors(error: ValidationError, *, field: str | None = None) -> list[FieldError]:
    return ServiceError.from_validation_error(error, field=field).errors


def password_errors(password: str, user: User, *, field: str) -> list[FieldError]:
    if not password:
        return [FieldError(field=field, message="Enter a password.", code=ErrorCode.REQUIRED)]
    try:
        validate_password(password, user)
    except ValidationError as error:
        return field_errors(error, field=field)
    return []


def invalid_token(field: str, message: str = "The token is invalid or has expired.") -> ServiceError:
    return ServiceError(message, code=ErrorCode.INVALID_TOKEN, field=field)


def throttled(field: str | None = None) -> ServiceError:
    return ServiceError(
        "Too many failed sign-in attempts. Try again later.",
        code=ErrorCode.THROTTLED,
        field=field,
    )


def two_factor_required(*, field: str | None = None, payload: dict | None = None) -> ServiceError:
    """The right password of an account with two-factor sign-in on, without
    its code yet: one wording for every way in that asks for it."""
    return ServiceError(
        "Enter the code from your authenticator app, or a recovery code.",
        code=ErrorCode.TWO_FACTOR_REQUIRED, field=field, payload=payload,
    )
