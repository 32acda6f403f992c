"""OpenID Connect providers (Google, or any issuer by its discovery URL):
the discovery document and the keys, kept in the cache, and the ID token
checked as Authlib checks it (joserfc's JWT decode against the provider's
JWKS, then `CodeIDToken`: issuer, audience, expiry, nonce)."""

import hashlib
from typing import Any

from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from apps.core.errors import ErrorCode, ServiceError

from .providers import (
    ExternalProfile,
    Provider,
    authorization_url,
    exchange_code,
    get_json,
    json_object,
    unavailable,
)

# Seconds of clock difference with the provider allowed on exp and iat.
LEEWAY = 60
# OpenID Connect's default signing algorithm, when discovery names none.
DEFAULT_ALGORITHMS = ["RS256"]


def _cached_json(provider: Provider, url: str, *keys: str, fresh: bool = False) -> dict[str, Any]:
    key = f"social:json:{hashlib.sha256(url.encode()).hexdigest()}"
    value = None if fresh else cache.get(key)
    if value is None:
        value = json_object(provider, get_json(provider, url), *keys)
        cache.set(key, value, settings.SOCIAL_AUTH_METADATA_TIMEOUT)
    return value


def metadata(provider: Provider) -> dict[str, Any]:
    return _cached_json(
        provider, provider.discovery_url,
        "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
    )


def start(provider: Provider, *, redirect_uri: str, state: str, code_verifier: str,
          nonce: str) -> str:
    return authorization_url(
        provider, metadata(provider)["authorization_endpoint"], redirect_uri=redirect_uri,
        state=state, code_verifier=code_verifier, nonce=nonce,
    )


def finish(provider: Provider, *, code: str, redirect_uri: str, code_verifier: str,
           nonce: str) -> ExternalProfile:
    meta = metadata(provider)
    methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    token = exchange_code(
        provider, meta["token_endpoint"], code=code, redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        auth_method="client_secret_basic" if "client_secret_basic" in methods
        else "client_secret_post",
    )
    claims = id_token_claims(provider, meta, token, nonce=nonce)
    email, verified = claims.get("email"), claims.get("email_verified")
    if not email and meta.get("userinfo_endpoint"):
        # Some issuers keep the email out of the ID token.
        info = json_object(
            provider,
            get_json(provider, meta["userinfo_endpoint"], access_token=token["access_token"]),
            "sub",
        )
        if info["sub"] != claims["sub"]:
            raise invalid_id_token()
        email, verified = info.get("email"), info.get("email_verified")
    return ExternalProfile(
        subject=str(claims["sub"]), email=str(email or ""),
        # Some issuers send the boolean as a string.
        email_verified=verified is True or verified == "true",
        first_name=str(claims.get("given_name") or ""),
        last_name=str(claims.get("family_name") or ""),
    )


def invalid_id_token() -> ServiceError:
    return ServiceError(
        "The sign-in provider's ID token did not verify.", code=ErrorCode.INVALID_TOKEN,
        field="code",
    )


def id_token_claims(provider: Provider, meta: dict[str, Any], token: dict[str, Any], *,
                    nonce: str) -> CodeIDToken:
    """The ID token's claims, once its signature (by a key of the provider's
    JWKS, fetched again once for a key id it does not know: the provider
    rotated its keys), issuer, audience, expiry and nonce are right."""
    raw = token.get("id_token")
    if not isinstance(raw, str):
        raise invalid_id_token()
    algorithms = [
        alg for alg in meta.get("id_token_signing_alg_values_supported") or DEFAULT_ALGORITHMS
        if alg != "none"
    ]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(raw, _keys(provider, meta), registry=registry)
        except InvalidKeyIdError:
            decoded = jwt.decode(raw, _keys(provider, meta, fresh=True), registry=registry)
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            {"iss": {"essential": True, "value": meta["issuer"]},
             "aud": {"essential": True, "value": provider.client_id},
             "nonce": {"essential": True, "value": nonce}},
            {"nonce": nonce, "client_id": provider.client_id,
             "access_token": token["access_token"]},
        )
        claims.validate(leeway=LEEWAY)
    except (JoseError, ValueError, TypeError, KeyError):
        raise invalid_id_token() from None
    return claims


def _keys(provider: Provider, meta: dict[str, Any], *, fresh: bool = False) -> KeySet:
    data = _cached_json(provider, meta["jwks_uri"], "keys", fresh=fresh)
    try:
        return KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise unavailable(provider, f"keys that do not load: {error}") from error
