import strawberry


@strawberry.input(description="A variant to put in the cart, and how many.")
class CartLineInput:
    variant_id: strawberry.ID
    quantity: int = strawberry.field(description="At least 1; added to what the cart holds.")


@strawberry.input(description="A new quantity for a line of the cart.")
class CartLineUpdateInput:
    line_id: strawberry.ID
    quantity: int = strawberry.field(description="0 removes the line.")


@strawberry.input
class CartCreateInput:
    email: str | None = strawberry.field(
        default=None, description="Where the order confirmation goes; a signed-in customer's "
        "own when left out."
    )
    lines: list[CartLineInput] | None = None
