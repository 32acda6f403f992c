"""Review mutations: customers write, catalog staff moderate. Thin resolvers
over apps.reviews.services; the Review type is the catalog's."""

import strawberry
from strawberry import Info

from apps.accounts.permissions import Perm
from apps.catalog import models
from apps.catalog.selectors import reviews_visible_to
from apps.reviews import services
from schema.catalog.types import Review
from schema.errors import Payload, payload_mutation
from schema.ids import get_node, pk_from_global_id
from schema.permissions import SignedIn, StaffPerm, signed_in_user


@strawberry.input
class ReviewInput:
    rating: int = strawberry.field(description="Stars, a whole number from 1 to 5.")
    title: str | None = None
    body: str | None = strawberry.field(default=None, description="Plain text.")


@strawberry.type
class ReviewCreatePayload(Payload):
    review: models.Review | None = strawberry.field(default=None, graphql_type=Review | None)


@strawberry.type
class ReviewSetHiddenPayload(Payload):
    review: models.Review | None = strawberry.field(default=None, graphql_type=Review | None)


@strawberry.type
class ReviewMutation:
    @payload_mutation(
        extensions=[SignedIn()],
        description="One review per customer and product (a second is UNIQUE); it shows, "
        "and counts in the product's rating, at once.",
    )
    def review_create(self, info: Info, product_id: strawberry.ID,
                      input: ReviewInput) -> ReviewCreatePayload:
        review = services.review_create(
            user=signed_in_user(info), product_id=pk_from_global_id(product_id, "Product"),
            rating=input.rating, title=input.title, body=input.body,
        )
        return ReviewCreatePayload(review=review)

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Hide a review from the storefront and its product's rating, or show it "
        "again. Repeating either changes nothing.",
    )
    def review_set_hidden(self, info: Info, id: strawberry.ID,
                          is_hidden: bool) -> ReviewSetHiddenPayload:
        actor = signed_in_user(info)
        review = get_node(reviews_visible_to(user=actor), id, type_name="Review", field="id")
        return ReviewSetHiddenPayload(
            review=services.review_set_hidden(actor=actor, review=review, is_hidden=is_hidden)
        )
