"""Writes of the accounts domain: sign-up, sign-in tokens, profile, addresses,
passwords. Every refusal is a ServiceError the API turns into payload errors."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import events
from apps.core.errors import ErrorCode, FieldError, NotFound, ServiceError
from apps.core.validation import normalize_email

from . import throttling, tokens
from .jwt import encode_access_token
from .models import Address, RefreshToken, User

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    refresh_token: str


def _field_errors(error: ValidationError, *, field: str | None = None) -> list[FieldError]:
    return ServiceError.from_validation_error(error, field=field).errors


def _password_errors(password: str, user: User, *, field: str) -> list[FieldError]:
    if not password:
        return [FieldError(field=field, message="Enter a password.", code=ErrorCode.REQUIRED)]
    try:
        validate_password(password, user)
    except ValidationError as error:
        return _field_errors(error, field=field)
    return []


def _invalid_token(field: str, message: str = "The token is invalid or has expired.") -> ServiceError:
    return ServiceError(message, code=ErrorCode.INVALID_TOKEN, field=field)


# --- Sign-up --------------------------------------------------------------------


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
        errors += _field_errors(error)
    errors += _password_errors(password, user, field="password")
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
        raise _invalid_token("token") from None
    user = User.objects.filter(pk=user_id, email=email, is_active=True).first()
    if user is None:
        raise _invalid_token("token")
    if not user.is_email_verified:
        user.is_email_verified = True
        user.save(update_fields=["is_email_verified", "updated_at"])
    return user


# --- Tokens -------------------------------------------------------------------


def _issue_tokens(user: User, *, family: uuid.UUID) -> tuple[IssuedTokens, RefreshToken]:
    raw = tokens.new_refresh_token()
    now = timezone.now()
    record = RefreshToken.objects.create(
        user=user,
        token_hash=tokens.hash_refresh_token(raw),
        family=family,
        created_at=now,
        expires_at=now + settings.JWT_REFRESH_TOKEN_LIFETIME,
    )
    access = encode_access_token(user_id=user.pk, email=user.email)
    return IssuedTokens(user=user, access_token=access, refresh_token=raw), record


def _throttled(field: str | None = None) -> ServiceError:
    return ServiceError(
        "Too many failed sign-in attempts. Try again later.",
        code=ErrorCode.THROTTLED,
        field=field,
    )


def token_auth(*, email: str, password: str, ip: str = "") -> IssuedTokens:
    """Sign in. A wrong password, an unknown email and a deactivated account
    get the same answer, so the answer does not tell which emails exist."""
    email = normalize_email(email)
    if throttling.is_locked(email=email, ip=ip):
        raise _throttled()
    user = authenticate(None, email=email, password=password) if email and password else None
    if user is None:
        throttling.record_failure(email=email, ip=ip)
        raise ServiceError(
            "The email or password is not right.", code=ErrorCode.INVALID_CREDENTIALS
        )
    throttling.record_success(email=email)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        issued, _ = _issue_tokens(user, family=uuid.uuid4())
    return issued


def _revoke_family(family: uuid.UUID) -> int:
    return RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def refresh_token_rotate(*, refresh_token: str) -> IssuedTokens:
    """Swap a refresh token for a new one and a new access token.

    The presented token is revoked and points to its successor. A token that
    was already rotated is being replayed — it leaked, or two clients share
    it — so its whole family is revoked and everyone must sign in again. The
    row lock makes two concurrent refreshes of one token resolve one after the
    other: the second sees the token rotated and ends the family.
    """
    reused = None
    with transaction.atomic():
        record = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(token_hash=tokens.hash_refresh_token(refresh_token or ""))
            .first()
        )
        if record is None:
            raise _invalid_token("refresh_token")
        if record.revoked_at is not None:
            if record.replaced_by_id is None:
                raise _invalid_token("refresh_token")
            _revoke_family(record.family)
            reused = record
        elif record.expires_at <= timezone.now() or not record.user.is_active:
            raise _invalid_token("refresh_token")
        else:
            issued, successor = _issue_tokens(record.user, family=record.family)
            record.revoked_at = timezone.now()
            record.replaced_by = successor
            record.save(update_fields=["revoked_at", "replaced_by"])
            return issued
    # Outside the transaction: the family's revocation must commit.
    logger.warning(
        "Refresh token %s of user %s was replayed; family %s revoked.",
        reused.pk, reused.user_id, reused.family,
    )
    raise _invalid_token("refresh_token")


def refresh_token_revoke(*, refresh_token: str) -> None:
    """Sign out: end the token's session, i.e. its whole family.

    Revoking again succeeds (the client's goal, a dead token, is met); only a
    token that never existed is refused.
    """
    record = RefreshToken.objects.filter(
        token_hash=tokens.hash_refresh_token(refresh_token or "")
    ).first()
    if record is None:
        raise _invalid_token("refresh_token", "Unknown refresh token.")
    _revoke_family(record.family)


def refresh_tokens_revoke_all(*, user: User) -> int:
    return RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


# --- Profile and addresses -------------------------------------------------------------


def account_update(
    *, user: User, first_name: str | None = None, last_name: str | None = None
) -> User:
    """None leaves a field as it is."""
    changes = {
        name: value.strip()
        for name, value in (("first_name", first_name), ("last_name", last_name))
        if value is not None
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


# --- Passwords -------------------------------------------------------------------------


@transaction.atomic
def _set_password(user: User, password: str, **also: Any) -> None:
    """A new password ends every session: refresh tokens are revoked (access
    tokens live out their few minutes)."""
    user.set_password(password)
    for name, value in also.items():
        setattr(user, name, value)
    user.save(update_fields=["password", *also, "updated_at"])
    refresh_tokens_revoke_all(user=user)


def password_change(*, user: User, old_password: str, new_password: str, ip: str = "") -> User:
    """Guessing the current password here counts as failed sign-ins, so a
    stolen access token cannot be used to find the password."""
    if throttling.is_locked(email=user.email, ip=ip):
        raise _throttled("old_password")
    if not user.check_password(old_password or ""):
        throttling.record_failure(email=user.email, ip=ip)
        raise ServiceError(
            "The current password is not right.",
            code=ErrorCode.INVALID_CREDENTIALS,
            field="old_password",
        )
    errors = _password_errors(new_password, user, field="new_password")
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
        raise _invalid_token("token") from None
    errors = _password_errors(new_password, user, field="new_password")
    if errors:
        raise ServiceError(errors=errors)
    _set_password(user, new_password, is_email_verified=True)
    return user


def refresh_tokens_delete_expired(*, now: datetime | None = None) -> int:
    """Forget refresh tokens that can no longer be used.

    A revoked token is kept until it would have expired: presenting it before
    then must still be recognised as reuse, which revokes its family.
    """
    deleted, _ = RefreshToken.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
