"""The admin's customer list and customerSetActive through the endpoint, with
the contract's own operations, and the services and selectors behind them."""

from datetime import timedelta

import pytest
from graphql import parse
import time_machine
from django.utils import timezone
from strawberry.relay import to_base64

from apps.accounts import selectors, services
from apps.accounts.models import RefreshToken, User
from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from schema.cost import operation_cost
from schema.schema import schema
from tests import contract
from tests.conftest import Client, client_for, error_codes, make_user, problems, token_for
from tests.factories import make_order, make_product, make_variant

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ME = "query { me { id email } }"
# Measured; the point is that it does not grow with the page. The token's
# user, its permissions (user's and groups'), the page with its total.
CUSTOMERS_QUERIES = 4


def document() -> str:
    return contract.operations("admin/orders.graphql", "Customers", "CustomerSetActive")


def gid(user: User) -> str:
    return to_base64("User", user.pk)


def customers(client, **variables) -> dict:
    variables.setdefault("first", 20)
    return client.execute(document(), variables, operation_name="Customers")["customers"]


def emails(connection: dict) -> list[str]:
    return [edge["node"]["email"] for edge in connection["edges"]]


def set_active(client, user_id: str, is_active: bool) -> dict:
    data = client.execute(
        document(), {"id": user_id, "isActive": is_active}, operation_name="CustomerSetActive"
    )
    return data["customerSetActive"]


def make_customers(count: int, *, start=None) -> list[User]:
    """Customers who joined a day apart, the last one newest."""
    start = start or timezone.now() - timedelta(days=count)
    made = []
    for i in range(count):
        with time_machine.travel(start + timedelta(days=i), tick=False):
            made.append(make_user(email=f"customer{i:03d}@example.com"))
    return made


@pytest.fixture
def manager() -> User:
    return make_user(perms=[Perm.MANAGE_CUSTOMERS])


@pytest.fixture
def manager_client(manager) -> Client:
    return client_for(manager)


# --- customers -----------------------------------------------------------------------------------


def test_customers_newest_first_without_staff(manager_client, staff):
    made = make_customers(3)
    connection = customers(manager_client)
    assert connection["totalCount"] == 3
    assert emails(connection) == [u.email for u in reversed(made)]
    node = connection["edges"][0]["node"]
    assert node == {"id": gid(made[-1]), "email": made[-1].email, "isActive": True,
                    "dateJoined": node["dateJoined"], "orderCount": 0}
    assert node["dateJoined"].startswith(made[-1].date_joined.date().isoformat())


def test_customers_pages(manager_client):
    make_customers(5)
    first = customers(manager_client, first=2)
    assert first["pageInfo"]["hasNextPage"] is True
    rest = customers(manager_client, first=10, after=first["pageInfo"]["endCursor"])
    assert rest["pageInfo"]["hasNextPage"] is False
    assert len(emails(first) + emails(rest)) == 5
    assert not set(emails(first)) & set(emails(rest))


def test_customers_search_by_name_or_email_in_any_case(manager_client):
    ada = make_user(email="ada@analytical.example", first_name="Ada", last_name="Lovelace")
    grace = make_user(email="grace@navy.example", first_name="Grace", last_name="Hopper")
    make_user(email="someone@example.com", first_name="Sam")

    def found(search):
        return emails(customers(manager_client, search=search))

    assert found("ada") == [ada.email]
    assert found("LOVELACE") == [ada.email]
    assert found("ada lovelace") == [ada.email]  # every word, each in any field
    assert found("grace NAVY.example") == [grace.email]
    assert found("ada hopper") == []
    assert found("%") == [] and found("_") == []  # wildcards are plain characters
    assert len(found("   ")) == 3 and len(found("")) == 3


def test_customer_search_is_bounded():
    make_user(email="x@example.com")
    # The words past the limit are not conditions: a long search is cut, not slow.
    search = " ".join(["x"] * selectors.CUSTOMER_SEARCH_WORDS + ["nothing-matches"])
    assert selectors.customer_search(search=search).count() == 1


@pytest.mark.parametrize("size", [3, 15])
@pytest.mark.parametrize("first", [10, 100])
def test_customers_cost_the_same_whatever_the_page(
    manager_client, django_assert_num_queries, size, first
):
    made = make_customers(size)
    variant = make_variant(product=make_product())
    for n, customer in enumerate(made):
        for _ in range(n % 3):
            make_order(lines=[(variant, 1)], user=customer, allocate=False)
    with django_assert_num_queries(CUSTOMERS_QUERIES):
        connection = customers(manager_client, first=first)
    assert connection["totalCount"] == size
    assert len(connection["edges"]) == min(size, first)
    # Newest first: the last made has (size - 1) % 3 orders.
    assert [edge["node"]["orderCount"] for edge in connection["edges"]] == [
        n % 3 for n in reversed(range(size))][:first]


