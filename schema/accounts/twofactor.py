"""Two-factor sign-in's mutations: thin resolvers over
apps.accounts.services.twofactor (README "Two-factor sign-in")."""

import strawberry
from strawberry import Info

from apps.accounts import models, services
from schema.errors import Payload, payload_mutation
from schema.permissions import Public, SignedIn, signed_in_user

from .types import User


@strawberry.type
class TwoFactorSetupPayload(Payload):
    secret: str | None = strawberry.field(
        default=None,
        description="The shared secret (base32), for typing into an authenticator app by "
        "hand. Shown only this once.",
    )
    otpauth_uri: str | None = strawberry.field(
        default=None, description="The `otpauth://` URI the frontend draws as a QR code."
    )


@strawberry.type
class TwoFactorConfirmPayload(Payload):
    recovery_codes: list[str] | None = strawberry.field(
        default=None,
        description="Ten one-time codes for signing in without the app. Shown only this "
        "once; the server keeps their hashes.",
    )
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class TwoFactorDisablePayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class TokenAuthTwoFactorPayload(Payload):
    token: str | None = strawberry.field(default=None, description="The access token (JWT).")
    refresh_token: str | None = None
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class TwoFactorMutation:
    @payload_mutation(
        extensions=[SignedIn()],
        description="Start turning two-factor sign-in on: a new secret for an authenticator "
        "app. Nothing changes at sign-in until twoFactorConfirm. Refused (INVALID) when "
        "two-factor sign-in is already on.",
    )
    def two_factor_setup(self, info: Info) -> TwoFactorSetupPayload:
        made = services.two_factor_setup(user=signed_in_user(info))
        return TwoFactorSetupPayload(secret=made.secret, otpauth_uri=made.otpauth_uri)

    @payload_mutation(
        extensions=[SignedIn()],
        description="Turn two-factor sign-in on with a code from the app just set up; "
        "answers the recovery codes.",
    )
    def two_factor_confirm(self, info: Info, code: str) -> TwoFactorConfirmPayload:
        user = signed_in_user(info)
        codes = services.two_factor_confirm(user=user, code=code, ip=info.context.client_ip)
        return TwoFactorConfirmPayload(recovery_codes=codes, user=user)

    @payload_mutation(
        extensions=[SignedIn()],
        description="Turn two-factor sign-in off: the password and a current code (or a "
        "recovery code).",
    )
    def two_factor_disable(
        self, info: Info, password: str, code: str
    ) -> TwoFactorDisablePayload:
        user = services.two_factor_disable(
            user=signed_in_user(info), password=password, code=code, ip=info.context.client_ip
        )
        return TwoFactorDisablePayload(user=user)

    @payload_mutation(
        extensions=[Public()],
        description="The second step of signing in: the challenge tokenAuth answered with "
        "TWO_FACTOR_REQUIRED, and a code from the app or a recovery code.",
    )
    def token_auth_two_factor(
        self, info: Info, challenge: str, code: str
    ) -> TokenAuthTwoFactorPayload:
        issued = services.token_auth_two_factor(
            challenge=challenge, code=code,
            ip=info.context.client_ip, user_agent=info.context.user_agent,
        )
        return TokenAuthTwoFactorPayload(
            token=issued.access_token, refresh_token=issued.refresh_token, user=issued.user
        )
