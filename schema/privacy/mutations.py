"""The customer's data: a copy emailed as a link, and the account's
deletion confirmed by an emailed token. Thin resolvers over
apps.privacy.services; refusals come back as the payload's `errors`."""

import strawberry
from strawberry import Info

from apps.privacy import services
from schema.errors import Payload, payload_mutation
from schema.permissions import Public, SignedIn, signed_in_user


@strawberry.type
class AccountDataExportPayload(Payload):
    requested: bool = strawberry.field(
        default=False, description="The export is being prepared; its link will be emailed.")


@strawberry.type
class AccountDeleteRequestPayload(Payload):
    requested: bool = strawberry.field(
        default=False, description="The confirmation token has been emailed.")


@strawberry.type
class AccountDeletePayload(Payload):
    deleted: bool = False


@strawberry.type
class PrivacyMutation:
    @payload_mutation(
        extensions=[SignedIn()],
        description="Email the signed-in customer a link to one JSON file of everything the "
        "shop holds about them (profile, addresses, orders, reviews, wishlist, carts, "
        "sessions, sign-in history, two-factor status, linked social accounts, emails "
        "sent). The link works ACCOUNT_EXPORT_LINK_MAX_AGE seconds. THROTTLED "
        "while an earlier export is still being prepared.",
    )
    def account_data_export(self, info: Info) -> AccountDataExportPayload:
        services.account_data_export_request(user=signed_in_user(info))
        return AccountDataExportPayload(requested=True)

    @payload_mutation(
        extensions=[SignedIn()],
        description="Email the signed-in customer a token that confirms the deletion of "
        "their account (accountDelete). ORDER_OPEN while an order is pending, processing or "
        "shipped; INVALID for a staff account.",
    )
    def account_delete_request(self, info: Info) -> AccountDeleteRequestPayload:
        services.account_delete_request(user=signed_in_user(info))
        return AccountDeleteRequestPayload(requested=True)

    @payload_mutation(
        extensions=[Public()],
        description="Delete the account the emailed token was made for: the token is the "
        "proof, so the link works from the email without signing in. Personal data goes; "
        "orders stay for the books without a link to the person, reviews stay signed "
        "\"A former customer\"; every session ends. INVALID_TOKEN for a token forged, "
        "expired or used; ORDER_OPEN while an order is on its way.",
    )
    def account_delete(self, token: str) -> AccountDeletePayload:
        services.account_delete(token=token)
        return AccountDeletePayload(deleted=True)
