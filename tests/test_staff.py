"""Staff and permission groups through the endpoint, with the admin console's
own documents: listing and searching staff, inviting one (the email, the
link that sets the password), changing their groups and deactivating them,
and the groups themselves; the two rules (no one grants what they do not
hold; someone always manages staff), with nothing written when refused."""

import re
from urllib.parse import unquote

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from strawberry.relay import to_base64

from apps.accounts import selectors, services
from apps.accounts.models import AuditEntry, RefreshToken, User
from apps.accounts.permissions import Perm
from apps.core.errors import ErrorCode, ServiceError
from apps.core.models import OutboxEvent
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import Client, client_for, error_codes, make_user, problems

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"

# The admin console's staff pages.
CONSOLE = """
fragment StaffMember on User {
  id email firstName lastName isActive isStaff permissions
  permissionGroups { id name }
}
fragment Group on PermissionGroup { id name permissions users { totalCount } }

query StaffUsers($search: String, $isActive: Boolean, $first: Int, $after: String) {
  staffUsers(search: $search, isActive: $isActive, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ...StaffMember } }
  }
}

query PermissionGroups($search: String, $first: Int, $after: String) {
  permissionGroups(search: $search, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ...Group } }
  }
}

query MyPermissions { me { email permissions permissionGroups { name } } }

mutation StaffCreate($input: StaffCreateInput!) {
  staffCreate(input: $input) {
    user { ...StaffMember }
    errors { field message code }
  }
}

mutation StaffUpdate($id: ID!, $input: StaffUpdateInput!) {
  staffUpdate(id: $id, input: $input) {
    user { ...StaffMember }
    errors { field message code }
  }
}

mutation PermissionGroupCreate($input: PermissionGroupCreateInput!) {
  permissionGroupCreate(input: $input) {
    group { ...Group }
    errors { field message code }
  }
}

mutation PermissionGroupUpdate($id: ID!, $input: PermissionGroupUpdateInput!) {
  permissionGroupUpdate(id: $id, input: $input) {
    group { ...Group }
    errors { field message code }
  }
}

mutation PermissionGroupDelete($id: ID!) {
  permissionGroupDelete(id: $id) {
    deletedId
    errors { field message code }
  }
}
"""

PASSWORD_RESET = """
mutation PasswordReset($token: String!, $newPassword: String!) {
  passwordReset(token: $token, newPassword: $newPassword) { errors { field code } }
}"""
TOKEN_AUTH = """
mutation TokenAuth($email: String!, $password: String!) {
  tokenAuth(email: $email, password: $password) { token errors { code } }
}"""


def run(client: Client, operation: str, **variables) -> dict:
    data = client.execute(CONSOLE, variables, operation_name=operation)
    return data[operation[0].lower() + operation[1:]]


def gid(obj) -> str:
    return to_base64("PermissionGroup" if isinstance(obj, Group) else "User", obj.pk)


def role(name: str) -> Group:
    return Group.objects.get(name=name)


def staff_manager(**extra) -> User:
    """Staff holding manage_staff and nothing else."""
    return make_user(perms=[Perm.MANAGE_STAFF], **extra)


def administrator(**extra) -> User:
    """Staff holding every permission, through the Administrators role."""
    user = make_user(is_staff=True, **extra)
    user.groups.add(role("Administrators"))
    return user


def nothing_written(before: dict) -> None:
    assert counts() == before


def counts() -> dict:
    return {"users": User.objects.count(), "audit": AuditEntry.objects.count(),
            "events": OutboxEvent.objects.count(), "groups": Group.objects.count(),
            "memberships": User.groups.through.objects.count(),
            "group_permissions": Group.permissions.through.objects.count(),
            "active": User.objects.filter(is_active=True).count()}


# --- staffUsers --------------------------------------------------------------------------


def test_staff_users_lists_staff_newest_first_with_what_they_hold():
    admin = administrator(email="admin@shop.example")
    make_user(email="customer@example.com")
    clerk = make_user(email="clerk@shop.example", perms=[Perm.MANAGE_ORDERS])
    gone = make_user(email="gone@shop.example", perms=[Perm.MANAGE_PRODUCTS], is_active=False)
    answer = run(client_for(admin), "StaffUsers", first=10)
    assert answer["totalCount"] == 3
    nodes = [edge["node"] for edge in answer["edges"]]
    assert [n["email"] for n in nodes] == [gone.email, clerk.email, admin.email]
    assert nodes[0]["permissions"] == []  # deactivated: holds nothing
    assert nodes[1]["permissions"] == ["MANAGE_ORDERS"] and nodes[1]["permissionGroups"] == []
    assert nodes[2]["permissions"] == [perm.name for perm in Perm]
    assert nodes[2]["permissionGroups"] == [{"id": gid(role("Administrators")),
                                             "name": "Administrators"}]


