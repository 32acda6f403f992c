"""Social sign-in (README, "Social sign-in"): OpenID Connect providers and
GitHub, through Authlib. Callers use the package."""

from .flow import StartedSignIn, external_auth_url, external_token_auth

__all__ = ["StartedSignIn", "external_auth_url", "external_token_auth"]
