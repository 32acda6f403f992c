"""GitHub, plain OAuth 2.0: it gives no ID token, so who signed in is read
from its API with the access token, `/user` for the id and name and
`/user/emails` for the primary address and whether GitHub verified it."""

from typing import Any

from . import providers
from .providers import ExternalProfile, Provider


def start(provider: Provider, *, redirect_uri: str, state: str, code_verifier: str,
          nonce: str) -> str:
    # No ID token, so no nonce: the state and PKCE bind the code to this sign-in.
    return providers.authorization_url(
        provider, provider.authorize_url, redirect_uri=redirect_uri, state=state,
        code_verifier=code_verifier,
    )


def finish(provider: Provider, *, code: str, redirect_uri: str, code_verifier: str,
           nonce: str) -> ExternalProfile:
    token = providers.exchange_code(
        provider, provider.token_url, code=code, redirect_uri=redirect_uri,
        code_verifier=code_verifier, auth_method="client_secret_post",
    )
    api, access = provider.api_url.rstrip("/"), str(token["access_token"])
    user = providers.json_object(
        provider, providers.get_json(provider, f"{api}/user", access_token=access), "id"
    )
    emails = providers.get_json(provider, f"{api}/user/emails", access_token=access)
    if not isinstance(emails, list):
        raise providers.unavailable(provider, "an email list that is not a list")
    primary: dict[str, Any] = next(
        (item for item in emails if isinstance(item, dict) and item.get("primary")), {}
    )
    first, _, last = str(user.get("name") or "").partition(" ")
    return ExternalProfile(
        subject=str(user["id"]), email=str(primary.get("email") or ""),
        email_verified=primary.get("verified") is True, first_name=first, last_name=last,
    )
