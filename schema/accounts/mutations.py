"""Account mutations: thin resolvers over apps.accounts.services. A refused
write comes back as the payload's `errors` (UserErrorsExtension)."""

import strawberry
from strawberry import Info

from apps.accounts import models, selectors, services
from apps.accounts.jwt import InvalidAccessToken
from apps.accounts.permissions import Perm
from apps.core.errors import ErrorCode, ServiceError
from schema.errors import Payload, payload_mutation
from schema.ids import get_node, pk_from_global_id
from schema.inputs import provided
from schema.permissions import Public, SignedIn, StaffPerm, signed_in_user

from .inputs import AccountRegisterInput, AccountUpdateInput, AddressInput
from .types import Address, User


@strawberry.type
class AccountRegisterPayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class AccountConfirmPayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class TokenAuthPayload(Payload):
    token: str | None = strawberry.field(default=None, description="The access token (JWT).")
    refresh_token: str | None = None
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)
    challenge: str | None = strawberry.field(
        default=None,
        description="With the error TWO_FACTOR_REQUIRED (and no tokens): what "
        "tokenAuthTwoFactor takes with a code, for a few minutes and once.",
    )


@strawberry.type
class RefreshTokenPayload(Payload):
    token: str | None = strawberry.field(default=None, description="A new access token.")
    refresh_token: str | None = strawberry.field(
        default=None, description="The refresh token to use next time; the one sent is spent."
    )
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class VerifyTokenPayload(Payload):
    is_valid: bool = False
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class RevokeTokenPayload(Payload):
    revoked: bool = False


@strawberry.type
class AccountUpdatePayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class AddressCreatePayload(Payload):
    address: models.Address | None = strawberry.field(default=None, graphql_type=Address | None)
    user: models.User | None = strawberry.field(
        default=None, graphql_type=User | None,
        description="The owner, to refetch the default address.",
    )


@strawberry.type
class AddressUpdatePayload(Payload):
    address: models.Address | None = strawberry.field(default=None, graphql_type=Address | None)
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class AddressDeletePayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class CustomerSetActivePayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class PasswordChangePayload(Payload):
    user: models.User | None = strawberry.field(default=None, graphql_type=User | None)


@strawberry.type
class PasswordResetRequestPayload(Payload):
    pass


@strawberry.type
class PasswordResetPayload(Payload):
    pass


def address_pk(value: strawberry.ID) -> int | None:
    """None for anything but an Address ID: the service answers it as
    NOT_FOUND, like someone else's address."""
    return pk_from_global_id(value, "Address")




