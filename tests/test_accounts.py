"""Sign-up and confirmation, the profile (`me`), the address book, password
change and reset, and the emails they send after commit."""

import re
from datetime import datetime, UTC
from urllib.parse import unquote

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from strawberry.relay import to_base64

from apps.accounts import services, tokens
from apps.accounts.models import Address, RefreshToken, User
from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from tests import contract
from tests.conftest import Client, client_for, error_codes, make_user

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "tangerine-elephant-42"

REGISTER = """
mutation AccountRegister($input: AccountRegisterInput!) {
  accountRegister(input: $input) { user { id email } errors { field message code } }
}"""
CONFIRM = """
mutation AccountConfirm($token: String!) {
  accountConfirm(token: $token) { user { id isEmailVerified } errors { field message code } }
}"""
ADDRESS_FIELDS = """
fragment AddressFields on Address {
  id firstName lastName company streetAddress1 streetAddress2 city postalCode
  countryArea country phone
}"""
ME = """
query Me {
  me {
    id email firstName lastName isStaff isEmailVerified isActive dateJoined
    defaultShippingAddress { ...AddressFields }
    addresses { ...AddressFields }
  }
}""" + ADDRESS_FIELDS
ACCOUNT_UPDATE = """
mutation AccountUpdate($input: AccountUpdateInput!) {
  accountUpdate(input: $input) { user { id firstName lastName } errors { field message code } }
}"""
ADDRESS_CREATE = """
mutation AddressCreate($input: AddressInput!, $setDefault: Boolean) {
  addressCreate(input: $input, setDefault: $setDefault) {
    address { ...AddressFields } errors { field message code }
  }
}""" + ADDRESS_FIELDS
ADDRESS_UPDATE = """
mutation AddressUpdate($id: ID!, $input: AddressInput!) {
  addressUpdate(id: $id, input: $input) { address { ...AddressFields } errors { field message code } }
}""" + ADDRESS_FIELDS
ADDRESS_DELETE = """
mutation AddressDelete($id: ID!) { addressDelete(id: $id) { errors { field message code } } }"""
PASSWORD_CHANGE = """
mutation PasswordChange($oldPassword: String!, $newPassword: String!) {
  passwordChange(oldPassword: $oldPassword, newPassword: $newPassword) { errors { field message code } }
}"""
RESET_REQUEST = """
mutation PasswordResetRequest($email: String!) {
  passwordResetRequest(email: $email) { errors { field message code } }
}"""
RESET = """
mutation PasswordReset($token: String!, $newPassword: String!) {
  passwordReset(token: $token, newPassword: $newPassword) { errors { field message code } }
}"""
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Address { city } ... on User { email } } }"

ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "streetAddress1": "12 St James's Square",
    "city": "London",
    "postalCode": "SW1Y 4JH",
    "country": "gb",
}


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def token_in(message) -> str:
    match = re.search(r"\?token=(\S+)", message.body)
    assert match, message.body
    return unquote(match.group(1))


def register(client, **fields) -> dict:
    data = {"email": "new@example.com", "password": PASSWORD, "firstName": "New",
            "lastName": "Person", **fields}
    return client.execute(REGISTER, {"input": data})["accountRegister"]


def gid(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


# --- accountRegister / accountConfirm --------------------------------------------------


def test_register_then_confirm(db, client, django_capture_on_commit_callbacks, settings):
    settings.STOREFRONT_URL = "https://shop.example/"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        payload = register(client, email="  New.Person@Example.COM ")
    assert payload["errors"] == []
    assert payload["user"]["email"] == "new.person@example.com"
    assert len(callbacks) == 1
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password(PASSWORD) and not user.is_email_verified
    assert (user.first_name, user.last_name) == ("New", "Person")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert message.subject == "Confirm your email address"
    assert "https://shop.example/account/confirm?token=" in message.body
    token = token_in(message)

    confirmed = client.execute(CONFIRM, {"token": token})["accountConfirm"]
    assert confirmed["errors"] == []
    assert confirmed["user"] == {"id": payload["user"]["id"], "isEmailVerified": True}
    user.refresh_from_db()
    assert user.is_email_verified
    # Confirming twice is harmless.
    assert client.execute(CONFIRM, {"token": token})["accountConfirm"]["errors"] == []


def test_register_refuses_a_taken_email_whatever_its_case(db, client, django_capture_on_commit_callbacks):
    make_user(email="taken@example.com")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        payload = register(client, email="TAKEN@example.com")
    assert payload["user"] is None
    assert codes(payload) == [("email", "UNIQUE")]
    assert callbacks == [] and mail.outbox == []
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"password": "short"}, ("password", "PASSWORD_TOO_WEAK")),
        ({"password": "12345678901234"}, ("password", "PASSWORD_TOO_WEAK")),
        ({"password": "password123"}, ("password", "PASSWORD_TOO_WEAK")),
        ({"password": ""}, ("password", "REQUIRED")),
        ({"email": "not-an-email"}, ("email", "INVALID")),
        ({"email": "   "}, ("email", "REQUIRED")),
        ({"firstName": "x" * 151}, ("firstName", "INVALID")),
    ],
)
def test_register_validation(db, client, fields, expected):
    payload = register(client, **fields)
    assert payload["user"] is None
    assert expected in codes(payload)
    assert all(e["message"] for e in payload["errors"])
    assert not User.objects.exists()


