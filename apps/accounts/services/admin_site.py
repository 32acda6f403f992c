"""Signing in to the Django admin (`/admin/`): a session for staff, with
the same password check, second factor, throttling and sign-in history as
tokenAuth and tokenAuthTwoFactor (README "Two-factor sign-in"), so the admin
is no way around two-factor sign-in. The admin's login form calls
`admin_sign_in` and makes the Django session of the user it answers."""

from django.conf import settings
from django.db import transaction

from apps.core.errors import ErrorCode, ServiceError

from ..models import SignInAttempt, User
from .checks import two_factor_required
from .history import sign_in_failed, sign_in_succeeded
from .sessions import password_proven
from .twofactor import confirmed_device, second_factor_spend

# The way in, as the sign-in history names it.
METHOD = "admin"


def _not_staff() -> ServiceError:
    # A wrong password's words: the admin does not tell whose password was
    # right but who is no staff member.
    return ServiceError("The email or password is not right.",
                        code=ErrorCode.INVALID_CREDENTIALS)


def _two_factor_wanted() -> ServiceError:
    return ServiceError(
        "The admin asks staff for two-factor sign-in: turn it on through the API "
        "(twoFactorSetup, then twoFactorConfirm) before signing in here.",
        code=ErrorCode.INVALID,
    )


def _signed_in(*, user: User, ip: str, user_agent: str) -> User:
    sign_in_succeeded(user=user, ip=ip, user_agent=user_agent, method=METHOD)
    return user


def admin_sign_in(*, email: str, password: str, code: str = "", ip: str = "",
                  user_agent: str = "") -> User:
    """The staff member whose password, and code when their account has
    two-factor sign-in on, are right; the caller makes their admin session.

    The password comes first (`password_proven`, throttled and recorded as
    tokenAuth's), so a wrong one never tells whether the account has
    two-factor sign-in on, and a code given with it is not looked at. With
    two-factor on, a missing code is TWO_FACTOR_REQUIRED on `code`, and a
    TOTP or recovery code is checked and spent by `second_factor_spend`,
    tokenAuthTwoFactor's: never accepted twice, wrong ones counted and
    throttled. With ADMIN_TWO_FACTOR_REQUIRED, staff without it on are
    refused and told to turn it on. Each refusal past the right password is
    in the account's sign-in history too (NOT_STAFF, TWO_FACTOR_NOT_ON)."""
    user = password_proven(email=email, password=password, ip=ip, user_agent=user_agent,
                           method=METHOD)
    if not user.is_staff:
        sign_in_failed(user=user, ip=ip, user_agent=user_agent, method=METHOD,
                       reason=SignInAttempt.Reason.NOT_STAFF)
        raise _not_staff()
    device = confirmed_device(user=user)
    if device is None:
        if settings.ADMIN_TWO_FACTOR_REQUIRED:
            sign_in_failed(user=user, ip=ip, user_agent=user_agent, method=METHOD,
                           reason=SignInAttempt.Reason.TWO_FACTOR_NOT_ON)
            raise _two_factor_wanted()
        with transaction.atomic():
            return _signed_in(user=user, ip=ip, user_agent=user_agent)
    if not code.strip():
        sign_in_failed(user=user, ip=ip, user_agent=user_agent, method=METHOD,
                       reason=SignInAttempt.Reason.TWO_FACTOR_REQUIRED)
        raise two_factor_required(field="code")
    return second_factor_spend(
        user=user, device=device, code=code, ip=ip, user_agent=user_agent, method=METHOD,
        then=lambda: _signed_in(user=user, ip=ip, user_agent=user_agent),
    )
