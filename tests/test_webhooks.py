"""Webhooks through the endpoint and the services: registering, changing and
deleting them, the URLs refused, the deliveries' log, the manage_apps
permission, the one table of event types, and the Django admin."""

import uuid
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.orders.models import OrderEvent
from apps.webhooks import services
from apps.webhooks.event_types import WEBHOOK_EVENTS, WebhookEventType
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import client_for, error_codes, make_user, problems
from tests.factories import make_webhook

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status

# Measured; the point is that they do not grow with the page. The token's
# user, its permissions (its own and its groups'), the page with its count;
# the deliveries' webhooks in one more, through Webhook's own visibility rule.
WEBHOOKS_QUERIES = 4
WEBHOOK_DELIVERIES_QUERIES = 5

CREATE = """
mutation($input: WebhookInput!) {
  webhookCreate(input: $input) {
    webhook { id url secret eventTypes isActive createdAt }
    errors { field message code }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: WebhookInput!) {
  webhookUpdate(id: $id, input: $input) {
    webhook { id url secret eventTypes isActive }
    errors { field message code }
  }
}"""

DELETE = """
mutation($id: ID!) { webhookDelete(id: $id) { errors { field code } } }"""

WEBHOOKS = """
query($first: Int, $after: String) {
  webhooks(first: $first, after: $after) {
    totalCount
    edges { node { id url eventTypes isActive secret } }
    pageInfo { hasNextPage endCursor }
  }
}"""

DELIVERIES = """
query($webhookId: ID, $status: WebhookDeliveryStatus, $first: Int) {
  webhookDeliveries(webhookId: $webhookId, status: $status, first: $first) {
    totalCount
    edges { node {
      id eventType eventId status attempts nextAttemptAt lastAttemptAt
      lastResponseStatus lastError payload createdAt webhook { id url }
    } }
  }
}"""

PUBLIC_HOST = "93.184.215.14"  # a public address, so that nothing needs resolving


@pytest.fixture
def manager():
    return client_for(make_user(perms=[Perm.MANAGE_APPS]))


def gid(endpoint: WebhookEndpoint) -> str:
    return to_base64("Webhook", endpoint.pk)


def create(client, **fields) -> dict:
    return client.execute(CREATE, {"input": fields})["webhookCreate"]


def delivery_of(endpoint: WebhookEndpoint, *, status: str = Status.SUCCEEDED,
                event_type: str = "order.paid") -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=event_type, event_id=uuid.uuid4(),
        payload={"type": event_type, "timestamp": "2026-01-01T00:00:00Z", "data": {}},
        status=status, attempts=1, last_response_status=200 if status == Status.SUCCEEDED
        else 500)


# --- Registering, changing, deleting ----------------------------------------------------------


def test_register_list_change_and_delete(manager):
    answer = create(manager, url=f"https://{PUBLIC_HOST}/erp", eventTypes=["ORDER_PAID",
                    "ORDER_SHIPPED", "ORDER_PAID"])
    assert answer["errors"] == []
    webhook = answer["webhook"]
    assert webhook["url"] == f"https://{PUBLIC_HOST}/erp"
    assert webhook["eventTypes"] == ["ORDER_PAID", "ORDER_SHIPPED"]  # once each
    assert webhook["isActive"] is True
    assert webhook["secret"].startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["order.paid", "order.shipped"]
    assert endpoint.created_by is not None

    listed = manager.execute(WEBHOOKS)["webhooks"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"] == {k: webhook[k] for k in
                                          ("id", "url", "eventTypes", "isActive", "secret")}

    answer = manager.execute(UPDATE, {"id": webhook["id"], "input": {
        "eventTypes": ["STOCK_LOW"], "isActive": False}})["webhookUpdate"]
    assert answer["errors"] == []
    assert answer["webhook"]["eventTypes"] == ["STOCK_LOW"]
    assert answer["webhook"]["isActive"] is False
    assert answer["webhook"]["url"] == webhook["url"]  # left out: kept
    assert answer["webhook"]["secret"] == webhook["secret"]

    delivery_of(endpoint)
    assert manager.execute(DELETE, {"id": webhook["id"]})["webhookDelete"]["errors"] == []
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    answer = manager.execute(DELETE, {"id": webhook["id"]})["webhookDelete"]
    assert problems(answer) == [("id", "NOT_FOUND")]