def test_staff_users_search_filter_and_pages():
    manager = staff_manager(email="manager@shop.example")
    for i in range(4):
        make_user(email=f"clerk{i}@shop.example", first_name="Clerk",
                  perms=[Perm.MANAGE_ORDERS], is_active=i != 0)
    client = client_for(manager)
    assert run(client, "StaffUsers", search="CLERK", first=10)["totalCount"] == 4
    assert run(client, "StaffUsers", search="clerk", isActive=True, first=10)["totalCount"] == 3
    assert run(client, "StaffUsers", search="clerk0 shop.example")["totalCount"] == 1
    first = run(client, "StaffUsers", first=3)
    rest = run(client, "StaffUsers", first=3, after=first["pageInfo"]["endCursor"])
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    seen = [e["node"]["email"] for e in first["edges"] + rest["edges"]]
    assert len(seen) == len(set(seen)) == 5


def test_staff_users_reads_permissions_in_constant_queries():
    manager = staff_manager()
    client = client_for(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            run(client, "StaffUsers", first=50)
        return len(captured)

    make_user(perms=[Perm.MANAGE_ORDERS]).groups.add(role("Marketing"))
    queries()  # the content types' cache filled
    few = queries()
    for _ in range(5):
        make_user(perms=[Perm.MANAGE_PRODUCTS]).groups.add(role("Order managers"))
    assert queries() == few


def test_staff_managers_do_not_see_where_colleagues_live():
    colleague = make_user(perms=[Perm.MANAGE_ORDERS])
    services.address_create(user=colleague, data={
        "first_name": "Col", "last_name": "League", "street_address_1": "1 Home Lane",
        "city": "Leeds", "country": "GB"})
    document = """query($id: ID!) { node(id: $id) { ... on User {
      email defaultShippingAddress { city } addresses { city } } } }"""
    seen = client_for(staff_manager()).execute(document, {"id": gid(colleague)})["node"]
    assert seen == {"email": colleague.email, "defaultShippingAddress": None, "addresses": []}
    seen = client_for(colleague).execute(document, {"id": gid(colleague)})["node"]
    assert seen["defaultShippingAddress"] == {"city": "Leeds"}
    customer_desk = make_user(perms=[Perm.MANAGE_CUSTOMERS])
    seen = client_for(customer_desk).execute(document, {"id": gid(colleague)})["node"]
    assert seen["defaultShippingAddress"] == {"city": "Leeds"}


def test_me_says_what_one_holds_and_through_which_groups():
    clerk = make_user(is_staff=True)
    clerk.groups.add(role("Order managers"))
    me = client_for(clerk).execute(CONSOLE, operation_name="MyPermissions")["me"]
    assert me == {"email": clerk.email, "permissions": ["MANAGE_ORDERS", "MANAGE_SHIPPING"],
                  "permissionGroups": [{"name": "Order managers"}]}
    customer = make_user()
    customer.groups.add(role("Administrators"))  # by mistake: still nothing
    me = client_for(customer).execute(CONSOLE, operation_name="MyPermissions")["me"]
    assert me["permissions"] == []


# --- staffCreate and the invitation -----------------------------------------------------------


def invitation_token(message) -> str:
    match = re.search(r"/account/reset-password\?token=(\S+)", message.body)
    assert match, message.body
    return unquote(match.group(1))


def test_staff_create_invites_by_email_and_the_link_sets_the_password(
    django_capture_on_commit_callbacks
):
    admin = administrator()
    with django_capture_on_commit_callbacks(execute=True):
        answer = run(client_for(admin), "StaffCreate", input={
            "email": " New.Clerk@Shop.example ", "firstName": "Nell", "lastName": "Clerk",
            "groups": [gid(role("Order managers"))]})
    assert answer["errors"] == []
    user = answer["user"]
    assert (user["email"], user["isStaff"], user["isActive"]) == (
        "new.clerk@shop.example", True, True)
    assert user["permissions"] == ["MANAGE_ORDERS", "MANAGE_SHIPPING"]
    created = User.objects.get(email="new.clerk@shop.example")
    assert not created.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [created.email]
    assert message.subject == "You are invited to run the shop"
    # Without a password no one signs in, whatever they try.
    refused = Client().execute(TOKEN_AUTH, {"email": created.email, "password": ""})
    assert refused["tokenAuth"]["token"] is None and refused["tokenAuth"]["errors"]
    token = invitation_token(message)
    done = Client().execute(PASSWORD_RESET, {"token": token, "newPassword": PASSWORD})
    assert done["passwordReset"] == {"errors": []}
    created.refresh_from_db()
    assert created.check_password(PASSWORD) and created.is_email_verified
    signed_in = Client().execute(TOKEN_AUTH, {"email": created.email, "password": PASSWORD})
    assert signed_in["tokenAuth"]["token"]
    again = Client().execute(PASSWORD_RESET, {"token": token, "newPassword": "another-pass-77"})
    assert problems(again["passwordReset"]) == [("token", "INVALID_TOKEN")]


def test_the_invitation_goes_only_after_the_commit(django_capture_on_commit_callbacks):
    admin = administrator()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.staff_create(actor=admin, email="later@shop.example")
    assert mail.outbox == [] and callbacks


def test_staff_create_refuses_bad_and_taken_emails_writing_nothing():
    admin = administrator()
    make_user(email="taken@example.com")
    client = client_for(admin)
    before = counts()
    assert problems(run(client, "StaffCreate", input={"email": "TAKEN@example.com"})) == [
        ("email", "UNIQUE")]
    assert problems(run(client, "StaffCreate", input={"email": "not an email"})) == [
        ("email", "INVALID")]
    assert problems(run(client, "StaffCreate", input={"email": ""})) == [("email", "REQUIRED")]
    assert problems(run(client, "StaffCreate", input={
        "email": "x@shop.example", "groups": ["UHJvZHVjdDox"]})) == [("groups.0", "NOT_FOUND")]
    nothing_written(before)


def test_no_one_grants_a_group_holding_what_they_lack(django_capture_on_commit_callbacks):
    manager = staff_manager()
    client = client_for(manager)
    before = counts()
    with django_capture_on_commit_callbacks(execute=True):
        answer = run(client, "StaffCreate", input={
            "email": "x@shop.example", "groups": [gid(role("Catalog managers"))]})
    assert problems(answer) == [("groups", "PERMISSION_NOT_HELD")]
    assert "accounts.manage_products" in answer["errors"][0]["message"]
    assert mail.outbox == []
    nothing_written(before)


# --- staffUpdate --------------------------------------------------------------------------------


def test_staff_update_sets_groups_and_name_and_deactivates_ending_sessions():
    admin = administrator()
    clerk = make_user(email="clerk@shop.example", is_staff=True)
    clerk.groups.add(role("Marketing"))
    session = services.token_auth(email=clerk.email, password=PASSWORD)
    client = client_for(admin)
    answer = run(client, "StaffUpdate", id=gid(clerk), input={
        "groups": [gid(role("Order managers")), gid(role("Catalog managers"))],
        "firstName": " Clara "})
    assert answer["errors"] == []
    assert answer["user"]["firstName"] == "Clara"
    assert sorted(g["name"] for g in answer["user"]["permissionGroups"]) == [
        "Catalog managers", "Order managers"]
    entry = AuditEntry.objects.get(action="staff.update")
    assert entry.details == {"groups_added": ["Catalog managers", "Order managers"],
                             "groups_removed": ["Marketing"], "first_name": ["", "Clara"]}
    answer = run(client, "StaffUpdate", id=gid(clerk), input={"isActive": False})
    assert answer["errors"] == [] and answer["user"]["isActive"] is False
    assert not RefreshToken.objects.filter(user=clerk, revoked_at__isnull=True).exists()
    refreshed = Client().post("mutation($t: String!) { refreshToken(refreshToken: $t) "
                              "{ token errors { code } } }", {"t": session.refresh_token})
    assert refreshed["data"]["refreshToken"]["errors"] == [{"code": "INVALID_TOKEN"}]
    # Nothing to change is no change, and no entry.
    run(client, "StaffUpdate", id=gid(clerk), input={"isActive": False})
    assert AuditEntry.objects.filter(action="staff.update").count() == 2


def test_staff_update_takes_only_staff_accounts():
    admin = administrator()
    customer = make_user()
    answer = run(client_for(admin), "StaffUpdate", id=gid(customer), input={"isActive": False})
    assert problems(answer) == [("id", "INVALID")]
    manager = staff_manager()  # cannot see customers at all
    answer = run(client_for(manager), "StaffUpdate", id=gid(customer), input={"isActive": False})
    assert problems(answer) == [("id", "NOT_FOUND")]
    assert User.objects.get(pk=customer.pk).is_active


def test_no_one_adds_or_takes_away_a_group_beyond_their_reach():
    manager = make_user(perms=[Perm.MANAGE_STAFF, Perm.MANAGE_ORDERS, Perm.MANAGE_SHIPPING])
    clerk = make_user(is_staff=True)
    clerk.groups.add(role("Marketing"))
    client = client_for(manager)
    before = counts()
    for groups in ([gid(role("Marketing")), gid(role("Catalog managers"))],  # adds
                   []):  # takes Marketing away
        answer = run(client, "StaffUpdate", id=gid(clerk), input={"groups": groups})
        assert problems(answer) == [("groups", "PERMISSION_NOT_HELD")]
    nothing_written(before)
    # Within reach: Order managers holds manage_orders and manage_shipping.
    answer = run(client, "StaffUpdate", id=gid(clerk), input={
        "groups": [gid(role("Marketing")), gid(role("Order managers"))]})
    assert answer["errors"] == []


def test_no_one_deactivates_someone_holding_more_than_they_do():
    manager = make_user(perms=[Perm.MANAGE_STAFF, Perm.MANAGE_ORDERS])
    client = client_for(manager)
    boss = make_user(perms=[Perm.MANAGE_STAFF, Perm.MANAGE_PRODUCTS])
    root = make_user(is_staff=True, is_superuser=True)
    peer = make_user(perms=[Perm.MANAGE_ORDERS])
    before = counts()
    for someone in (boss, root):
        answer = run(client, "StaffUpdate", id=gid(someone), input={"isActive": False})
        assert problems(answer) == [("isActive", "PERMISSION_NOT_HELD")]
    nothing_written(before)
    assert run(client, "StaffUpdate", id=gid(peer), input={"isActive": False})["errors"] == []
    # A superuser may deactivate one.
    other_root = make_user(is_staff=True, is_superuser=True)
    answer = run(client_for(other_root), "StaffUpdate", id=gid(root), input={"isActive": False})
    assert answer["errors"] == []


# --- The last holder of manage_staff --------------------------------------------------------------


def test_the_last_staff_manager_cannot_deactivate_or_demote_themself():
    admin = administrator()
    client = client_for(admin)
    make_user(perms=[Perm.MANAGE_STAFF], is_active=False)  # deactivated: holds nothing
    before = counts()
    answer = run(client, "StaffUpdate", id=gid(admin), input={"isActive": False})
    assert problems(answer) == [("isActive", "LAST_STAFF_MANAGER")]
    answer = run(client, "StaffUpdate", id=gid(admin), input={"groups": []})
    assert problems(answer) == [("groups", "LAST_STAFF_MANAGER")]
    nothing_written(before)
    # With someone else holding it, either goes through.
    staff_manager()
    assert run(client, "StaffUpdate", id=gid(admin), input={"groups": []})["errors"] == []


def test_a_group_cannot_take_manage_staff_from_its_last_holders():
    admin, other = administrator(), administrator()
    client = client_for(admin)
    administrators = role("Administrators")
    before = counts()
    answer = run(client, "PermissionGroupUpdate", id=gid(administrators),
                 input={"permissions": ["MANAGE_ORDERS"]})
    assert problems(answer) == [("permissions", "LAST_STAFF_MANAGER")]
    answer = run(client, "PermissionGroupDelete", id=gid(administrators))
    assert problems(answer) == [("id", "LAST_STAFF_MANAGER")]
    nothing_written(before)
    assert other.has_perm(Perm.MANAGE_STAFF.value)
    # A superuser holds manage_staff whatever the groups say.
    make_user(is_staff=True, is_superuser=True)
    assert run(client, "PermissionGroupDelete", id=gid(administrators))["errors"] == []


def test_the_rule_holds_through_the_services_too():
    admin = administrator()
    with pytest.raises(ServiceError) as refused:
        services.staff_update(actor=admin, staff=admin, is_active=False)
    assert refused.value.errors[0].code == ErrorCode.LAST_STAFF_MANAGER
    assert User.objects.get(pk=admin.pk).is_active
    assert selectors.staff_with_perm(perm=Perm.MANAGE_STAFF).count() == 1


# --- Permission groups ----------------------------------------------------------------------------


def test_permission_groups_are_created_changed_listed_and_deleted():
    admin = administrator()
    client = client_for(admin)
    made = run(client, "PermissionGroupCreate", input={
        "name": " Night desk ", "permissions": ["MANAGE_SHIPPING", "MANAGE_ORDERS"]})
    assert made["errors"] == []
    group = made["group"]
    assert group["name"] == "Night desk" and group["users"] == {"totalCount": 0}
    assert group["permissions"] == ["MANAGE_ORDERS", "MANAGE_SHIPPING"]  # Permission's order
    changed = run(client, "PermissionGroupUpdate", id=group["id"], input={
        "name": "Night shift", "permissions": ["MANAGE_ORDERS", "VIEW_REPORTS"]})
    assert changed["errors"] == []
    assert changed["group"]["permissions"] == ["MANAGE_ORDERS", "VIEW_REPORTS"]
    listed = run(client, "PermissionGroups", search="NIGHT")
    assert [e["node"]["name"] for e in listed["edges"]] == ["Night shift"]
    everything = run(client, "PermissionGroups", first=100)
    assert [e["node"]["name"] for e in everything["edges"]] == sorted(
        Group.objects.values_list("name", flat=True))
    administrators = next(e["node"] for e in everything["edges"]
                          if e["node"]["name"] == "Administrators")
    assert administrators["users"] == {"totalCount": 1}
    assert run(client, "PermissionGroupDelete", id=group["id"]) == {
        "deletedId": group["id"], "errors": []}
    assert not Group.objects.filter(name="Night shift").exists()
    assert list(AuditEntry.objects.order_by("id").values_list("action", "object_repr")) == [
        ("permission_group.create", "Night desk"), ("permission_group.update", "Night shift"),
        ("permission_group.delete", "Night shift")]
    assert AuditEntry.objects.get(action="permission_group.update").details == {
        "name": ["Night desk", "Night shift"], "permissions_added": ["view_reports"],
        "permissions_removed": ["manage_shipping"]}


def test_group_names_are_unique_in_any_case_and_required():
    client = client_for(administrator())
    before = counts()
    assert problems(run(client, "PermissionGroupCreate", input={"name": "marketing"})) == [
        ("name", "UNIQUE")]
    assert problems(run(client, "PermissionGroupCreate", input={"name": "  "})) == [
        ("name", "REQUIRED")]
    assert problems(run(client, "PermissionGroupUpdate", id=gid(role("Marketing")),
                        input={"name": "ADMINISTRATORS"})) == [("name", "UNIQUE")]
    nothing_written(before)


def test_groups_beyond_reach_are_neither_made_changed_nor_deleted():
    manager = make_user(perms=[Perm.MANAGE_STAFF, Perm.MANAGE_DISCOUNTS, Perm.VIEW_REPORTS])
    client = client_for(manager)
    before = counts()
    answer = run(client, "PermissionGroupCreate", input={
        "name": "Sneaky", "permissions": ["MANAGE_DISCOUNTS", "MANAGE_PRODUCTS"]})
    assert problems(answer) == [("permissions", "PERMISSION_NOT_HELD")]
    answer = run(client, "PermissionGroupUpdate", id=gid(role("Marketing")),
                 input={"permissions": ["MANAGE_DISCOUNTS", "VIEW_REPORTS", "MANAGE_APPS"]})
    assert problems(answer) == [("permissions", "PERMISSION_NOT_HELD")]
    for name in ("Catalog managers", "Administrators"):
        answer = run(client, "PermissionGroupUpdate", id=gid(role(name)), input={"name": "x"})
        assert problems(answer) == [("id", "PERMISSION_NOT_HELD")]
        assert problems(run(client, "PermissionGroupDelete", id=gid(role(name)))) == [
            ("id", "PERMISSION_NOT_HELD")]
    nothing_written(before)
    # Marketing is within reach: manage_discounts and view_reports.
    assert run(client, "PermissionGroupUpdate", id=gid(role("Marketing")),
               input={"name": "Growth"})["errors"] == []


def test_other_permissions_of_a_group_are_left_as_they_are():
    from django.contrib.auth.models import Permission

    group = role("Marketing")
    extra = Permission.objects.get(codename="view_group")
    group.permissions.add(extra)
    root = make_user(is_staff=True, is_superuser=True)
    services.permission_group_update(actor=root, group=group, perms=[Perm.VIEW_REPORTS])
    assert set(group.permissions.values_list("codename", flat=True)) == {
        "view_reports", "view_group"}


# --- Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation, variables", [
    ("StaffUsers", {}),
    ("PermissionGroups", {}),
    ("StaffCreate", {"input": {"email": "x@shop.example"}}),
    ("StaffUpdate", {"id": "VXNlcjox", "input": {"isActive": False}}),
    ("PermissionGroupCreate", {"input": {"name": "x"}}),
    ("PermissionGroupUpdate", {"id": "UGVybWlzc2lvbkdyb3VwOjE=", "input": {"name": "x"}}),
    ("PermissionGroupDelete", {"id": "UGVybWlzc2lvbkdyb3VwOjE="}),
])
def test_staff_without_manage_staff_are_forbidden_and_nothing_is_written(operation, variables):
    clerk = make_user(perms=[p for p in Perm if p is not Perm.MANAGE_STAFF])
    before = counts()
    result = client_for(clerk).post(CONSOLE, variables, operation_name=operation)
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["data"] is None
    nothing_written(before)


