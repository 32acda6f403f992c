"""Social sign-in's root fields (README, "Social sign-in"): thin resolvers
over apps.accounts.social."""

import strawberry
from strawberry import Info

from apps.accounts import models, social
from schema.errors import Payload, payload_mutation
from schema.permissions import Public

from .types import User


@strawberry.type
class ExternalAuthUrlPayload(Payload):
    authorization_url: str | None = strawberry.field(
        default=None, description="Where to send the customer to sign in at the provider."
    )
    state: str | None = strawberry.field(
        default=None,
        description="The sign-in's state, also in the URL. Keep it (session storage) and "
        "finish only a sign-in whose callback brings back a state you started.",
    )


@strawberry.type
class ExternalTokenAuthPayload(Payload):
    token: str | None = strawberry.field(default=None, description="The access token (JWT).")
    refresh_token: str | None = None
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)
    challenge: str | None = strawberry.field(
        default=None,
        description="With TWO_FACTOR_REQUIRED: the challenge to answer with the second factor.",
    )


@strawberry.type
class SocialMutation:
    @payload_mutation(
        extensions=[Public()],
        description="Start a social sign-in: the provider's authorisation URL, with state, "
        "nonce and PKCE. redirectUri must be one the shop allows.",
    )
    def external_auth_url(self, provider: str, redirect_uri: str) -> ExternalAuthUrlPayload:
        started = social.external_auth_url(provider=provider, redirect_uri=redirect_uri)
        return ExternalAuthUrlPayload(
            authorization_url=started.authorization_url, state=started.state
        )

    @payload_mutation(
        extensions=[Public()],
        description="Finish a social sign-in with the code and state the provider sent back "
        "to redirectUri: an access token and a refresh token, or TWO_FACTOR_REQUIRED.",
    )
    def external_token_auth(
        self, info: Info, provider: str, code: str, state: str, redirect_uri: str
    ) -> ExternalTokenAuthPayload:
        issued = social.external_token_auth(
            provider=provider, code=code, state=state, redirect_uri=redirect_uri,
            ip=info.context.client_ip, user_agent=info.context.user_agent,
        )
        return ExternalTokenAuthPayload(
            token=issued.access_token, refresh_token=issued.refresh_token, user=issued.user
        )