def test_order_count_counts_every_order_of_the_customer(manager_client):
    ada, grace = make_customers(2)
    variant = make_variant(product=make_product())
    for status, payment_status in [("PENDING", "NOT_CHARGED"), ("CANCELLED", "NOT_CHARGED"),
                                   ("DELIVERED", "PAID")]:
        make_order(lines=[(variant, 1)], user=ada, status=status, payment_status=payment_status,
                   allocate=False)
    # A guest order under Ada's email is not her account's.
    make_order(lines=[(variant, 1)], email=ada.email, allocate=False)
    counts = {edge["node"]["email"]: edge["node"]["orderCount"]
              for edge in customers(manager_client)["edges"]}
    assert counts == {ada.email: 3, grace.email: 0}
    # A user a mutation answers is counted too, without the list's annotation.
    query = """mutation ($id: ID!) { customerSetActive(id: $id, isActive: true)
                 { user { orderCount } errors { code } } }"""
    answer = manager_client.execute(query, {"id": gid(ada)})["customerSetActive"]
    assert answer == {"user": {"orderCount": 3}, "errors": []}


@pytest.mark.parametrize("holder", [[], [Perm.MANAGE_ORDERS, Perm.MANAGE_PRODUCTS]])
def test_customers_need_the_permission(holder):
    make_customers(1)
    result = client_for(make_user(perms=holder)).post(
        document(), {"first": 10}, operation_name="Customers")
    assert error_codes(result) == ["FORBIDDEN"] and result["data"] is None
    assert error_codes(Client().post(document(), {"first": 10}, operation_name="Customers")) == [
        "UNAUTHENTICATED"]


# --- customerSetActive ---------------------------------------------------------------------------


def test_deactivating_ends_the_customers_sessions_at_once(manager_client):
    customer = make_user()
    issued = services.token_auth(email=customer.email, password=PASSWORD)
    session = Client(token=issued.access_token)
    assert session.execute(ME)["me"]["email"] == customer.email

    answer = set_active(manager_client, gid(customer), False)
    assert answer == {"user": {"id": gid(customer), "isActive": False}, "errors": []}
    customer.refresh_from_db()
    assert customer.is_active is False

    # The access token that worked a moment ago is refused now, not at expiry.
    assert error_codes(session.post(ME)) == ["UNAUTHENTICATED"]
    assert not RefreshToken.objects.filter(user=customer, revoked_at__isnull=True).exists()
    with pytest.raises(ServiceError) as refused:
        services.refresh_token_rotate(refresh_token=issued.refresh_token)
    assert refused.value.errors[0].code == "INVALID_TOKEN"
    with pytest.raises(ServiceError):  # nor can they sign in again
        services.token_auth(email=customer.email, password=PASSWORD)
    # The list shows it.
    assert customers(manager_client)["edges"][0]["node"]["isActive"] is False


def test_reactivating_lets_the_customer_sign_in_but_not_resume_old_sessions(manager_client):
    customer = make_user()
    old = services.token_auth(email=customer.email, password=PASSWORD)
    set_active(manager_client, gid(customer), False)
    answer = set_active(manager_client, gid(customer), True)
    assert answer == {"user": {"id": gid(customer), "isActive": True}, "errors": []}
    with pytest.raises(ServiceError):
        services.refresh_token_rotate(refresh_token=old.refresh_token)
    fresh = services.token_auth(email=customer.email, password=PASSWORD)
    assert Client(token=fresh.access_token).execute(ME)["me"]["email"] == customer.email
    # An access token issued before stays refused: its session ended with the
    # deactivation (README "Sessions and sign-in history").
    assert error_codes(Client(token=old.access_token).post(ME)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("kind", ["staff", "superuser"])
def test_a_staff_account_is_refused(manager, manager_client, kind):
    colleague = (make_user(perms=[Perm.MANAGE_PRODUCTS]) if kind == "staff"
                 else User.objects.create_superuser(email="root@example.com", password=PASSWORD))
    for target in (colleague, manager):
        answer = set_active(manager_client, gid(target), False)
        assert problems(answer) == [("id", "INVALID")] and answer["user"] is None
        assert "staff are managed elsewhere" in answer["errors"][0]["message"]
        target.refresh_from_db()
        assert target.is_active is True
    assert Client(token=token_for(colleague)).execute(ME)["me"]["id"] == gid(colleague)


@pytest.mark.parametrize("user_id", [
    to_base64("User", 999_999), to_base64("Product", 1), "not an id", ""])
def test_an_unknown_user_is_not_found(manager_client, user_id):
    answer = set_active(manager_client, user_id, False)
    assert problems(answer) == [("id", "NOT_FOUND")]


def test_set_active_needs_the_permission():
    customer = make_user()
    for client, code in ((Client(), "UNAUTHENTICATED"), (client_for(make_user()), "FORBIDDEN"),
                         (client_for(customer), "FORBIDDEN"),
                         (client_for(make_user(perms=[Perm.MANAGE_ORDERS])), "FORBIDDEN")):
        result = client.post(document(), {"id": gid(customer), "isActive": False},
                             operation_name="CustomerSetActive")
        assert error_codes(result) == [code]
    customer.refresh_from_db()
    assert customer.is_active is True


def test_the_service_refuses_staff_without_graphql(manager):
    with pytest.raises(ServiceError) as refused:
        services.customer_set_active(actor=manager, customer=manager, is_active=False)
    assert [(e.field, e.code) for e in refused.value.errors] == [("id", "INVALID")]


def test_the_operations_fit_the_cost_limit_at_their_largest_page(settings):
    parsed = parse(document())
    for name in ("Customers", "CustomerSetActive"):
        value = operation_cost(schema=schema._schema, document=parsed, operation_name=name,
                               variables={"first": 100},
                               max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE)
        assert 2 * value <= settings.GRAPHQL_MAX_COST, (name, value)
