"""Social sign-in (README, "Social sign-in"): OpenID Connect providers and
GitHub, through Authlib. Callers use the package."""

from .flow import (
    ProvenIdentity,
    StartedSignIn,
    external_auth_url,
    external_identity_proven,
    external_sign_in,
    external_token_auth,
)

__all__ = [
    "ProvenIdentity",
    "StartedSignIn",
    "external_auth_url",
    "external_identity_proven",
    "external_sign_in",
    "external_token_auth",
]
