"""Two-factor sign-in: setting up an authenticator app, turning it on and
off, and the second step of signing in (README "Two-factor sign-in").

A code is spent by a conditional UPDATE: a TOTP code moves the device's
`last_used_step` forward only from an earlier step, a recovery code sets its
`used_at` only while unset, so of two requests with one code exactly one
gets it. A wrong or spent code is INVALID_TOKEN on `code` and counts toward
the sign-in throttle (apps.accounts.throttling, per user and address).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from apps.core import events
from apps.core.errors import ErrorCode, ServiceError

from .. import otp, throttling, tokens
from ..models import RecoveryCode, SignInAttempt, TwoFactorDevice, User
from .checks import invalid_token, throttled
from .sessions import IssuedTokens, sign_in_complete, sign_in_failed

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class TwoFactorSecret:
    """What the user's authenticator app needs; shown once, at setup."""

    secret: str
    otpauth_uri: str


def _already_on() -> ServiceError:
    return ServiceError("Two-factor sign-in is already on.", code=ErrorCode.INVALID)


def _not_on() -> ServiceError:
    return ServiceError("Two-factor sign-in is not on.", code=ErrorCode.INVALID)


def _code_refused(*, user: User, ip: str) -> ServiceError:
    throttling.record_two_factor_failure(user_id=user.pk, ip=ip)
    return invalid_token("code", "The code is not right, or was used already.")


