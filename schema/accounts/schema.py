import strawberry


@strawberry.type
class AccountQuery:
    @strawberry.field
    def me(self) -> None:
        return None


@strawberry.type
class AccountMutation:
    @strawberry.mutation
    def noop_accounts(self) -> bool:
        return True
