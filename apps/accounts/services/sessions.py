"""Sign-in sessions: access tokens and the refresh tokens that renew them."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import normalize_email

from .. import selectors, throttling, tokens
from ..jwt import encode_access_token
from ..models import RefreshToken, User
from .checks import invalid_token, throttled

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    refresh_token: str


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


def token_auth(*, email: str, password: str, ip: str = "", user_agent: str = "") -> IssuedTokens:
    """Sign in. A wrong password, an unknown email and a deactivated account
    get the same answer, so the answer does not tell which emails exist."""
    email = normalize_email(email)
    if throttling.is_locked(email=email, ip=ip):
        raise throttled()
    user = authenticate(None, email=email, password=password) if email and password else None
    if user is None:
        throttling.record_failure(email=email, ip=ip)
        raise ServiceError(
            "The email or password is not right.", code=ErrorCode.INVALID_CREDENTIALS
        )
    throttling.record_success(email=email)
    return sign_in_proven(user=user, ip=ip, user_agent=user_agent, method="password")


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
        raise ServiceError(
            "Enter the code from your authenticator app, or a recovery code.",
            code=ErrorCode.TWO_FACTOR_REQUIRED,
            payload={"challenge": challenge},
        )
    return sign_in_complete(user=user, ip=ip, user_agent=user_agent, method=method)


def sign_in_complete(
    *, user: User, ip: str = "", user_agent: str = "", method: str
) -> IssuedTokens:
    """A sign-in fully proven becomes a session: the last-login time and a new
    refresh-token family, with what the client said of itself."""
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
    return RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def refresh_tokens_delete_expired(*, now: datetime | None = None) -> int:
    """Forget refresh tokens that can no longer be used.

    A revoked token is kept until it would have expired: presenting it before
    then must still be recognised as reuse, which revokes its family.
    """
    deleted, _ = RefreshToken.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