@strawberry.type
class AccountMutation:
    @payload_mutation(
        extensions=[Public()],
        description="Sign up. A confirmation link is emailed.",
    )
    def account_register(self, input: AccountRegisterInput) -> AccountRegisterPayload:
        user = services.account_register(
            email=input.email,
            password=input.password,
            first_name=input.first_name or "",
            last_name=input.last_name or "",
        )
        return AccountRegisterPayload(user=user)

    @payload_mutation(
        extensions=[Public()],
        description="Confirm the email address with the emailed token.",
    )
    def account_confirm(self, token: str) -> AccountConfirmPayload:
        return AccountConfirmPayload(user=services.account_confirm(token=token))

    @payload_mutation(
        extensions=[Public()],
        description="Sign in: an access token and a refresh token.",
    )
    def token_auth(self, info: Info, email: str, password: str) -> TokenAuthPayload:
        issued = services.token_auth(
            email=email, password=password,
            ip=info.context.client_ip, user_agent=info.context.user_agent,
        )
        return TokenAuthPayload(
            token=issued.access_token, refresh_token=issued.refresh_token, user=issued.user
        )

    @payload_mutation(
        extensions=[Public()],
        description="Trade a refresh token for new tokens (rotation).",
    )
    def refresh_token(self, info: Info, refresh_token: str) -> RefreshTokenPayload:
        issued = services.refresh_token_rotate(
            refresh_token=refresh_token,
            ip=info.context.client_ip, user_agent=info.context.user_agent,
        )
        return RefreshTokenPayload(
            token=issued.access_token, refresh_token=issued.refresh_token, user=issued.user
        )

    @payload_mutation(
        extensions=[Public()],
        description="Whether an access token is valid, and whose it is.",
    )
    def verify_token(self, token: str) -> VerifyTokenPayload:
        """An invalid, expired or deactivated user's token answers isValid false
        with one INVALID_TOKEN error on `token`, so a client can treat it like any
        other refused mutation."""
        try:
            user = selectors.user_from_access_token(token)
        except InvalidAccessToken as error:
            raise ServiceError(str(error), code=ErrorCode.INVALID_TOKEN, field="token") from None
        return VerifyTokenPayload(is_valid=True, user=user)

    @payload_mutation(
        extensions=[Public()],
        description="Sign out: revoke a refresh token and its rotations.",
    )
    def revoke_token(self, refresh_token: str) -> RevokeTokenPayload:
        services.refresh_token_revoke(refresh_token=refresh_token)
        return RevokeTokenPayload(revoked=True)

    @payload_mutation(extensions=[SignedIn()])
    def account_update(self, info: Info, input: AccountUpdateInput) -> AccountUpdatePayload:
        user = services.account_update(
            user=signed_in_user(info), **provided(input)
        )
        return AccountUpdatePayload(user=user)

    @payload_mutation(
        extensions=[SignedIn()],
        description=(
            "Add to the address book. setDefault true makes it the default shipping "
            "address; left out, it becomes the default only if there is none yet "
            "(so a first address is the default); false never."
        )
    )
    def address_create(
        self, info: Info, input: AddressInput, set_default: bool | None = None
    ) -> AddressCreatePayload:
        user = signed_in_user(info)
        address = services.address_create(
            user=user, data=provided(input), set_default=set_default
        )
        return AddressCreatePayload(address=address, user=user)

    @payload_mutation(
        extensions=[SignedIn()],
        description="Change one's own address; setDefault true makes it the default.",
    )
    def address_update(
        self, info: Info, id: strawberry.ID, input: AddressInput, set_default: bool = False
    ) -> AddressUpdatePayload:
        user = signed_in_user(info)
        address = services.address_update(
            user=user, address_id=address_pk(id), data=provided(input), set_default=set_default
        )
        return AddressUpdatePayload(address=address, user=user)

    @payload_mutation(extensions=[SignedIn()])
    def address_delete(self, info: Info, id: strawberry.ID) -> AddressDeletePayload:
        user = signed_in_user(info)
        services.address_delete(user=user, address_id=address_pk(id))
        return AddressDeletePayload(user=user)

    @payload_mutation(
        extensions=[SignedIn()],
        description="Change the password; every refresh token is revoked.",
    )
    def password_change(
        self, info: Info, old_password: str, new_password: str
    ) -> PasswordChangePayload:
        user = services.password_change(
            user=signed_in_user(info), old_password=old_password, new_password=new_password,
            ip=info.context.client_ip,
        )
        return PasswordChangePayload(user=user)

    @payload_mutation(
        extensions=[Public()],
        description="Email a password-reset link. The answer is the same whether or not "
        "the account exists.",
    )
    def password_reset_request(self, email: str) -> PasswordResetRequestPayload:
        services.password_reset_request(email=email)
        return PasswordResetRequestPayload()

    @payload_mutation(
        extensions=[Public()],
        description="Set a new password with the emailed token; every refresh token is "
        "revoked.",
    )
    def password_reset(self, token: str, new_password: str) -> PasswordResetPayload:
        services.password_reset(token=token, new_password=new_password)
        return PasswordResetPayload()

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_CUSTOMERS)],
        description="Deactivate or reactivate a customer. A deactivated customer's access "
        "tokens stop working at once and their refresh tokens are revoked. A staff account "
        "is refused (INVALID): staff are managed elsewhere.",
    )
    def customer_set_active(
        self, info: Info, id: strawberry.ID, is_active: bool
    ) -> CustomerSetActivePayload:
        actor = signed_in_user(info)
        customer = get_node(
            selectors.users_visible_to(user=actor), id, type_name="User", field="id"
        )
        return CustomerSetActivePayload(
            user=services.customer_set_active(actor=actor, customer=customer, is_active=is_active)
        )
