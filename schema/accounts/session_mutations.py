"""Ending one's own sign-in sessions (README "Sessions and sign-in history")."""

import strawberry
from strawberry import Info

from apps.accounts import models, selectors, services
from schema.errors import Payload, payload_mutation
from schema.ids import get_node
from schema.permissions import SignedIn, signed_in_user

from .types import User


@strawberry.type
class SessionRevokePayload(Payload):
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None, description="The caller, to refetch sessions.")


@strawberry.type
class SessionRevokeOthersPayload(Payload):
    revoked_count: int = strawberry.field(default=0, description="How many sessions ended.")
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None, description="The caller, to refetch sessions.")


@strawberry.type
class SessionMutation:
    @payload_mutation(
        extensions=[SignedIn()],
        description="End one of one's own sessions: its refresh and access tokens stop "
        "working at once. Another user's session, or one already over, is NOT_FOUND.",
    )
    def session_revoke(self, info: Info, id: strawberry.ID) -> SessionRevokePayload:
        user = signed_in_user(info)
        session = get_node(selectors.sessions_visible_to(user=user), id,
                           type_name="Session", field="id")
        services.session_revoke(session=session)
        return SessionRevokePayload(user=user)

    @payload_mutation(
        extensions=[SignedIn()],
        description="End every session of one's own but the caller's (sign out everywhere "
        "else).",
    )
    def session_revoke_others(self, info: Info) -> SessionRevokeOthersPayload:
        user = signed_in_user(info)
        count = services.session_revoke_others(user=user, current=info.context.session)
        return SessionRevokeOthersPayload(revoked_count=count, user=user)
