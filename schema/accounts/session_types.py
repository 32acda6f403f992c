"""Sign-in sessions and the sign-in history as GraphQL types: what
`me.sessions` and `User.signInHistory` list (README "Sessions and sign-in
history")."""

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import Info, relay

from apps.accounts import models, selectors
from schema.permissions import visible_through
from schema.resolvers import async_safe

strawberry.enum(
    models.SignInAttempt.Reason, name="SignInReason",
    description="How a sign-in attempt ended: OK (signed in), INVALID_CREDENTIALS (a "
    "wrong password), THROTTLED (refused after too many failures), INACTIVE (the account "
    "is deactivated), TWO_FACTOR_REQUIRED (the second factor was asked for), "
    "INVALID_TOKEN (a wrong second-factor code); for the Django admin's login, NOT_STAFF "
    "(the right password of an account that is not staff's) and TWO_FACTOR_NOT_ON (staff "
    "without the two-factor sign-in ADMIN_TWO_FACTOR_REQUIRED asks for).",
)
SignInReason = models.SignInAttempt.Reason


@strawberry_django.type(
    models.Session, name="Session",
    description="A signed-in device: one sign-in and the refresh tokens that renewed it.",
)
class Session(relay.Node):
    id: relay.NodeID[int]
    method: str = strawberry_django.field(
        description="How it began: password, password+totp, oidc:<provider>.")
    ip: str = strawberry_django.field(
        description="The client's address at its latest use (the sign-in or a refresh).")
    user_agent: str = strawberry_django.field(
        description="What the client said it was at its latest use (its User-Agent).")
    created_at: datetime = strawberry_django.field(description="When it was signed in.")
    last_used_at: datetime = strawberry_django.field(
        description="Its latest use: the sign-in or the latest refresh.")

    @strawberry_django.field(
        only=["family"], description="Whether this is the session of the caller's token.")
    @async_safe
    def current(self, root: models.Session, info: Info) -> bool:
        return root.family == info.context.session

    get_queryset = visible_through(selectors.sessions_visible_to)


@strawberry_django.type(
    models.SignInAttempt, name="SignInAttempt",
    description="One attempt at signing in to the account, successful or not.",
)
class SignInAttempt(relay.Node):
    id: relay.NodeID[int]
    succeeded: bool
    reason: SignInReason
    method: str = strawberry_django.field(
        description="The way in tried: password, password+totp, oidc:<provider>.")
    ip: str = strawberry_django.field(description="The client's address.")
    user_agent: str = strawberry_django.field(description="The client's User-Agent.")
    created_at: datetime

    get_queryset = visible_through(selectors.sign_in_attempts_visible_to)
