"""The social sign-in providers, from settings.SOCIAL_AUTH_PROVIDERS, and
the one way we call them: with a timeout, every failure of theirs (out of
reach, a 5xx, an answer that is not JSON) becoming PROVIDER_UNAVAILABLE."""

import logging
from dataclasses import dataclass, fields
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings

from apps.core.errors import ErrorCode, ServiceError

logger = logging.getLogger(__name__)

KINDS = ("oidc", "github")


@dataclass(frozen=True)
class Provider:
    name: str
    kind: str
    client_id: str
    client_secret: str
    scope: str
    # OpenID Connect: everything else comes from the discovery document.
    discovery_url: str = ""
    # GitHub: fixed endpoints, overridable for a stand-in.
    authorize_url: str = ""
    token_url: str = ""
    api_url: str = ""

    @property
    def method(self) -> str:
        """How the sign-in history names this way in."""
        return f"oidc:{self.name}"

    def session(self, *, redirect_uri: str, auth_method: str = "client_secret_basic") -> Any:
        """Authlib's OAuth 2.0 client for one sign-in, PKCE with S256."""
        return OAuth2Session(
            client_id=self.client_id, client_secret=self.client_secret, scope=self.scope,
            redirect_uri=redirect_uri, code_challenge_method="S256",
            token_endpoint_auth_method=auth_method,
            default_timeout=settings.SOCIAL_AUTH_HTTP_TIMEOUT,
        )


@dataclass(frozen=True)
class ExternalProfile:
    """Who the provider says signed in."""

    subject: str
    email: str
    email_verified: bool
    first_name: str = ""
    last_name: str = ""


_FIELDS = {f.name for f in fields(Provider)} - {"name"}


def provider_named(name: str) -> Provider:
    """The provider called `name`. Checked before anything else, so a name
    that is not configured never reaches the network."""
    config = settings.SOCIAL_AUTH_PROVIDERS.get(name)
    if not isinstance(config, dict) or config.get("kind") not in KINDS:
        raise ServiceError(
            "There is no sign-in provider of that name.", code=ErrorCode.NOT_FOUND,
            field="provider",
        )
    return Provider(name=name, **{key: str(config.get(key, "")) for key in _FIELDS})


def unavailable(provider: Provider, error: Exception | str) -> ServiceError:
    logger.warning("Sign-in provider %s failed: %s", provider.name, error)
    return ServiceError(
        f"{provider.name} could not be reached. Try again in a moment.",
        code=ErrorCode.PROVIDER_UNAVAILABLE,
    )


def get_json(provider: Provider, url: str, *, access_token: str = "") -> Any:
    headers = {"Accept": "application/json"}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    try:
        response = requests.get(url, headers=headers, timeout=settings.SOCIAL_AUTH_HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        raise unavailable(provider, error) from error


def json_object(provider: Provider, value: Any, *keys: str) -> dict[str, Any]:
    """`value` if it is a JSON object with `keys`, else the provider answered
    nonsense."""
    if not isinstance(value, dict) or any(not value.get(key) for key in keys):
        raise unavailable(provider, f"an answer without {', '.join(keys)}")
    return value


def authorization_url(
    provider: Provider, endpoint: str, *, redirect_uri: str, state: str, code_verifier: str,
    **params: str,
) -> str:
    url, _ = provider.session(redirect_uri=redirect_uri).create_authorization_url(
        endpoint, state=state, code_verifier=code_verifier, **params
    )
    return str(url)


def exchange_code(
    provider: Provider, token_url: str, *, code: str, redirect_uri: str, code_verifier: str,
    auth_method: str = "client_secret_basic",
) -> dict[str, Any]:
    """The provider's tokens for the code, proving with the PKCE verifier that
    whoever started the sign-in finishes it. A code the provider refuses
    (wrong, expired, spent, for another client) is the client's INVALID_TOKEN."""
    session = provider.session(redirect_uri=redirect_uri, auth_method=auth_method)
    try:
        token = session.fetch_token(
            token_url, grant_type="authorization_code", code=code, code_verifier=code_verifier
        )
    except OAuthError as error:
        logger.info("Sign-in provider %s refused a code: %s", provider.name, error)
        raise ServiceError(
            "The sign-in provider refused the code: it is wrong, expired or already used.",
            code=ErrorCode.INVALID_TOKEN, field="code",
        ) from None
    except (requests.RequestException, ValueError) as error:
        raise unavailable(provider, error) from error
    return json_object(provider, dict(token), "access_token")
