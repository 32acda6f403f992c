import strawberry


@strawberry.type
class CatalogQuery:
    pass
