import strawberry
import strawberry_django
from strawberry import Info

from apps.accounts import selectors
from schema.permissions import Public, current_user

from .types import User


@strawberry.type
class AccountQuery:
    @strawberry_django.field(
        extensions=[Public()], description="The signed-in user; null when anonymous."
    )
    def me(self, info: Info) -> User | None:
        viewer = current_user(info)
        if viewer is None:
            return None
        # A queryset, not the context's user object, so the optimizer can
        # prefetch what the query asks for (addresses) in constant queries.
        return selectors.user_as_queryset(user=viewer)  # type: ignore[return-value]
