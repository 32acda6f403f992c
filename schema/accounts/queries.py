from collections.abc import Iterable

import strawberry
import strawberry_django
from strawberry import Info

from apps.accounts import models, selectors
from apps.accounts.permissions import Perm
from schema.connection_fields import connection
from schema.pagination import CountableConnection
from schema.permissions import Public, StaffPerm, current_user

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

    @connection(
        CountableConnection[User],
        extensions=[StaffPerm(Perm.MANAGE_CUSTOMERS)],
        description="Customers (accounts that are not staff), newest first. `search` "
        "keeps those with every word of it in their first name, last name or email, in "
        "any case. Staff with MANAGE_CUSTOMERS only.",
    )
    def customers(self, search: str | None = None) -> Iterable[models.User]:
        return selectors.customer_search(search=search)
