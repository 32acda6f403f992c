"""The sign-in history: every attempt at signing in to an existing account,
how it ended, from where, and the new-device email it may cause.

An unknown email is not recorded: there is no account to show it to, and a
row for it would tell whoever reads the table which emails were tried.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.core import events

from ..models import SignInAttempt, User

Reason = SignInAttempt.Reason


def _record(*, user: User, succeeded: bool, reason: str, ip: str, user_agent: str,
            method: str) -> SignInAttempt:
    return SignInAttempt.objects.create(
        user=user, succeeded=succeeded, reason=Reason(reason), method=method[:40],
        ip=ip[:45], user_agent=user_agent[:255],
    )


def sign_in_failed(*, user: User, ip: str = "", user_agent: str = "", method: str,
                   reason: str) -> SignInAttempt:
    """Record a refused sign-in of `user` (a Reason value: INVALID_CREDENTIALS,
    THROTTLED, INACTIVE, TWO_FACTOR_REQUIRED, INVALID_TOKEN, and the admin's
    NOT_STAFF and TWO_FACTOR_NOT_ON). Call it outside
    any transaction that the refusal rolls back, or the row goes with it:
    the refusal is exactly what the history must keep."""
    return _record(user=user, succeeded=False, reason=reason, ip=ip, user_agent=user_agent,
                   method=method)


def sign_in_failed_for_email(*, email: str, password: str, ip: str, user_agent: str,
                             method: str, throttled: bool = False) -> None:
    """A refused password sign-in, recorded when the email is an account's.
    A deactivated account is INACTIVE only when the password was right, so
    the history does not call a stranger's guess a refusal of its owner."""
    account = User.objects.filter(email=email).first() if email else None
    if account is None:
        return
    if throttled:
        reason = Reason.THROTTLED
    elif not account.is_active and account.check_password(password):
        reason = Reason.INACTIVE
    else:
        reason = Reason.INVALID_CREDENTIALS
    sign_in_failed(user=account, ip=ip, user_agent=user_agent, method=method, reason=reason)


def is_new_device(*, user: User, user_agent: str) -> bool:
    """Whether a sign-in comes from a device the account has not signed in
    from before. A device is its user-agent string, exactly: the address is
    left out, since phones and laptops change networks all day and an email
    each time would teach customers to ignore it. An account with no earlier
    successful sign-in kept (its first, or the first since the history began
    or was purged) has nothing to compare with, and gets no email."""
    earlier = SignInAttempt.objects.filter(user=user, succeeded=True)
    return not earlier.filter(user_agent=user_agent[:255]).exists() and earlier.exists()


def sign_in_succeeded(*, user: User, ip: str, user_agent: str, method: str) -> SignInAttempt:
    """Record a sign-in that became a session, inside its transaction, and
    ask for the new-device email (sent after the commit) when it is one."""
    new_device = is_new_device(user=user, user_agent=user_agent)
    attempt = _record(user=user, succeeded=True, reason=Reason.OK, ip=ip,
                      user_agent=user_agent, method=method)
    if new_device:
        events.publish(events.NewDeviceSignIn(user_id=user.pk, attempt_id=attempt.pk))
    return attempt


def sign_in_attempts_delete_old(*, now: datetime | None = None) -> int:
    """Forget attempts older than SIGN_IN_HISTORY_RETENTION_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SIGN_IN_HISTORY_RETENTION_DAYS)
    deleted, _ = SignInAttempt.objects.filter(created_at__lt=cutoff).delete()
    return deleted
