import strawberry


@strawberry.type
class InventoryQuery:
    pass
