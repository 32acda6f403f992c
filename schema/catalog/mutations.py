import strawberry


@strawberry.type
class CatalogMutation:
    pass
