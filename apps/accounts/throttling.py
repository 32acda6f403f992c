"""Sign-in throttling, counted in the Django cache (Redis in production).

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


def _email_key(email: str) -> str:
    # Hashed: cache keys must not carry personal data nor arbitrary characters.
    return "login-failures:email:" + hashlib.sha256(email.lower().encode()).hexdigest()


def _ip_key(ip: str) -> str:
    return "login-failures:ip:" + hashlib.sha256(ip.encode()).hexdigest()


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    keys = [(_email_key(email), settings.LOGIN_THROTTLE_EMAIL_LIMIT)]
    if ip:
        keys.append((_ip_key(ip), settings.LOGIN_THROTTLE_IP_LIMIT))
    return keys


def is_locked(*, email: str, ip: str) -> bool:
    counts = cache.get_many([key for key, _ in _keys(email, ip)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(email, ip))


def record_failure(*, email: str, ip: str) -> None:
    window = settings.LOGIN_THROTTLE_WINDOW
    for key, _ in _keys(email, ip):
        # add() starts the window only if none is running; incr() keeps its expiry.
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # the window ended between add() and incr()
            cache.set(key, 1, timeout=window)


def record_success(*, email: str) -> None:
    cache.delete(_email_key(email))
