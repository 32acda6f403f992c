"""Throttling, counted in the Django cache (Redis in production).

Sign-in (and the current-password check of passwordChange, which is the same
guess):

Failures are counted per email and per client address within a fixed window
that starts at the first failure; once either count reaches its limit,
sign-in is refused until the window ends, even with the right password, so
guessing cannot go on at a slower pace inside the window. A success clears
the email's count only: one account's owner signing in must not reset the
count of an address that is trying many accounts.

Each count has a sibling key holding when its window started, and the
window's end is decided here, against this process's clock. The cache's own
expiry (the same length) only tidies up: it runs on Redis's clock, which
neither answers exactly when the window ends nor moves when a test moves
the clock.
"""

import hashlib
import time

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


def _started(key: str) -> str:
    return f"{key}:started"


def _running(started: float | None, window: int, now: float) -> bool:
    # A count whose start is unknown (a lost sibling key) still counts: the
    # cache's expiry ends it.
    return started is None or now - started < window


def _count(key: str, window: int) -> int:
    """One more in the window that started with the first; the new count."""
    now = time.time()
    started = cache.get(_started(key))
    if started is not None and not _running(started, window, now):
        cache.delete_many([key, _started(key)])
    # add() starts a window only if none is running; incr() keeps its expiry.
    cache.add(_started(key), now, timeout=window)
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set_many({key: 1, _started(key): now}, timeout=window)
        return 1


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    keys = [(_email_key(email), settings.LOGIN_THROTTLE_EMAIL_LIMIT)]
    if ip:
        keys.append((_ip_key(ip), settings.LOGIN_THROTTLE_IP_LIMIT))
    return keys


def is_locked(*, email: str, ip: str) -> bool:
    keys = _keys(email, ip)
    stored = cache.get_many([name for key, _ in keys for name in (key, _started(key))])
    now, window = time.time(), settings.LOGIN_THROTTLE_WINDOW
    return any(
        stored.get(key, 0) >= limit and _running(stored.get(_started(key)), window, now)
        for key, limit in keys
    )


def record_failure(*, email: str, ip: str) -> None:
    for key, _ in _keys(email, ip):
        _count(key, settings.LOGIN_THROTTLE_WINDOW)


def record_success(*, email: str) -> None:
    cache.delete_many([_email_key(email), _started(_email_key(email))])


def may_send_password_reset(*, email: str) -> bool:
    """At most PASSWORD_RESET_EMAIL_LIMIT reset emails an hour to one address,
    so the form cannot be used to flood someone's inbox."""
    count = _count(_key("password-reset", normalize_email(email)), 3600)
    return count <= settings.PASSWORD_RESET_EMAIL_LIMIT
