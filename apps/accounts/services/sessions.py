"""Sign-in sessions: access tokens and the refresh tokens that renew them.

A session (models.Session) is one sign-in: a refresh-token family, with the
client's address and user agent, created and last-used times. Ending one
revokes its refresh tokens and its access tokens alike (the `sid` claim,
checked on every request)."""

import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import normalize_email

from .. import selectors, throttling, tokens
from ..jwt import encode_access_token
from ..models import RefreshToken, Session, SignInAttempt, User
from .checks import invalid_token, throttled, two_factor_required
from .history import sign_in_failed_for_email, sign_in_succeeded
# Re-exported: the other ways in (two-factor, social) record their refusals with it.
from .history import sign_in_failed as sign_in_failed

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    refresh_token: str


def _issue_tokens(user: User, *, family: uuid.UUID,
                  now: datetime | None = None) -> tuple[IssuedTokens, RefreshToken]:
    raw = tokens.new_refresh_token()
    now = now or timezone.now()
    record = RefreshToken.objects.create(
        user=user,
        token_hash=tokens.hash_refresh_token(raw),
        family=family,
        created_at=now,
        expires_at=now + settings.JWT_REFRESH_TOKEN_LIFETIME,
    )
    access = encode_access_token(user_id=user.pk, email=user.email, session=family)
    return IssuedTokens(user=user, access_token=access, refresh_token=raw), record


def token_auth(*, email: str, password: str, ip: str = "", user_agent: str = "") -> IssuedTokens:
    """Sign in. A wrong password, an unknown email and a deactivated account
    get the same answer, so the answer does not tell which emails exist."""
    user = password_proven(email=email, password=password, ip=ip, user_agent=user_agent,
                           method="password")
    return sign_in_proven(user=user, ip=ip, user_agent=user_agent, method="password")


def password_proven(*, email: str, password: str, ip: str = "", user_agent: str = "",
                    method: str) -> User:
    """The password step of every way in that asks for one (`token_auth`,
    the Django admin's login), so each is throttled and recorded alike: a
    throttled email or address is refused even with the right password, a
    wrong one counts and is kept in the history, and a wrong password, an
    unknown email and a deactivated account get the same refusal."""
    email = normalize_email(email)
    refused = functools.partial(sign_in_failed_for_email, email=email, password=password,
                                ip=ip, user_agent=user_agent, method=method)
    if throttling.is_locked(email=email, ip=ip):
        refused(throttled=True)
        raise throttled()
    user = authenticate(None, email=email, password=password) if email and password else None
    if user is None:
        throttling.record_failure(email=email, ip=ip)
        # No transaction here: the history row stays although the answer is a refusal.
        refused()
        raise ServiceError(
            "The email or password is not right.", code=ErrorCode.INVALID_CREDENTIALS
        )
    throttling.record_success(email=email)
    return user


def sign_in_proven(*, user: User, ip: str = "", user_agent: str = "", method: str) -> IssuedTokens:
    """Every way in whose first factor is proven ends here: a password
    (`token_auth`), a social provider's verified account. It is where a
    second factor, when the account has one, is asked for before any token
    is issued, so no way in can skip it. `method` names the way in."""
    if selectors.two_factor_enabled(user=user):
        # No tokens: a refusal a client that knows nothing of two-factor
        # sign-in shows as it is, with the challenge for one that does
        # (tokenAuthTwoFactor, services.twofactor.token_auth_two_factor).
        challenge = tokens.make_two_factor_challenge(user_id=user.pk, method=method)
        sign_in_failed(user=user, ip=ip[:45], user_agent=user_agent[:255], method=method,
                       reason=SignInAttempt.Reason.TWO_FACTOR_REQUIRED)
        raise two_factor_required(payload={"challenge": challenge})
    return sign_in_complete(user=user, ip=ip, user_agent=user_agent, method=method)


def sign_in_complete(
    *, user: User, ip: str = "", user_agent: str = "", method: str
) -> IssuedTokens:
    """A sign-in fully proven becomes a session: the last-login time, a new
    refresh-token family with what the client said of itself, and a
    successful row of the sign-in history (with the new-device email when
    the client's user agent is new to the account)."""
    ip, user_agent = ip[:45], user_agent[:255]
    with transaction.atomic():
        now = timezone.now()
        User.objects.filter(pk=user.pk).update(last_login=now)
        session = Session.objects.create(
            user=user, method=method[:40], ip=ip, user_agent=user_agent, created_at=now,
            last_used_at=now, expires_at=now + settings.JWT_REFRESH_TOKEN_LIFETIME,
        )
        issued, _ = _issue_tokens(user, family=session.family, now=now)
        sign_in_succeeded(user=user, ip=ip, user_agent=user_agent, method=method)
    return issued


