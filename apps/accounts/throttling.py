"""Throttling of sign-in (and of the current-password check of
passwordChange, which is the same guess), counted by apps.core.throttling.

Failures are counted per email and per client address within a fixed window
that starts at the first failure; once either count reaches its limit,
sign-in is refused until the window ends, even with the right password, so
guessing cannot go on at a slower pace inside the window. A success clears
the email's count only: one account's owner signing in must not reset the
count of an address that is trying many accounts.
"""

from django.conf import settings

from apps.core.throttling import any_reached, count_clear, count_one, throttle_key
from apps.core.validation import normalize_email


def _email_key(email: str) -> str:
    return throttle_key("login-failures:email", normalize_email(email))


def _ip_key(ip: str) -> str:
    return throttle_key("login-failures:ip", ip)


def _two_factor_key(user_id: int) -> str:
    return throttle_key("two-factor-failures:user", str(user_id))


def _with_ip(key: str, ip: str) -> list[tuple[str, int]]:
    keys = [(key, settings.LOGIN_THROTTLE_EMAIL_LIMIT)]
    if ip:
        keys.append((_ip_key(ip), settings.LOGIN_THROTTLE_IP_LIMIT))
    return keys


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    return _with_ip(_email_key(email), ip)


def is_locked(*, email: str, ip: str) -> bool:
    return any_reached(_keys(email, ip), settings.LOGIN_THROTTLE_WINDOW)


def record_failure(*, email: str, ip: str) -> None:
    for key, _ in _keys(email, ip):
        count_one(key, settings.LOGIN_THROTTLE_WINDOW)


def record_success(*, email: str) -> None:
    count_clear(_email_key(email))


# Second-factor codes are counted per user, not per email: the right password
# clears the email's count (record_success), and with the password alone an
# attacker could otherwise sign in again before every few guesses of a code.
# The client address's count is the password's, so one address guessing
# passwords and codes is held to one limit.

def two_factor_is_locked(*, user_id: int, ip: str) -> bool:
    return any_reached(_with_ip(_two_factor_key(user_id), ip), settings.LOGIN_THROTTLE_WINDOW)


def record_two_factor_failure(*, user_id: int, ip: str) -> None:
    for key, _ in _with_ip(_two_factor_key(user_id), ip):
        count_one(key, settings.LOGIN_THROTTLE_WINDOW)


def record_two_factor_success(*, user_id: int) -> None:
    count_clear(_two_factor_key(user_id))


def may_send_password_reset(*, email: str) -> bool:
    """At most PASSWORD_RESET_EMAIL_LIMIT reset emails an hour to one address,
    so the form cannot be used to flood someone's inbox."""
    count = count_one(throttle_key("password-reset", normalize_email(email)), 3600)
    return count <= settings.PASSWORD_RESET_EMAIL_LIMIT
