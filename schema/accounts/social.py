"""Social sign-in's root fields (README, "Social sign-in"): thin resolvers
over apps.accounts.social."""

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import strawberry
from asgiref.sync import sync_to_async
from strawberry import Info

from apps.accounts import models, social
from schema.errors import Payload, payload_mutation
from schema.permissions import Public

from .types import User

P = ParamSpec("P")
R = TypeVar("R")


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
    """Async resolvers: what waits on a provider (up to its timeout) runs
    off the thread that does the process's database work (under ASGI one a
    process), so a slow provider holds up no other request."""

    @payload_mutation(
        extensions=[Public()],
        description="Start a social sign-in: the provider's authorisation URL, with state, "
        "nonce and PKCE. redirectUri must be one the shop allows.",
    )
    async def external_auth_url(self, provider: str, redirect_uri: str) -> ExternalAuthUrlPayload:
        started = await off_the_database_thread(social.external_auth_url)(
            provider=provider, redirect_uri=redirect_uri
        )
        return ExternalAuthUrlPayload(
            authorization_url=started.authorization_url, state=started.state
        )

    @payload_mutation(
        extensions=[Public()],
        description="Finish a social sign-in with the code and state the provider sent back "
        "to redirectUri: an access token and a refresh token, or TWO_FACTOR_REQUIRED.",
    )
    async def external_token_auth(
        self, info: Info, provider: str, code: str, state: str, redirect_uri: str
    ) -> ExternalTokenAuthPayload:
        proven = await off_the_database_thread(social.external_identity_proven)(
            provider=provider, code=code, state=state, redirect_uri=redirect_uri
        )
        issued = await sync_to_async(social.external_sign_in)(
            proven=proven, ip=info.context.client_ip, user_agent=info.context.user_agent
        )
        return ExternalTokenAuthPayload(
            token=issued.access_token, refresh_token=issued.refresh_token, user=issued.user
        )


def off_the_database_thread(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    return sync_to_async(function, thread_sensitive=False)
