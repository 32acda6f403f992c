"""Throttling, counted in the Django cache (Redis in production).

Sign-in (and the current-password check of passwordChange, which is the same
guess):

Failures are counted per email and per client address within a fixed window
that starts at the first failure; once either count reaches its limit,
sign-in is refused until the window ends, even with the right password, so
guessing cannot go on at a slower pace inside the window. A success clears
the email's count only: one account's owner signing in must not reset the
count of an address that is trying many accounts.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

from apps.core.validation import normalize_email


def _key(kind: str, ident: str) -> str:
    # Hashed: cache keys must not carry personal data nor arbitrary characters.
    return f"throttle:{kind}:" + hashlib.sha256(ident.encode()).hexdigest()


def _email_key(email: str) -> str:
    return _key("login-failures:email", normalize_email(email))


def _ip_key(ip: str) -> str:
    return _key("login-failures:ip", ip)


def _count(key: str, window: int) -> int:
    """One more in the window that started with the first; the new count."""
    # add() starts the window only if none is running; incr() keeps its expiry.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(key, 1, timeout=window)
        return 1


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    keys = [(_email_key(email), settings.LOGIN_THROTTLE_EMAIL_LIMIT)]
    if ip:
        keys.append((_ip_key(ip), settings.LOGIN_THROTTLE_IP_LIMIT))
    return keys


def is_locked(*, email: str, ip: str) -> bool:
    counts = cache.get_many([key for key, _ in _keys(email, ip)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(email, ip))


def record_failure(*, email: str, ip: str) -> None:
    for key, _ in _keys(email, ip):
        _count(key, settings.LOGIN_THROTTLE_WINDOW)


def record_success(*, email: str) -> None:
    cache.delete(_email_key(email))


def may_send_password_reset(*, email: str) -> bool:
    """At most PASSWORD_RESET_EMAIL_LIMIT reset emails an hour to one address,
    so the form cannot be used to flood someone's inbox."""
    count = _count(_key("password-reset", normalize_email(email)), 3600)
    return count <= settings.PASSWORD_RESET_EMAIL_LIMIT
