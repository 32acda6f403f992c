"""The audit log: what staff do through the staff mutations and the order
desk is kept, in the change's own transaction (a refused or rolled-back
change leaves no entry), and read newest first by staff managing staff,
filtered by action, actor or object; the Django admin only shows it."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from strawberry.relay import to_base64

from apps.accounts import services
from apps.accounts.models import AuditEntry
from apps.accounts.permissions import Perm
from apps.orders.models import Order
from apps.orders.services import fulfilment
from tests import contract
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import Client, client_for, error_codes, make_user, problems
from tests.factories import make_order, make_product, make_review, make_variant

pytestmark = pytest.mark.django_db

AUDIT_LOG = """
query AuditLog($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id action actorEmail actor { id email } objectType objectId objectRepr details createdAt
    } }
  }
}"""
DESK = ("admin/orders.graphql", "OrderFulfill", "OrderMarkDelivered", "OrderAdminCancel",
        "OrderRefund", "CustomerSetActive")
SET_HIDDEN = """
mutation($id: ID!, $isHidden: Boolean!) {
  reviewSetHidden(id: $id, isHidden: $isHidden) { errors { code } }
}"""


def log(client: Client, **variables) -> dict:
    return client.execute(AUDIT_LOG, variables)["auditLog"]


def nodes(connection: dict) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]]


def desk(client: Client, operation: str, **variables) -> dict:
    data = client.execute(contract.operations(*DESK), variables, operation_name=operation)
    return data[operation[0].lower() + operation[1:]]


def gid(type_name: str, obj) -> str:
    return to_base64(type_name, obj.pk)


def paid_order() -> Order:
    variant = make_variant(product=make_product(), price="10.00", stock=10)
    return make_order(lines=[(variant, 1)], status="PROCESSING", payment_status="PAID",
                      tax_rate="0.2")


@pytest.fixture
def reader() -> Client:
    return client_for(make_user(perms=[Perm.MANAGE_STAFF], email="reader@shop.example"))


# --- The order desk --------------------------------------------------------------------------


def test_the_order_desk_actions_are_kept_with_who_what_and_which(reader):
    clerk = make_user(perms=[Perm.MANAGE_ORDERS, Perm.MANAGE_CUSTOMERS],
                      email="clerk@shop.example")
    client = client_for(clerk)
    shipped, refunded, cancelled = paid_order(), paid_order(), paid_order()
    assert desk(client, "OrderFulfill", id=gid("Order", shipped),
                trackingNumber="TRACK-1")["errors"] == []
    assert desk(client, "OrderMarkDelivered", id=gid("Order", shipped))["errors"] == []
    assert desk(client, "OrderRefund", id=gid("Order", refunded), amount="5.00")["errors"] == []
    assert desk(client, "OrderAdminCancel", id=gid("Order", cancelled),
                reason="Out of roses")["errors"] == []
    customer = make_user()
    assert desk(client, "CustomerSetActive", id=gid("User", customer),
                isActive=False)["errors"] == []
    entries = nodes(log(reader))
    assert [(e["action"], e["objectRepr"]) for e in entries] == [
        ("customer.set_active", customer.email),
        ("order.refund", f"#{cancelled.number}"),  # the cancellation gives the money back
        ("order.cancel", f"#{cancelled.number}"),
        ("order.refund", f"#{refunded.number}"),
        ("order.deliver", f"#{shipped.number}"),
        ("order.fulfil", f"#{shipped.number}"),
    ]
    assert {e["actorEmail"] for e in entries} == {clerk.email}
    assert {e["actor"]["id"] for e in entries} == {gid("User", clerk)}
    fulfil = entries[-1]
    assert fulfil["objectType"] == "orders.Order"
    assert fulfil["objectId"] == gid("Order", shipped)
    assert fulfil["details"] == {"move": "fulfil", "message": "Shipped, tracking number TRACK-1.",
                                 "status": ["PROCESSING", "SHIPPED"],
                                 "payment_status": ["PAID", "PAID"],
                                 "tracking_number": "TRACK-1"}
    assert entries[3]["details"]["payment_status"] == ["PAID", "PARTIALLY_REFUNDED"]
    assert entries[3]["details"]["total_refunded"] == "5.00"
    assert entries[2]["details"]["message"] == "Out of roses"
    assert entries[0]["details"] == {"is_active": [True, False]}


def test_a_refused_move_leaves_no_entry(reader):
    clerk = client_for(make_user(perms=[Perm.MANAGE_ORDERS]))
    pending = make_order(lines=[(make_variant(product=make_product(), stock=5), 1)])
    answer = desk(clerk, "OrderFulfill", id=gid("Order", pending))
    assert problems(answer) == [(None, "INVALID_TRANSITION")]
    assert not AuditEntry.objects.exists()


def test_what_customers_and_the_shop_itself_do_is_not_kept():
    ada = make_user()
    order = make_order(lines=[(make_variant(product=make_product(), stock=5), 1)], user=ada,
                       status="PROCESSING", payment_status="PAID")
    cancel = ("mutation($id: ID!) { orderCancel(id: $id) { errors { code } } }")
    assert client_for(ada).execute(cancel, {"id": gid("Order", order)})["orderCancel"] == {
        "errors": []}
    fulfilment.order_fulfil(order=paid_order(), actor=None)  # beat, a webhook: no one
    assert not AuditEntry.objects.exists()


def test_review_moderation_is_kept_only_when_it_changes_something():
    moderator = make_user(perms=[Perm.MANAGE_PRODUCTS])
    review = make_review(product=make_product())
    client = client_for(moderator)
    for hidden in (True, True, False):
        client.execute(SET_HIDDEN, {"id": gid("Review", review), "isHidden": hidden})
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "review.hide", "review.show"]


def test_the_django_admins_order_actions_are_kept(admin_client, admin_user):
    order = paid_order()
    admin_client.post("/admin/orders/order/", {"action": "fulfil",
                                               "_selected_action": [order.pk]})
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_pk) == ("order.fulfil", admin_user,
                                                            str(order.pk))


# --- Reading it ---------------------------------------------------------------------------------


def test_the_log_is_newest_first_paged_and_filtered(reader):
    admin = make_user(is_staff=True, is_superuser=True, email="root@shop.example")
    other = make_user(perms=[Perm.MANAGE_STAFF, Perm.MANAGE_ORDERS], email="other@shop.example")
    start = timezone.now() - timedelta(hours=5)
    with time_machine.travel(start, tick=False):
        invited = services.staff_create(actor=admin, email="new@shop.example")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        group = services.permission_group_create(actor=admin, name="Night desk",
                                                 perms=[Perm.MANAGE_ORDERS])
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        services.staff_update(actor=other, staff=invited, groups=[group])
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        fulfilment.order_fulfil(order=paid_order(), actor=other)
    everything = log(reader)
    assert [e["action"] for e in nodes(everything)] == [
        "order.fulfil", "staff.update", "permission_group.create", "staff.create"]
    assert everything["totalCount"] == 4
    first = log(reader, first=3)
    rest = log(reader, first=3, after=first["pageInfo"]["endCursor"])
    assert [e["action"] for e in nodes(rest)] == ["staff.create"]
    assert not rest["pageInfo"]["hasNextPage"]

    def actions(**filter) -> list[str]:
        return [e["action"] for e in nodes(log(reader, filter=filter))]

    assert actions(action="staff.update") == ["staff.update"]
    assert actions(action="staff.") == ["staff.update", "staff.create"]
    assert actions(actorId=gid("User", other)) == ["order.fulfil", "staff.update"]
    assert actions(objectId=gid("User", invited)) == ["staff.update", "staff.create"]
    assert actions(objectId=gid("PermissionGroup", group)) == ["permission_group.create"]
    assert actions(objectId=gid("Product", invited)) == []  # a type the log never names
    assert actions(action="staff.", actorId=gid("User", admin)) == ["staff.create"]
    update = nodes(log(reader, filter={"action": "staff.update"}))[0]
    assert update["details"] == {"groups_added": ["Night desk"], "groups_removed": []}
    assert update["objectId"] == gid("User", invited)
    assert update["createdAt"].startswith((start + timedelta(hours=2)).isoformat()[:16])


def test_an_actor_id_of_another_type_is_bad_input(reader):
    result = reader.post(AUDIT_LOG, {"filter": {"actorId": to_base64("Order", 1)}})
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_entries_outlive_their_actor_and_their_object(reader):
    admin = make_user(is_staff=True, is_superuser=True, email="gone@shop.example")
    group = services.permission_group_create(actor=admin, name="Temp")
    services.permission_group_delete(actor=admin, group=Group.objects.get(pk=group.pk))
    admin.delete()
    entries = nodes(log(reader))
    assert [(e["action"], e["actor"], e["actorEmail"], e["objectRepr"]) for e in entries] == [
        ("permission_group.delete", None, "gone@shop.example", "Temp"),
        ("permission_group.create", None, "gone@shop.example", "Temp")]
    assert entries[0]["details"] == {"name": "Temp", "permissions": [], "members": 0}


def test_only_staff_managing_staff_read_it():
    services.permission_group_create(actor=make_user(is_staff=True, is_superuser=True),
                                     name="Temp")
    clerk = make_user(perms=[p for p in Perm if p is not Perm.MANAGE_STAFF])
    assert error_codes(client_for(clerk).post(AUDIT_LOG)) == ["FORBIDDEN"]
    assert error_codes(Client().post(AUDIT_LOG)) == ["UNAUTHENTICATED"]
    entry = AuditEntry.objects.get()
    node = "query($id: ID!) { node(id: $id) { id ... on AuditEntry { action } } }"
    assert client_for(clerk).execute(node, {"id": gid("AuditEntry", entry)})["node"] is None


def test_an_entry_is_written_in_the_changes_transaction_or_not_at_all():
    admin = make_user(is_staff=True, is_superuser=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.permission_group_create(actor=admin, name="Rolled back")
        raise RuntimeError
    assert not AuditEntry.objects.exists() and not Group.objects.filter(
        name="Rolled back").exists()


def test_the_django_admin_shows_the_log_and_writes_nothing(admin_client, admin_user):
    services.permission_group_create(actor=admin_user, name="Temp")
    entry = AuditEntry.objects.get()
    listed = admin_client.get("/admin/accounts/auditentry/")
    assert listed.status_code == 200 and "permission_group.create" in listed.content.decode()
    assert admin_client.get(f"/admin/accounts/auditentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert admin_client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_an_entry_outside_a_transaction_is_refused(
    keeps_default_warehouse, transactional_db  # noqa: F811
):
    """Autocommit would keep it even when the change it records rolls back."""
    admin = make_user(is_staff=True, is_superuser=True)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.audit_record(actor=admin, action="staff.update", target=admin)
    assert not AuditEntry.objects.exists()