def _device_locked(user: User) -> TwoFactorDevice | None:
    """The user's device, with their account row locked: setting up,
    confirming and turning off take turns, so two at once cannot both make
    a device or both hand out recovery codes."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
    return TwoFactorDevice.objects.filter(user=user).first()


def _spend_totp(device: TwoFactorDevice, code: str, **also: object) -> bool:
    try:
        secret = otp.decrypt_secret(device.encrypted_secret)
    except otp.UnreadableSecret:
        # SECRET_KEY changed without the old one in SECRET_KEY_FALLBACKS: no
        # code can match; staff can turn it off (two_factor_remove, the admin).
        logger.error("The two-factor secret of user %s cannot be decrypted.", device.user_id)
        return False
    step = otp.matching_step(secret, otp.normalize_code(code))
    if step is None:
        return False
    spent = TwoFactorDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
        last_used_step=step, **also
    )
    return spent == 1


def _spend_code(device: TwoFactorDevice, code: str) -> bool:
    """A current TOTP code never used, or an unused recovery code, spent."""
    if otp.looks_like_totp(otp.normalize_code(code)):
        return _spend_totp(device, code)
    hashes = otp.recovery_code_hashes(code)
    spent = RecoveryCode.objects.filter(
        user_id=device.user_id, code_hash__in=hashes, used_at__isnull=True
    ).update(used_at=timezone.now())
    return spent == 1


def two_factor_setup(*, user: User) -> TwoFactorSecret:
    """A new secret, replacing one set up but never confirmed (a QR code
    scanned on a lost phone, say). Two-factor sign-in is not on until
    `two_factor_confirm`."""
    secret = otp.new_secret()
    with transaction.atomic():
        device = _device_locked(user)
        if device is not None and device.confirmed_at is not None:
            raise _already_on()
        TwoFactorDevice.objects.update_or_create(
            user=user,
            defaults={"encrypted_secret": otp.encrypt_secret(secret),
                      "created_at": timezone.now(), "last_used_step": 0},
        )
    return TwoFactorSecret(secret=secret, otpauth_uri=otp.provisioning_uri(secret, email=user.email))


def two_factor_confirm(*, user: User, code: str, ip: str = "") -> list[str]:
    """Turn two-factor sign-in on with a code from the app just set up,
    which proves the app holds the secret. Answers the recovery codes, in
    plain this once; only their hashes are kept."""
    if throttling.two_factor_is_locked(user_id=user.pk, ip=ip):
        raise throttled("code")
    codes = otp.new_recovery_codes()
    with transaction.atomic():
        device = _device_locked(user)
        if device is None:
            raise ServiceError("Set up an authenticator app first (twoFactorSetup).",
                               code=ErrorCode.INVALID)
        if device.confirmed_at is not None:
            raise _already_on()
        if not _spend_totp(device, code, confirmed_at=timezone.now()):
            raise _code_refused(user=user, ip=ip)
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, code_hash=otp.recovery_code_hashes(one)[0]) for one in codes
        )
        events.publish(events.TwoFactorChanged(user_id=user.pk, enabled=True))
    throttling.record_two_factor_success(user_id=user.pk)
    return codes


def two_factor_disable(*, user: User, password: str, code: str, ip: str = "") -> User:
    """Turn two-factor sign-in off. Both factors are asked for, so neither a
    stolen access token nor a stolen password alone can do it; a recovery
    code serves as the code, for whoever lost the app."""
    if throttling.is_locked(email=user.email, ip=ip) or throttling.two_factor_is_locked(
        user_id=user.pk, ip=ip
    ):
        raise throttled()
    with transaction.atomic():
        device = _device_locked(user)
        if device is None or device.confirmed_at is None:
            raise _not_on()
        if not user.check_password(password or ""):
            throttling.record_failure(email=user.email, ip=ip)
            raise ServiceError("The password is not right.",
                               code=ErrorCode.INVALID_CREDENTIALS, field="password")
        if not _spend_code(device, code):
            raise _code_refused(user=user, ip=ip)
        _remove(device)
    throttling.record_two_factor_success(user_id=user.pk)
    return user


def _remove(device: TwoFactorDevice) -> None:
    device.delete()
    RecoveryCode.objects.filter(user_id=device.user_id).delete()
    if device.confirmed_at is not None:  # one only set up was never on
        events.publish(events.TwoFactorChanged(user_id=device.user_id, enabled=False))


def two_factor_remove(*, user: User) -> None:
    """Staff turning a user's two-factor sign-in off, without any code: for
    whoever lost both the app and the recovery codes, once staff have made
    sure who they are (the Django admin's delete of the device)."""
    with transaction.atomic():
        device = _device_locked(user)
        if device is not None:
            _remove(device)


def confirmed_device(*, user: User) -> TwoFactorDevice | None:
    """The device that makes signing in ask `user` for a code: one confirmed
    by a code, not one merely set up (selectors.two_factor_enabled)."""
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def second_factor_spend(*, user: User, device: TwoFactorDevice, code: str, ip: str,
                        user_agent: str, method: str, then: Callable[[], T]) -> T:
    """The second step of a sign-in whose password was right, the same for
    every way in that asks for it (`token_auth_two_factor`, the Django
    admin's login): refused while the account or the address is throttled;
    a TOTP or recovery code spent, so never accepted twice; `then` (what the
    sign-in becomes: tokens, an admin session's history row) run in the
    transaction that spent it, so a `then` that raises gives the code back;
    a wrong or spent code kept in the history and counted."""
    if throttling.two_factor_is_locked(user_id=user.pk, ip=ip):
        raise throttled("code")
    with transaction.atomic():
        spent = _spend_code(device, code)
        if spent:
            done = then()
    if not spent:
        # Outside the transaction: the history keeps the refusal.
        sign_in_failed(user=user, ip=ip, user_agent=user_agent, method=method,
                       reason=SignInAttempt.Reason.INVALID_TOKEN)
        raise _code_refused(user=user, ip=ip)
    throttling.record_two_factor_success(user_id=user.pk)
    return done


def token_auth_two_factor(
    *, challenge: str, code: str, ip: str = "", user_agent: str = ""
) -> IssuedTokens:
    """The second step of signing in: the challenge `sign_in_proven` gave
    and a code. The code and the challenge are spent in one transaction, the
    challenge last: a code that turns out to go with a spent challenge is
    given back, and a wrong code leaves the challenge for another try."""
    try:
        found = tokens.read_two_factor_challenge(challenge)
    except tokens.BadToken:
        raise invalid_token("challenge", "The challenge is unknown, used or expired; "
                                         "sign in again.") from None
    user = User.objects.filter(pk=found.user_id, is_active=True).first()
    device = confirmed_device(user=user) if user is not None else None
    if user is None or device is None:  # deactivated, or 2FA turned off since
        raise invalid_token("challenge", "The challenge is no longer valid; sign in again.")

    def complete() -> IssuedTokens:
        if not tokens.spend_two_factor_challenge(challenge):
            raise invalid_token("challenge", "The challenge was used already; sign in again.")
        return sign_in_complete(user=user, ip=ip, user_agent=user_agent, method=found.method)

    return second_factor_spend(user=user, device=device, code=code, ip=ip,
                               user_agent=user_agent, method=found.method, then=complete)