def test_each_webhook_has_its_own_secret(manager):
    first = create(manager, url=f"https://{PUBLIC_HOST}/a", eventTypes=["ORDER_PAID"])
    second = create(manager, url=f"https://{PUBLIC_HOST}/b", eventTypes=["ORDER_PAID"])
    assert first["webhook"]["secret"] != second["webhook"]["secret"]


def test_what_is_required_and_what_is_not_an_event_type(manager):
    answer = create(manager)
    assert answer["webhook"] is None
    assert problems(answer) == [("url", "REQUIRED"), ("eventTypes", "REQUIRED")]
    answer = create(manager, url=f"https://{PUBLIC_HOST}/", eventTypes=[])
    assert problems(answer) == [("eventTypes", "REQUIRED")]
    result = manager.post(CREATE, {"input": {"url": f"https://{PUBLIC_HOST}/",
                                             "eventTypes": ["order.paid"]}})
    assert error_codes(result) == ["BAD_USER_INPUT"]  # the enum's name, not its value
    with pytest.raises(services.ServiceError) as refused:
        services.webhook_create(actor=None, url=f"https://{PUBLIC_HOST}/",
                                event_types=["order.paid", "order.lost"])
    assert [(e.field, e.code) for e in refused.value.errors] == [("event_types.1", "INVALID")]
    assert not WebhookEndpoint.objects.exists()


def test_an_unknown_webhook_is_not_found(manager):
    for global_id in (to_base64("Webhook", 999_999), to_base64("Product", 1), "nonsense"):
        answer = manager.execute(UPDATE, {"id": global_id, "input": {"isActive": False}})
        assert problems(answer["webhookUpdate"]) == [("id", "NOT_FOUND")]


# --- URLs refused ---------------------------------------------------------------------------