def test_password_similar_to_the_email_is_refused(db, client):
    payload = register(client, email="margaret.hamilton@example.com", password="margaret.hamilton")
    assert ("password", "PASSWORD_TOO_WEAK") in codes(payload)


def test_confirmation_token_failures(db, client, settings, time_machine):
    user = make_user(email="ada@example.com")
    time_machine.move_to(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
    token = tokens.make_confirmation_token(user)
    for bad in ["", "garbage", token[:-2] + "xx"]:
        payload = client.execute(CONFIRM, {"token": bad})["accountConfirm"]
        assert payload["user"] is None and codes(payload) == [("token", "INVALID_TOKEN")]

    settings.ACCOUNT_CONFIRMATION_MAX_AGE = 60
    time_machine.shift(60)
    assert client.execute(CONFIRM, {"token": token})["accountConfirm"]["errors"] == []
    user.is_email_verified = False
    user.save(update_fields=["is_email_verified"])
    time_machine.shift(1)
    expired = client.execute(CONFIRM, {"token": token})["accountConfirm"]
    assert codes(expired) == [("token", "INVALID_TOKEN")]

    # A token for an address the account no longer has does not verify the new one.
    user.email = "changed@example.com"
    user.save()
    stale = client.execute(CONFIRM, {"token": token})["accountConfirm"]
    assert codes(stale) == [("token", "INVALID_TOKEN")]
    user.refresh_from_db()
    assert not user.is_email_verified


def test_confirmation_email_is_sent_only_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.account_register(email="later@example.com", password=PASSWORD)
        assert mail.outbox == []
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["later@example.com"]]


