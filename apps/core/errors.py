"""The errors a service raises when it refuses a write for a reason the caller
can fix. The GraphQL layer turns them into payload `errors` entries; nothing
here knows about GraphQL."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    UNIQUE = "UNIQUE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    INVALID_COUPON = "INVALID_COUPON"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    # The payment gateway could not be reached or failed on its side: nothing
    # the customer did; the same call may be made again.
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    THROTTLED = "THROTTLED"
    IN_USE = "IN_USE"
    # The password (or a social provider) proved the first factor; the
    # account asks for a second: the payload carries a challenge for it.
    TWO_FACTOR_REQUIRED = "TWO_FACTOR_REQUIRED"
    # The account still has an order on its way (pending, processing or
    # shipped): it cannot be deleted until that order is delivered or cancelled.
    ORDER_OPEN = "ORDER_OPEN"
    # A social sign-in provider could not be reached or answered nonsense:
    # nothing the customer did; the sign-in may be started again.
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    # The social sign-in provider has not verified the account's email
    # address, so it links to no account and makes none.
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    # Staff management: the actor tried to grant (or take away, or act on
    # someone holding) a permission they do not hold themselves.
    PERMISSION_NOT_HELD = "PERMISSION_NOT_HELD"
    # The change would leave no active staff member holding manage_staff.
    LAST_STAFF_MANAGER = "LAST_STAFF_MANAGER"


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    code: ErrorCode


class ServiceError(Exception):
    """One or more reasons a write was refused. Nothing was written."""

    def __init__(
        self,
        message: str = "",
        *,
        code: ErrorCode = ErrorCode.INVALID,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        payload: dict[str, Any] | None = None,
    ):
        self.errors = list(errors or [])
        # Fields of the answer that go with the refusal (a two-factor
        # challenge), for the API to put beside the errors.
        self.payload = dict(payload or {})
        if message:
            self.errors.insert(0, FieldError(field=field, message=message, code=code))
        super().__init__("; ".join(e.message for e in self.errors))

    @classmethod
    def from_validation_error(
        cls, error: ValidationError, *, field: str | None = None, code: ErrorCode | None = None
    ) -> "ServiceError":
        """Carry Django's validation errors (full_clean, password validators) over.

        Django's own codes ("unique", "required", "password_too_short"...) map
        onto ours; anything else is INVALID.
        """
        found: list[FieldError] = []
        by_field = (
            error.error_dict.items()
            if hasattr(error, "error_dict")
            else [(field or NON_FIELD_ERRORS, error.error_list)]
        )
        for name, errors in by_field:
            for item in errors:
                for message in item.messages:
                    found.append(
                        FieldError(
                            field=None if name == NON_FIELD_ERRORS else name,
                            message=message,
                            code=code or _DJANGO_CODES.get(item.code or "", ErrorCode.INVALID),
                        )
                    )
        return cls(errors=found)


_DJANGO_CODES = {
    "unique": ErrorCode.UNIQUE,
    "unique_together": ErrorCode.UNIQUE,
    "required": ErrorCode.REQUIRED,
    "blank": ErrorCode.REQUIRED,
    "null": ErrorCode.REQUIRED,
    "password_too_short": ErrorCode.PASSWORD_TOO_WEAK,
    "password_too_common": ErrorCode.PASSWORD_TOO_WEAK,
    "password_entirely_numeric": ErrorCode.PASSWORD_TOO_WEAK,
    "password_too_similar": ErrorCode.PASSWORD_TOO_WEAK,
}


class NotFound(ServiceError):
    """The object does not exist, or is not the caller's to see."""

    def __init__(self, message: str = "Not found.", *, field: str | None = None):
        super().__init__(message, code=ErrorCode.NOT_FOUND, field=field)
