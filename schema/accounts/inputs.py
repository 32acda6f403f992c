import strawberry


@strawberry.input
class AccountRegisterInput:
    email: str
    password: str
    first_name: str | None = ""
    last_name: str | None = ""


@strawberry.input(description="Fields left out are left as they are.")
class AccountUpdateInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET


@strawberry.input(
    description=(
        "An address book entry. addressCreate needs firstName, lastName, "
        "streetAddress1, city and country (REQUIRED errors name the missing ones); "
        "addressUpdate changes only the fields sent."
    )
)
class AddressInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    street_address_1: str | None = strawberry.UNSET
    street_address_2: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    postal_code: str | None = strawberry.UNSET
    country_area: str | None = strawberry.UNSET
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 3166-1 alpha-2 code, e.g. US or de."
    )
    phone: str | None = strawberry.UNSET