# --- Two demotions at once (PostgreSQL: separate connections) -------------------------------------

RACE_ROUNDS = 5


@pytest.mark.postgresql
def test_two_staff_managers_deactivating_each_other_at_once_leave_one(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    first, second = administrator(), administrator()

    def deactivate(index: int):
        # Each actor as its request read it, before either change: one read
        # after the other's commit would be refused for holding nothing.
        actor, target = pairs[index]
        return services.staff_update(actor=actor, staff=target, is_active=False)

    for _ in range(RACE_ROUNDS):  # a race lost without the locks is not lost every time
        loaded = [User.objects.get(pk=first.pk), User.objects.get(pk=second.pk)]
        pairs = [(loaded[0], loaded[1]), (loaded[1], loaded[0])]
        results = in_threads(2, deactivate)
        refused = [r for r in results if isinstance(r, ServiceError)]
        assert len(refused) == 1, results
        assert refused[0].errors[0].code == ErrorCode.LAST_STAFF_MANAGER
        assert User.objects.filter(pk__in=[first.pk, second.pk], is_active=True).count() == 1
        assert AuditEntry.objects.filter(action="staff.update").count() == 1
        User.objects.filter(pk__in=[first.pk, second.pk]).update(is_active=True)
        AuditEntry.objects.all().delete()


@pytest.mark.postgresql
def test_a_group_change_and_a_deactivation_at_once_leave_a_staff_manager(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    """One holder through the Administrators group, one directly: taking
    manage_staff from the group and deactivating the direct holder cannot
    both pass."""
    through_group = administrator()
    direct = make_user(perms=list(Perm))
    root = make_user(is_staff=True, is_superuser=True, is_active=False)  # holds nothing

    def change(index: int):
        actor = User.objects.get(pk=root.pk)
        actor.is_active = True  # acting as the superuser without counting as a holder
        if index == 0:
            return services.permission_group_update(
                actor=actor, group=role("Administrators"), perms=[Perm.MANAGE_ORDERS])
        return services.staff_update(actor=actor, staff=User.objects.get(pk=direct.pk),
                                     is_active=False)

    results = in_threads(2, change)
    assert len([r for r in results if isinstance(r, ServiceError)]) == 1, results
    assert selectors.staff_with_perm(perm=Perm.MANAGE_STAFF).exists()
    assert {through_group.pk, direct.pk} & set(
        selectors.staff_with_perm(perm=Perm.MANAGE_STAFF).values_list("pk", flat=True))


def test_the_django_admin_cannot_go_around_the_staff_rules(db):
    """Staff and groups are changed through the API only: the admin's user
    page shows permissions without writing them, and groups are read-only."""
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(make_user(is_staff=True, is_superuser=True))
    clerk = make_user(email="clerk@shop.example")
    group = Group.objects.create(name="Everything")
    response = browser.post(f"/admin/accounts/user/{clerk.pk}/change/", {
        "email": clerk.email, "first_name": "", "last_name": "",
        "is_staff": "on", "is_superuser": "on", "groups": [str(group.pk)],
        "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0",
        "external_identities-TOTAL_FORMS": "0", "external_identities-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content[:2000]
    clerk.refresh_from_db()
    assert (clerk.is_staff, clerk.is_superuser, list(clerk.groups.all())) == (False, False, [])
    assert browser.get("/admin/auth/group/").status_code == 200
    assert browser.get("/admin/auth/group/add/").status_code == 403
    assert browser.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Group.objects.filter(pk=group.pk).exists()