def _session_used(record: RefreshToken, successor: RefreshToken, *, ip: str,
                  user_agent: str) -> None:
    """A refresh keeps the session alive: it is used now, lasts as long as
    the new token, and shows the address and user agent of this use (when
    the client gave them)."""
    changes: dict = {"last_used_at": successor.created_at, "expires_at": successor.expires_at}
    if ip:
        changes["ip"] = ip[:45]
    if user_agent:
        changes["user_agent"] = user_agent[:255]
    if not Session.objects.filter(family=record.family).update(**changes):
        # A family issued without its session (by a server of the release
        # before sessions, during the deploy) gets one at its first refresh.
        Session.objects.create(user_id=record.user_id, family=record.family,
                               created_at=record.created_at, **changes)


@transaction.atomic
def _revoke_families(tokens_: QuerySet[RefreshToken],
                     sessions: QuerySet[Session]) -> int:
    """End sessions: their refresh tokens and their access tokens (through
    the session's revoked_at) stop working together. Returns how many
    sessions ended."""
    now = timezone.now()
    tokens_.filter(revoked_at__isnull=True).update(revoked_at=now)
    return sessions.filter(revoked_at__isnull=True).update(revoked_at=now)


def _revoke_family(family: uuid.UUID) -> int:
    return _revoke_families(RefreshToken.objects.filter(family=family),
                            Session.objects.filter(family=family))


def refresh_token_rotate(*, refresh_token: str, ip: str = "", user_agent: str = "") -> IssuedTokens:
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
            raise invalid_token("refresh_token")
        if record.revoked_at is not None:
            if record.replaced_by_id is None:
                raise invalid_token("refresh_token")
            _revoke_family(record.family)
            reused = record
        elif record.expires_at <= timezone.now() or not record.user.is_active:
            raise invalid_token("refresh_token")
        else:
            issued, successor = _issue_tokens(record.user, family=record.family)
            record.revoked_at = timezone.now()
            record.replaced_by = successor
            record.save(update_fields=["revoked_at", "replaced_by"])
            _session_used(record, successor, ip=ip, user_agent=user_agent)
            return issued
    # Outside the transaction: the family's revocation must commit.
    logger.warning(
        "Refresh token %s of user %s was replayed; family %s revoked.",
        reused.pk, reused.user_id, reused.family,
    )
    raise invalid_token("refresh_token")


def refresh_token_revoke(*, refresh_token: str) -> None:
    """Sign out: end the token's session, i.e. its whole family.

    Revoking again succeeds (the client's goal, a dead token, is met); only a
    token that never existed is refused.
    """
    record = RefreshToken.objects.filter(
        token_hash=tokens.hash_refresh_token(refresh_token or "")
    ).first()
    if record is None:
        raise invalid_token("refresh_token", "Unknown refresh token.")
    _revoke_family(record.family)


def refresh_tokens_revoke_all(*, user: User) -> int:
    """End every session of `user` (a new password, a deactivated account)."""
    return _revoke_families(RefreshToken.objects.filter(user=user),
                            Session.objects.filter(user=user))


def session_revoke(*, session: Session) -> int:
    """End one session (the caller's own, found through sessions_visible_to)."""
    return _revoke_family(session.family)


def session_revoke_others(*, user: User, current: uuid.UUID | None) -> int:
    """End every session of `user` but `current`, the caller's (None, for an
    access token from before sessions: then every one is another)."""
    tokens_, sessions = RefreshToken.objects.filter(user=user), Session.objects.filter(user=user)
    if current is not None:
        tokens_, sessions = tokens_.exclude(family=current), sessions.exclude(family=current)
    return _revoke_families(tokens_, sessions)


def refresh_tokens_delete_expired(*, now: datetime | None = None) -> int:
    """Forget refresh tokens that can no longer be used.

    A revoked token is kept until it would have expired: presenting it before
    then must still be recognised as reuse, which revokes its family.
    """
    now = now or timezone.now()
    deleted, _ = RefreshToken.objects.filter(expires_at__lt=now).delete()
    # A session lasts as long as its latest token, so it goes with them.
    Session.objects.filter(expires_at__lt=now).delete()
    return deleted