def test_no_email_when_the_transaction_rolls_back(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.account_register(email="ghost@example.com", password=PASSWORD)
                raise RuntimeError("something later failed")
    assert callbacks == [] and mail.outbox == []
    assert not User.objects.filter(email="ghost@example.com").exists()


# --- me ------------------------------------------------------------------------------------


def test_me_is_null_for_anonymous(db, client):
    assert client.execute(ME) == {"me": None}


def test_me(db, customer, customer_client):
    address = services.address_create(user=customer, data={
        "first_name": "Ada", "last_name": "Lovelace", "street_address_1": "1 Road",
        "city": "London", "country": "GB"})
    me = customer_client.execute(ME)["me"]
    assert me["id"] == gid("User", customer.pk)
    assert me["email"] == customer.email
    assert (me["firstName"], me["lastName"]) == ("Ada", "Lovelace")
    assert me["isStaff"] is False and me["isEmailVerified"] is False and me["isActive"] is True
    assert me["dateJoined"]
    assert me["defaultShippingAddress"]["id"] == gid("Address", address.pk)
    assert [a["city"] for a in me["addresses"]] == ["London"]


def test_me_addresses_cost_the_same_queries_at_any_size(db, customer, customer_client,
                                                         django_assert_num_queries):
    def add(n):
        for i in range(n):
            services.address_create(user=customer, data={
                "first_name": "A", "last_name": "B", "street_address_1": f"{i} Road",
                "city": "Paris", "country": "FR"})

    add(1)
    # user (token) + me with its default address + addresses
    with django_assert_num_queries(3):
        assert len(customer_client.execute(ME)["me"]["addresses"]) == 1
    add(9)
    with django_assert_num_queries(3):
        assert len(customer_client.execute(ME)["me"]["addresses"]) == 10


def test_staff_flag(db, staff_client):
    assert staff_client.execute(ME)["me"]["isStaff"] is True


# --- accountUpdate -------------------------------------------------------------------------


def test_account_update(db, customer, customer_client):
    payload = customer_client.execute(ACCOUNT_UPDATE, {"input": {"firstName": " Augusta "}})
    assert payload["accountUpdate"]["user"]["firstName"] == "Augusta"
    assert payload["accountUpdate"]["user"]["lastName"] == "Lovelace"  # left out: unchanged
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("Augusta", "Lovelace")

    too_long = customer_client.execute(ACCOUNT_UPDATE, {"input": {"lastName": "x" * 151}})
    assert codes(too_long["accountUpdate"]) == [("lastName", "INVALID")]
    customer.refresh_from_db()
    assert customer.last_name == "Lovelace"


SIGNED_IN_ONLY = [
    (ACCOUNT_UPDATE, {"input": {"firstName": "X"}}),
    (ADDRESS_CREATE, {"input": ADDRESS}),
    (ADDRESS_UPDATE, {"id": "QWRkcmVzczox", "input": ADDRESS}),
    (ADDRESS_DELETE, {"id": "QWRkcmVzczox"}),
    (PASSWORD_CHANGE, {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
]


@pytest.mark.parametrize(("document", "variables"), SIGNED_IN_ONLY)
def test_signed_in_mutations_refuse_anonymous_callers(db, client, document, variables):
    result = client.post(document, variables)
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["data"] is None


# --- Addresses -------------------------------------------------------------------------------


def create_address(client, setDefault=None, **fields) -> dict:
    variables = {"input": {**ADDRESS, **fields}}
    if setDefault is not None:
        variables["setDefault"] = setDefault
    return client.execute(ADDRESS_CREATE, variables)["addressCreate"]


def test_address_create(db, customer, customer_client):
    payload = create_address(customer_client, company="Analytical Engines", phone="+44 20 7946 0000")
    assert payload["errors"] == []
    address = payload["address"]
    assert address["country"] == "GB"  # upper-cased
    assert address["company"] == "Analytical Engines"
    assert address["streetAddress2"] == "" and address["countryArea"] == ""
    stored = Address.objects.get(user=customer)
    assert address["id"] == gid("Address", stored.pk)
    # A first address becomes the default shipping address.
    customer.refresh_from_db()
    assert customer.default_shipping_address == stored


def test_default_shipping_address_rules(db, customer, customer_client):
    first = create_address(customer_client)["address"]
    second = create_address(customer_client, city="Leeds")["address"]
    me = customer_client.execute(ME)["me"]
    assert me["defaultShippingAddress"]["id"] == first["id"]  # not replaced by default
    third = create_address(customer_client, setDefault=True, city="York")["address"]
    assert customer_client.execute(ME)["me"]["defaultShippingAddress"]["id"] == third["id"]
    create_address(customer_client, setDefault=False, city="Bath")
    me = customer_client.execute(ME)["me"]
    assert me["defaultShippingAddress"]["id"] == third["id"]
    assert [a["id"] for a in me["addresses"]][:3] == [first["id"], second["id"], third["id"]]
    # Deleting the default leaves none; the next address created takes its place.
    customer_client.execute(ADDRESS_DELETE, {"id": third["id"]})
    assert customer_client.execute(ME)["me"]["defaultShippingAddress"] is None
    fifth = create_address(customer_client, city="Hull")["address"]
    assert customer_client.execute(ME)["me"]["defaultShippingAddress"]["id"] == fifth["id"]


def test_address_required_fields(db, customer_client):
    payload = customer_client.execute(ADDRESS_CREATE, {"input": {
        "firstName": "  ", "lastName": None, "city": "London", "country": "GB"}})["addressCreate"]
    assert payload["address"] is None
    assert sorted(codes(payload)) == [
        ("firstName", "REQUIRED"), ("lastName", "REQUIRED"), ("streetAddress1", "REQUIRED")
    ]
    missing_country = create_address(customer_client, country="")
    assert codes(missing_country) == [("country", "REQUIRED")]
    assert not Address.objects.exists()


@pytest.mark.parametrize("country", ["XX", "GBR", "U1", "uk"])
def test_address_country_must_be_iso_alpha_2(db, customer_client, country):
    payload = create_address(customer_client, country=country)
    assert set(codes(payload)) == {("country", "INVALID")}  # GBR is also too long


def test_country_codes_list():
    from apps.core.countries import COUNTRY_CODES

    assert len(COUNTRY_CODES) == 249
    assert {"US", "DE", "GB", "SS", "XK"} - COUNTRY_CODES == {"XK"}  # XK is user-assigned


def test_address_update(db, customer, customer_client):
    created = create_address(customer_client)["address"]
    payload = customer_client.execute(ADDRESS_UPDATE, {
        "id": created["id"], "input": {"city": "Cambridge", "country": "us", "countryArea": "MA"}
    })["addressUpdate"]
    assert payload["errors"] == []
    assert payload["address"]["city"] == "Cambridge"
    assert payload["address"]["country"] == "US"
    assert payload["address"]["firstName"] == "Ada"  # left out: unchanged
    blank = customer_client.execute(ADDRESS_UPDATE, {
        "id": created["id"], "input": {"city": ""}})["addressUpdate"]
    assert codes(blank) == [("city", "REQUIRED")]
    assert Address.objects.get().city == "Cambridge"


def test_someone_elses_address_is_not_found(db, customer, customer_client):
    stranger = make_user()
    theirs = services.address_create(user=stranger, data={
        "first_name": "S", "last_name": "T", "street_address_1": "Elsewhere 1",
        "city": "Oslo", "country": "NO"})
    their_id = gid("Address", theirs.pk)
    updated = customer_client.execute(ADDRESS_UPDATE, {"id": their_id, "input": {"city": "Mine"}})
    assert codes(updated["addressUpdate"]) == [("id", "NOT_FOUND")]
    deleted = customer_client.execute(ADDRESS_DELETE, {"id": their_id})
    assert codes(deleted["addressDelete"]) == [("id", "NOT_FOUND")]
    theirs.refresh_from_db()
    assert theirs.city == "Oslo"
    # And through node(id:), it does not exist; nor does the stranger.
    assert customer_client.execute(NODE, {"id": their_id}) == {"node": None}
    assert customer_client.execute(NODE, {"id": gid("User", stranger.pk)}) == {"node": None}
    assert Client().execute(NODE, {"id": their_id}) == {"node": None}
    # Its owner, and staff managing customers, do see it.
    assert client_for(stranger).execute(NODE, {"id": their_id})["node"]["city"] == "Oslo"
    manager = make_user(perms=[Perm.MANAGE_CUSTOMERS])
    assert client_for(manager).execute(NODE, {"id": their_id})["node"]["city"] == "Oslo"
    assert client_for(manager).execute(NODE, {"id": gid("User", stranger.pk)})["node"]["email"] == stranger.email


@pytest.mark.parametrize("bad_id", ["garbage", gid("User", 1), gid("Address", 999999)])
def test_bad_address_ids_are_not_found(db, customer_client, bad_id):
    payload = customer_client.execute(ADDRESS_DELETE, {"id": bad_id})["addressDelete"]
    assert codes(payload) == [("id", "NOT_FOUND")]


def test_address_delete(db, customer, customer_client):
    created = create_address(customer_client)["address"]
    assert customer_client.execute(ADDRESS_DELETE, {"id": created["id"]})["addressDelete"] == {
        "errors": []
    }
    assert not Address.objects.exists()
    customer.refresh_from_db()
    assert customer.default_shipping_address is None


# --- Passwords ---------------------------------------------------------------------------------


def sign_in(email, password=PASSWORD):
    return services.token_auth(email=email, password=password)


def live_refresh_tokens(user) -> int:
    return RefreshToken.objects.filter(user=user, revoked_at__isnull=True).count()


def test_password_change(db, customer, customer_client):
    sign_in(customer.email)
    sign_in(customer.email)
    assert live_refresh_tokens(customer) == 2
    payload = customer_client.execute(
        PASSWORD_CHANGE, {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    )["passwordChange"]
    assert payload["errors"] == []
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    assert live_refresh_tokens(customer) == 0
    with pytest.raises(ServiceError):
        sign_in(customer.email, PASSWORD)
    assert sign_in(customer.email, NEW_PASSWORD).access_token


def test_password_change_failures(db, customer, customer_client):
    sign_in(customer.email)
    wrong = customer_client.execute(
        PASSWORD_CHANGE, {"oldPassword": "not-it-at-all", "newPassword": NEW_PASSWORD}
    )["passwordChange"]
    assert codes(wrong) == [("oldPassword", "INVALID_CREDENTIALS")]
    weak = customer_client.execute(
        PASSWORD_CHANGE, {"oldPassword": PASSWORD, "newPassword": "123"}
    )["passwordChange"]
    assert {c for c in codes(weak)} == {("newPassword", "PASSWORD_TOO_WEAK")}
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)
    assert live_refresh_tokens(customer) == 1


def request_reset(client, email, capture) -> dict:
    with capture(execute=True):
        return client.execute(RESET_REQUEST, {"email": email})["passwordResetRequest"]


def test_password_reset_flow(db, client, customer, django_capture_on_commit_callbacks):
    sign_in(customer.email)
    assert request_reset(client, customer.email.upper(), django_capture_on_commit_callbacks) == {
        "errors": []
    }
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email] and message.subject == "Reset your password"
    assert "/account/reset-password?token=" in message.body
    token = token_in(message)
    assert "." in token

    done = client.execute(RESET, {"token": token, "newPassword": NEW_PASSWORD})["passwordReset"]
    assert done == {"errors": []}
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    assert customer.is_email_verified  # the link reached the inbox
    assert live_refresh_tokens(customer) == 0

    # One time only.
    again = client.execute(RESET, {"token": token, "newPassword": "another-fine-pass-7"})
    assert codes(again["passwordReset"]) == [("token", "INVALID_TOKEN")]


def test_password_reset_request_answers_the_same_for_unknown_emails(
    db, client, django_capture_on_commit_callbacks
):
    make_user(email="gone@example.com", is_active=False)
    for email in ["nobody@example.com", "gone@example.com", "not an email"]:
        assert request_reset(client, email, django_capture_on_commit_callbacks) == {"errors": []}
    assert mail.outbox == []


def test_password_reset_failures(db, client, customer):
    token = tokens.make_password_reset_token(customer)
    for bad in ["", "garbage", "MQ.bad-token", token.split(".")[0], "!!!." + token.split(".")[1]]:
        payload = client.execute(RESET, {"token": bad, "newPassword": NEW_PASSWORD})["passwordReset"]
        assert codes(payload) == [("token", "INVALID_TOKEN")]
    weak = client.execute(RESET, {"token": token, "newPassword": "lovelace"})["passwordReset"]
    assert ("newPassword", "PASSWORD_TOO_WEAK") in codes(weak)
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


@override_settings(PASSWORD_RESET_TIMEOUT=60)
def test_password_reset_token_expires(db, client, customer, time_machine):
    time_machine.move_to(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
    token = tokens.make_password_reset_token(customer)
    time_machine.shift(61)
    payload = client.execute(RESET, {"token": token, "newPassword": NEW_PASSWORD})
    assert codes(payload["passwordReset"]) == [("token", "INVALID_TOKEN")]
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_reset_email_is_sent_only_after_commit(db, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.password_reset_request(email=customer.email)
        assert mail.outbox == []
    assert len(callbacks) == 1 and len(mail.outbox) == 1


# --- Staff: createsuperuser and the Django admin ------------------------------------------------


def test_createsuperuser_noinput(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin-pass-for-tests-1")
    call_command("createsuperuser", "--email", "Boss@Example.com", "--noinput", verbosity=0)
    boss = User.objects.get(email="boss@example.com")
    assert boss.is_staff and boss.is_superuser and boss.is_active
    assert boss.check_password("admin-pass-for-tests-1")
    assert all(boss.has_perm(perm.value) for perm in Perm)
    me = client_for(boss).execute(ME)["me"]
    assert me["isStaff"] is True
    assert services.token_auth(email="boss@example.com", password="admin-pass-for-tests-1").user == boss


def test_admin_pages(db, admin_client_for_email):
    user = make_user(email="shown@example.com")
    services.address_create(user=user, data={
        "first_name": "A", "last_name": "B", "street_address_1": "1 Road", "city": "Rome",
        "country": "IT"})
    browser = admin_client_for_email
    for url in ["/admin/accounts/user/", "/admin/accounts/user/add/",
                f"/admin/accounts/user/{user.pk}/change/", "/admin/accounts/address/",
                "/admin/accounts/refreshtoken/", "/admin/accounts/user/?q=shown"]:
        assert browser.get(url).status_code == 200, url
    response = browser.post("/admin/accounts/user/add/", {
        "email": "Added@Example.com", "usable_password": "true",
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content[:2000]
    assert User.objects.get(email="added@example.com").check_password(NEW_PASSWORD)


@pytest.fixture
def admin_client_for_email(db):
    from django.test import Client as DjangoClient

    User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    browser = DjangoClient()
    assert browser.login(email="root@example.com", password=PASSWORD)
    return browser


# --- The storefront's own document, end to end ----------------------------------------------


def test_storefront_account_document_end_to_end(db, client, django_capture_on_commit_callbacks):
    document = contract.document("storefront/account.graphql")

    def run(operation, variables, as_client=client):
        return as_client.execute(document, variables, operation_name=operation)

    with django_capture_on_commit_callbacks(execute=True):
        registered = run("AccountRegister", {"input": {
            "email": "flow@example.com", "password": PASSWORD, "firstName": "Flo", "lastName": "W"}})
    assert registered["accountRegister"]["errors"] == []
    confirmed = run("AccountConfirm", {"token": token_in(mail.outbox[-1])})
    assert confirmed["accountConfirm"]["user"]["isEmailVerified"] is True

    signed_in = run("TokenAuth", {"email": "flow@example.com", "password": PASSWORD})["tokenAuth"]
    assert signed_in["user"]["email"] == "flow@example.com" and signed_in["user"]["isStaff"] is False
    me_client = Client(token=signed_in["token"])
    refreshed = run("RefreshToken", {"refreshToken": signed_in["refreshToken"]})["refreshToken"]
    assert refreshed["errors"] == [] and refreshed["token"]
    verified = run("VerifyToken", {"token": refreshed["token"]})["verifyToken"]
    assert verified["isValid"] is True

    assert run("AccountUpdate", {"input": {"lastName": "Wave"}}, me_client)["accountUpdate"][
        "user"]["lastName"] == "Wave"
    created = run("AddressCreate", {"input": ADDRESS, "setDefault": True}, me_client)["addressCreate"]
    address_id = created["address"]["id"]
    updated = run("AddressUpdate", {"id": address_id, "input": {"city": "Bristol"}}, me_client)
    assert updated["addressUpdate"]["address"]["city"] == "Bristol"
    me = run("Me", None, me_client)["me"]
    assert me["defaultShippingAddress"]["id"] == address_id and me["lastName"] == "Wave"
    assert run("AddressDelete", {"id": address_id}, me_client)["addressDelete"]["errors"] == []

    changed = run("PasswordChange", {"oldPassword": PASSWORD, "newPassword": NEW_PASSWORD}, me_client)
    assert changed["passwordChange"]["errors"] == []
    with django_capture_on_commit_callbacks(execute=True):
        run("PasswordResetRequest", {"email": "flow@example.com"})
    reset = run("PasswordReset", {"token": token_in(mail.outbox[-1]), "newPassword": PASSWORD + "!"})
    assert reset["passwordReset"]["errors"] == []
    revoked = run("RevokeToken", {"refreshToken": refreshed["refreshToken"]})["revokeToken"]
    assert revoked == {"revoked": True, "errors": []}  # already revoked by the password change


def test_admin_writes_addresses_through_the_address_services(db, admin_client_for_email):
    user = make_user(email="book@example.com")
    browser = admin_client_for_email
    fields = {"first_name": "Ada", "last_name": "L", "company": "", "street_address_1": "1 Road",
              "street_address_2": "", "city": "Rome", "postal_code": "", "country_area": "",
              "phone": ""}
    response = browser.post("/admin/accounts/address/add/",
                            {**fields, "user": user.pk, "country": "xx"})
    assert response.context["adminform"].form.errors == {
        "country": ["XX is not an ISO 3166-1 alpha-2 country code."]}
    response = browser.post("/admin/accounts/address/add/",
                            {**fields, "user": user.pk, "country": "it"})
    assert response.status_code == 302
    (address,) = user.addresses.all()
    user.refresh_from_db()
    # address_create upper-cased the code and made the first address the default.
    assert address.country == "IT" and user.default_shipping_address == address
    response = browser.post(f"/admin/accounts/address/{address.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not user.addresses.exists()
