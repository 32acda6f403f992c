"""Social sign-in, in two calls the storefront makes around the provider's
page: `external_auth_url` starts a sign-in (a state, a nonce and a PKCE
verifier kept server-side in the cache under the state, since the API uses
no cookies) and answers where to send the customer; `external_token_auth`
finishes it with the code the provider sent back, once per state, and signs
in the account the provider vouched for, through `sign_in_proven`, so a
second factor is asked for as after a password."""

import hashlib
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from authlib.common.security import generate_token
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import normalize_email

from ..models import ExternalIdentity, SignInAttempt, User
from ..services import IssuedTokens, refresh_tokens_revoke_all, sign_in_failed, sign_in_proven
from . import github, oidc
from .providers import ExternalProfile, Provider, provider_named

_KINDS: dict[str, ModuleType] = {"oidc": oidc, "github": github}


@dataclass(frozen=True)
class StartedSignIn:
    authorization_url: str
    state: str


def external_auth_url(*, provider: str, redirect_uri: str) -> StartedSignIn:
    found = provider_named(provider)
    _check_redirect_uri(redirect_uri)
    state, nonce, code_verifier = generate_token(32), generate_token(32), generate_token(64)
    # The provider is asked first: one out of reach leaves no state behind.
    url = _KINDS[found.kind].start(
        found, redirect_uri=redirect_uri, state=state, code_verifier=code_verifier, nonce=nonce
    )
    timeout = settings.SOCIAL_AUTH_STATE_TIMEOUT
    cache.set(
        _state_key(state),
        {"provider": found.name, "redirect_uri": redirect_uri, "nonce": nonce,
         "code_verifier": code_verifier, "expires": time.time() + timeout},
        timeout,
    )
    return StartedSignIn(authorization_url=url, state=state)


def external_token_auth(
    *, provider: str, code: str, state: str, redirect_uri: str, ip: str = "",
    user_agent: str = "",
) -> IssuedTokens:
    proven = external_identity_proven(
        provider=provider, code=code, state=state, redirect_uri=redirect_uri
    )
    return external_sign_in(proven=proven, ip=ip, user_agent=user_agent)


@dataclass(frozen=True)
class ProvenIdentity:
    provider: Provider
    profile: ExternalProfile


def external_identity_proven(
    *, provider: str, code: str, state: str, redirect_uri: str
) -> ProvenIdentity:
    """The first half of `external_token_auth`: the state taken and who the
    provider says signed in, checked. It talks to the provider and not to the
    database, so the API runs it off the thread that does the database work."""
    found = provider_named(provider)
    _check_redirect_uri(redirect_uri)
    if not code:
        raise ServiceError("Send the code.", code=ErrorCode.REQUIRED, field="code")
    started = _take_state(state)
    if started.get("provider") != found.name or started.get("redirect_uri") != redirect_uri:
        raise _invalid_state("This sign-in was started for another provider or redirect URI.")
    profile = _KINDS[found.kind].finish(
        found, code=code, redirect_uri=redirect_uri,
        code_verifier=started["code_verifier"], nonce=started["nonce"],
    )
    return ProvenIdentity(provider=found, profile=profile)


def external_sign_in(*, proven: ProvenIdentity, ip: str = "", user_agent: str = "") -> IssuedTokens:
    """The second half: the account linked or made, and signed in. A
    deactivated account's refusal is kept in its sign-in history, outside
    the transaction that refused it."""
    try:
        user = _account_for(proven.provider, proven.profile)
    except _Inactive as refused:
        sign_in_failed(user=refused.user, ip=ip, user_agent=user_agent,
                       method=proven.provider.method, reason=SignInAttempt.Reason.INACTIVE)
        raise
    return sign_in_proven(user=user, ip=ip, user_agent=user_agent, method=proven.provider.method)


def _check_redirect_uri(redirect_uri: str) -> None:
    if redirect_uri not in settings.SOCIAL_AUTH_REDIRECT_URIS:
        raise ServiceError(
            "This redirect URI is not one the shop allows.", code=ErrorCode.INVALID,
            field="redirect_uri",
        )


def _state_key(state: str) -> str:
    # Hashed: the client chooses what it sends, the cache key stays short.
    return f"social:state:{hashlib.sha256(state.encode()).hexdigest()}"


def _invalid_state(message: str = "This sign-in is unknown, expired or already finished. "
                   "Start again.") -> ServiceError:
    return ServiceError(message, code=ErrorCode.INVALID_TOKEN, field="state")


def _take_state(state: str) -> dict[str, Any]:
    """The sign-in started under `state`, taken out of the cache: of two
    requests with one state (in any processes, with the Redis cache) only the
    one whose delete removed it goes on."""
    key = _state_key(state)
    started = cache.get(key) if state else None
    if not isinstance(started, dict) or not cache.delete(key):
        raise _invalid_state()
    # Its own expiry too, on our clock: the cache's may not be ours (Redis).
    if started.get("expires", 0) <= time.time():
        raise _invalid_state()
    return started


def _account_for(provider: Provider, profile: ExternalProfile) -> User:
    """The account the provider's identity signs in as, linked or made in one
    transaction. Two first sign-ins at once: the second's insert fails on a
    unique index, and its second try finds what the first wrote."""
    try:
        with transaction.atomic():
            return _link(provider, profile)
    except IntegrityError:
        with transaction.atomic():
            return _link(provider, profile)


def _link(provider: Provider, profile: ExternalProfile) -> User:
    if not profile.subject or len(profile.subject) > 255:
        raise oidc.invalid_id_token()
    identity = (
        ExternalIdentity.objects.select_related("user")
        .filter(provider=provider.name, subject=profile.subject).first()
    )
    if identity is not None:
        return _active(identity.user)
    email = _verified_email(profile)
    user = User.objects.select_for_update().filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=None, is_email_verified=True,
            first_name=profile.first_name[:150], last_name=profile.last_name[:150],
        )
    elif _active(user) and not user.is_email_verified:
        _claim(user)
    ExternalIdentity.objects.create(
        user=user, provider=provider.name, subject=profile.subject, email=email
    )
    return user


def _verified_email(profile: ExternalProfile) -> str:
    """The address the provider verified. One it has not verified links to no
    account (whoever holds the provider's account may not own the address)
    and makes none (it would take the address from its owner)."""
    email = normalize_email(profile.email)
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    if not email or not profile.email_verified:
        raise ServiceError(
            "The sign-in provider has not verified an email address for this account.",
            code=ErrorCode.EMAIL_NOT_VERIFIED,
        )
    return email


class _Inactive(ServiceError):
    def __init__(self, user: User):
        super().__init__("This account cannot sign in.", code=ErrorCode.INVALID_CREDENTIALS)
        self.user = user


def _active(user: User) -> User:
    if not user.is_active:
        raise _Inactive(user)
    return user


def _claim(user: User) -> None:
    """An account whose address was never confirmed, now proven by the
    provider: its password was set by someone who never proved the address
    (perhaps to wait for its owner), so it stops working, with its sessions.
    The owner may set a new one by password reset."""
    user.is_email_verified = True
    user.set_unusable_password()
    user.save(update_fields=["is_email_verified", "password", "updated_at"])
    refresh_tokens_revoke_all(user=user)