@pytest.mark.parametrize("url, says", [
    ("ftp://files.example.com/drop", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"),
    ("https://", "http:// or https://"),
    ("no url at all", "spaces"),
    ("https://example.com:99999/", "not a valid URL"),
    ("http://127.0.0.1:8000/graphql/", "this server"),  # in ALLOWED_HOSTS
    ("http://localhost/hooks", "this server"),
    ("http://[::1]/hooks", "this server"),
    ("http://127.0.0.2/hooks", "127.0.0.2, a private, loopback"),
    ("http://[::2]/hooks", "::2"),
    ("http://[2002:a00:1::]/hooks", "2002:a00:1::"),  # 6to4 of 10.0.0.1
    ("http://[64:ff9b::a00:1]/hooks", "64:ff9b::a00:1"),  # NAT64 of 10.0.0.1
    ("http://240.0.0.1/hooks", "240.0.0.1"),
    ("http://10.1.2.3/hooks", "10.1.2.3, a private"),
    ("http://192.168.0.10/hooks", "192.168.0.10"),
    ("http://172.16.5.4/hooks", "172.16.5.4"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/hooks", "fe80::1"),
    ("http://[::ffff:10.0.0.1]/hooks", "::ffff:10.0.0.1"),
    ("http://0.0.0.0/hooks", "0.0.0.0"),
    ("http://100.64.0.1/hooks", "100.64.0.1"),
    ("http://224.0.0.1/hooks", "224.0.0.1"),
])
def test_urls_that_are_refused(manager, url, says):
    answer = create(manager, url=url, eventTypes=["ORDER_PAID"])
    assert problems(answer) == [("url", "INVALID")], answer
    assert says in answer["errors"][0]["message"]
    assert not WebhookEndpoint.objects.exists()


def test_a_name_is_judged_by_the_addresses_it_resolves_to(manager, monkeypatch):
    resolved = {"erp.internal.example": ["93.184.215.14", "10.20.0.3"],
                "erp.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}

    def resolve(host, port):
        if host not in resolved:
            raise OSError("Name or service not known")
        return resolved[host]

    monkeypatch.setattr(services, "resolve", resolve)
    answer = create(manager, url="https://erp.internal.example/hooks", eventTypes=["ORDER_PAID"])
    assert problems(answer) == [("url", "INVALID")]
    assert "is at 10.20.0.3" in answer["errors"][0]["message"]
    answer = create(manager, url="https://nowhere.example/hooks", eventTypes=["ORDER_PAID"])
    assert answer["errors"][0]["message"] == "The host nowhere.example cannot be resolved."
    answer = create(manager, url="https://erp.example.com/hooks?key=1", eventTypes=["ORDER_PAID"])
    assert answer["errors"] == []


def test_the_servers_own_names_are_refused(manager, settings):
    settings.ALLOWED_HOSTS = ["testserver", "shop.example.com", ".api.example.com"]
    for url in ("https://shop.example.com/graphql/", "https://eu.api.example.com/x"):
        answer = create(manager, url=url, eventTypes=["ORDER_PAID"])
        assert [e["message"] for e in answer["errors"]] == ["The URL points at this server."]


def test_a_change_of_url_is_checked_too(manager):
    endpoint = make_webhook(url=f"https://{PUBLIC_HOST}/erp")
    answer = manager.execute(UPDATE, {"id": gid(endpoint), "input": {
        "url": "http://10.0.0.1/"}})["webhookUpdate"]
    assert problems(answer) == [("url", "INVALID")]
    endpoint.refresh_from_db()
    assert endpoint.url == f"https://{PUBLIC_HOST}/erp"


def test_private_urls_when_the_setting_allows_them(manager, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    for url in ("http://127.0.0.1:9000/hooks", "http://erp:8080/hooks"):
        assert create(manager, url=url, eventTypes=["ORDER_PAID"])["errors"] == []
    answer = create(manager, url="file:///etc/passwd", eventTypes=["ORDER_PAID"])
    assert problems(answer) == [("url", "INVALID")]  # the scheme is always checked


# --- The deliveries' log --------------------------------------------------------------------


def test_the_deliveries_of_a_webhook_by_status(manager):
    endpoint, other = make_webhook(), make_webhook(url="https://hooks.example.com/other")
    done = delivery_of(endpoint)
    failed = delivery_of(endpoint, status=Status.FAILED, event_type="order.shipped")
    delivery_of(other)

    found = manager.execute(DELIVERIES, {"webhookId": gid(endpoint)})["webhookDeliveries"]
    assert found["totalCount"] == 2
    nodes = [edge["node"] for edge in found["edges"]]
    assert [n["id"] for n in nodes] == [to_base64("WebhookDelivery", failed.pk),
                                       to_base64("WebhookDelivery", done.pk)]  # newest first
    assert nodes[0]["eventType"] == "ORDER_SHIPPED"
    assert (nodes[0]["status"], nodes[0]["lastResponseStatus"]) == ("FAILED", 500)
    assert nodes[1]["eventId"] == str(done.event_id)
    assert nodes[1]["payload"]["type"] == "order.paid"
    assert nodes[1]["webhook"] == {"id": gid(endpoint), "url": endpoint.url}

    found = manager.execute(DELIVERIES, {"webhookId": gid(endpoint), "status": "FAILED"})
    assert found["webhookDeliveries"]["totalCount"] == 1
    assert manager.execute(DELIVERIES)["webhookDeliveries"]["totalCount"] == 3


def test_the_deliveries_of_an_unknown_webhook_are_an_error(manager):
    for webhook_id in (to_base64("Webhook", 999_999), to_base64("Product", 1), "nonsense"):
        result = manager.post(DELIVERIES, {"webhookId": webhook_id})
        assert error_codes(result) == ["BAD_USER_INPUT"], result


@pytest.mark.parametrize("size", [2, 12])
def test_the_lists_cost_the_same_whatever_their_length(manager, django_assert_num_queries,
                                                       size):
    endpoints = [make_webhook(url=f"https://hooks.example.com/{n}") for n in range(size)]
    for endpoint in endpoints:
        delivery_of(endpoint)
    with django_assert_num_queries(WEBHOOKS_QUERIES):
        listed = manager.execute(WEBHOOKS, {"first": 100})["webhooks"]
    assert len(listed["edges"]) == size
    with django_assert_num_queries(WEBHOOK_DELIVERIES_QUERIES):
        found = manager.execute(DELIVERIES, {"first": 100})["webhookDeliveries"]
    assert len(found["edges"]) == size


def test_pages(manager):
    for n in range(3):
        make_webhook(url=f"https://hooks.example.com/{n}")
    first = manager.execute(WEBHOOKS, {"first": 2})["webhooks"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"]
    rest = manager.execute(WEBHOOKS, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    assert [e["node"]["url"] for e in rest["webhooks"]["edges"]] == [
        "https://hooks.example.com/0"]
    assert error_codes(manager.post(WEBHOOKS, {"first": 101})) == ["BAD_USER_INPUT"]


# --- Who may ----------------------------------------------------------------------------------


def test_webhooks_exist_only_for_staff_who_manage_apps():
    endpoint = make_webhook()
    delivery = delivery_of(endpoint)
    node = "query($id: ID!) { node(id: $id) { id } }"
    for user in (make_user(), make_user(perms=[Perm.MANAGE_ORDERS])):
        client = client_for(user)
        assert client.execute(node, {"id": gid(endpoint)})["node"] is None
        assert client.execute(node, {"id": to_base64("WebhookDelivery", delivery.pk)})[
            "node"] is None
        assert error_codes(client.post(WEBHOOKS)) == ["FORBIDDEN"]
    manager = client_for(make_user(perms=[Perm.MANAGE_APPS]))
    assert manager.execute(node, {"id": gid(endpoint)})["node"] == {"id": gid(endpoint)}


def test_administrators_manage_apps_and_the_migration_gives_it_to_them():
    group = Group.objects.get(name="Administrators")
    assert group.permissions.filter(codename="manage_apps").exists()
    user = make_user(is_staff=True)
    user.groups.add(group)
    assert client_for(user).execute(WEBHOOKS)["webhooks"]["totalCount"] == 0

    migration = import_module("apps.accounts.migrations.0006_manage_apps_to_roles")
    group.permissions.remove(*group.permissions.filter(codename="manage_apps"))
    migration.grant(django_apps, None)
    assert group.permissions.filter(codename="manage_apps").exists()
    migration.revoke(django_apps, None)
    assert not group.permissions.filter(codename="manage_apps").exists()
    assert Group.objects.get(name="Order managers").permissions.filter(
        codename="manage_shipping").exists()  # the others are left as they were


# --- The table of event types -----------------------------------------------------------------


def test_every_webhook_event_type_has_an_event_and_the_order_kinds_exist():
    assert set(WEBHOOK_EVENTS.values()) == set(WebhookEventType)
    kinds = {kind for _, kind in WEBHOOK_EVENTS if kind is not None}
    assert kinds <= set(OrderEvent.Type.values)
    assert len(set(WEBHOOK_EVENTS.values())) == len(WEBHOOK_EVENTS)  # one event, one type


# --- The Django admin -------------------------------------------------------------------------


def test_the_django_admin_writes_through_the_services(admin_client, settings):
    form = {"url": "http://10.0.0.9/hooks", "event_types": ["order.paid", "stock.low"],
            "is_active": "on"}
    response = admin_client.post("/admin/webhooks/webhookendpoint/add/", form)
    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["url"]
    assert "private" in message
    assert not WebhookEndpoint.objects.exists()

    response = admin_client.post("/admin/webhooks/webhookendpoint/add/",
                                 {**form, "url": f"https://{PUBLIC_HOST}/hooks"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["order.paid", "stock.low"]
    assert endpoint.secret.startswith("whsec_") and endpoint.created_by is not None

    response = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.secret in response.content.decode()


def test_the_django_admin_sends_deliveries_again(admin_client, django_capture_on_commit_callbacks,
                                                 monkeypatch):
    attempted = []
    from apps.webhooks import tasks
    monkeypatch.setattr(tasks.deliver_webhook, "delay", attempted.append)
    delivery = delivery_of(make_webhook(), status=Status.FAILED)
    inactive = delivery_of(make_webhook(is_active=False), status=Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/webhooks/webhookdelivery/", {
            "action": "send_again", "_selected_action": [delivery.pk, inactive.pk]},
            follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown[0] == "Sending 1 delivery(ies) again."
    assert "inactive" in shown[1]
    assert attempted == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING
    response = admin_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert response.status_code == 200
