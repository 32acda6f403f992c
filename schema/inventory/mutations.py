import strawberry


@strawberry.type
class InventoryMutation:
    pass
