"""The sign-in history through the endpoint and the services: each attempt at
an existing account recorded with how it ended, from where and with what;
me.signInHistory and a customer's for the customer desk; the purge after
SIGN_IN_HISTORY_RETENTION_DAYS; the new-device email, after the commit."""

from datetime import timedelta

import pytest
import time_machine
from celery.schedules import maybe_schedule
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from strawberry.relay import to_base64

from apps.accounts import services, tasks
from apps.accounts.models import SignInAttempt
from apps.accounts.permissions import Perm
from apps.core.models import OutboxEvent
from apps.notifications.models import Kind, Notification
from commerce.celery import app
from tests.conftest import Client, error_codes, make_user, token_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "ShopApp/3.1 (iPhone; iOS 18.1)"

TOKEN_AUTH = """
mutation TokenAuth($email: String!, $password: String!) {
  tokenAuth(email: $email, password: $password) { token errors { code } }
}"""
ATTEMPT = "succeeded reason method ip userAgent createdAt"
MY_HISTORY = f"""
query($first: Int) {{ me {{ signInHistory(first: $first) {{
  totalCount edges {{ node {{ {ATTEMPT} }} }} }} }} }}"""
CUSTOMER_HISTORY = f"""
query($id: ID!) {{ node(id: $id) {{ ... on User {{ email signInHistory(first: 10) {{
  edges {{ node {{ {ATTEMPT} }} }} }} }} }} }}"""
CUSTOMERS_HISTORY = f"""
query {{ customers(first: 10) {{ edges {{ node {{ email signInHistory(first: 10) {{
  edges {{ node {{ {ATTEMPT} }} }} }} }} }} }} }}"""


def sign_in(email: str, password: str = PASSWORD, *, user_agent: str = FIREFOX,
            address: str = "203.0.113.7") -> dict:
    return Client(address=address).execute(
        TOKEN_AUTH, {"email": email, "password": password},
        headers={"User-Agent": user_agent})["tokenAuth"]


def history(token: str, first: int = 10) -> list[dict]:
    edges = Client(token).execute(MY_HISTORY, {"first": first})["me"]["signInHistory"]["edges"]
    return [edge["node"] for edge in edges]


def test_successes_and_failures_are_recorded_newest_first():
    user = make_user()
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        assert sign_in(user.email, "wrong-wrong-wrong")["errors"] == [
            {"code": "INVALID_CREDENTIALS"}]
    with time_machine.travel("2026-03-01 09:01Z", tick=False):
        token = sign_in(user.email, user_agent=PHONE, address="198.51.100.20")["token"]
        assert history(token) == [
            {"succeeded": True, "reason": "OK", "method": "password", "ip": "198.51.100.20",
             "userAgent": PHONE, "createdAt": "2026-03-01T09:01:00+00:00"},
            {"succeeded": False, "reason": "INVALID_CREDENTIALS", "method": "password",
             "ip": "203.0.113.7", "userAgent": FIREFOX,
             "createdAt": "2026-03-01T09:00:00+00:00"},
        ]


def test_an_unknown_email_is_not_recorded():
    make_user(email="ada@example.com")
    assert sign_in("nobody@example.com")["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert sign_in("")["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert not SignInAttempt.objects.exists()


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=2, LOGIN_THROTTLE_IP_LIMIT=100)
def test_throttled_and_deactivated_sign_ins_say_so():
    ada = make_user()
    for _ in range(2):
        sign_in(ada.email, "wrong-wrong-wrong")
    assert sign_in(ada.email)["errors"] == [{"code": "THROTTLED"}]
    gone = make_user(is_active=False)
    assert sign_in(gone.email)["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert sign_in(gone.email, "a-strangers-guess")["errors"] == [
        {"code": "INVALID_CREDENTIALS"}]
    reasons = lambda user: list(  # noqa: E731
        SignInAttempt.objects.filter(user=user).order_by("id").values_list("reason", flat=True))
    assert reasons(ada) == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "THROTTLED"]
    # INACTIVE only with the right password: a guess is not the owner refused.
    assert reasons(gone) == ["INACTIVE", "INVALID_CREDENTIALS"]
    assert not SignInAttempt.objects.filter(succeeded=True).exists()


def test_sign_in_failed_records_what_other_ways_in_report():
    user = make_user()
    attempt = services.sign_in_failed(user=user, ip="192.0.2.9", user_agent="x" * 400,
                                      method="password+totp", reason="INVALID_TOKEN")
    attempt.refresh_from_db()
    assert (attempt.succeeded, attempt.reason, attempt.method, attempt.ip) == (
        False, SignInAttempt.Reason.INVALID_TOKEN, "password+totp", "192.0.2.9")
    assert attempt.user_agent == "x" * 255
    with pytest.raises(ValueError):
        services.sign_in_failed(user=user, method="password", reason="NOT_A_REASON")


def test_the_customer_desk_reads_a_customers_history_and_others_may_not():
    customer = make_user()
    sign_in(customer.email, "wrong-wrong-wrong")
    sign_in(customer.email)
    customer_id = to_base64("User", customer.pk)
    manager = Client(token_for(make_user(perms=[Perm.MANAGE_CUSTOMERS])))
    found = manager.execute(CUSTOMER_HISTORY, {"id": customer_id})["node"]
    assert found["email"] == customer.email
    assert [e["node"]["reason"] for e in found["signInHistory"]["edges"]] == [
        "OK", "INVALID_CREDENTIALS"]
    listed = manager.execute(CUSTOMERS_HISTORY)["customers"]["edges"]
    assert [len(e["node"]["signInHistory"]["edges"]) for e in listed] == [2]

    other_staff = Client(token_for(make_user(perms=[Perm.MANAGE_ORDERS])))
    for client, code in ((other_staff, "FORBIDDEN"), (Client(token_for(make_user())),
                                                       "FORBIDDEN"), (Client(), "UNAUTHENTICATED")):
        assert error_codes(client.post(CUSTOMERS_HISTORY)) == [code]
        assert client.post(CUSTOMER_HISTORY, {"id": customer_id})["data"] == {"node": None}
    # One's own history holds only one's own attempts, staff's too.
    assert history(token_for(make_user(perms=[Perm.MANAGE_CUSTOMERS]))) == []


def test_old_attempts_are_purged_after_the_retention(settings):
    user = make_user()
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        services.token_auth(email=user.email, password=PASSWORD)
    with time_machine.travel("2026-03-01 12:00Z", tick=False):
        services.token_auth(email=user.email, password=PASSWORD)
    with time_machine.travel("2026-06-30 12:00Z", tick=False):  # 180 days after the first
        assert tasks.delete_old_sign_in_attempts.delay().get() == 0
    with time_machine.travel("2026-06-30 12:01Z", tick=False):
        assert tasks.delete_old_sign_in_attempts.delay().get() == 1
    assert SignInAttempt.objects.count() == 1
    settings.SIGN_IN_HISTORY_RETENTION_DAYS = 30
    with time_machine.travel("2026-03-31 12:01Z", tick=False):
        assert services.sign_in_attempts_delete_old() == 1
    assert not SignInAttempt.objects.exists()


def test_beat_purges_the_history_daily():
    entry = app.conf.beat_schedule["delete-old-sign-in-attempts"]
    assert entry["task"] == "apps.accounts.tasks.delete_old_sign_in_attempts"
    schedule = maybe_schedule(entry["schedule"], app=app)
    now = schedule.now()
    assert not schedule.is_due(now - timedelta(hours=23)).is_due
    assert schedule.is_due(now - timedelta(hours=24)).is_due


def new_device_emails() -> list:
    return [m for m in mail.outbox if m.subject == "A new sign-in to your account"]


def test_a_new_device_is_told_after_the_commit_and_a_known_one_is_not(
        django_capture_on_commit_callbacks):
    user = make_user(first_name="Ada")
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(user.email)  # the account's first: nothing to compare with
        sign_in(user.email)  # the same device again
    assert new_device_emails() == []

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with time_machine.travel("2026-03-01 09:00Z", tick=False):
            sign_in(user.email, user_agent=PHONE, address="198.51.100.20")
    assert new_device_emails() == [] and not Notification.objects.exists()  # not before
    for callback in callbacks:
        callback()
    (email,) = new_device_emails()
    assert email.to == [user.email]
    body = email.body
    assert "Hello Ada" in body and "1 March 2026, 09:00" in body
    assert "198.51.100.20" in body and PHONE in body
    assert "/account/sessions" in body
    html = email.alternatives[0][0]
    assert "198.51.100.20" in html and "/account/sessions" in html
    assert Notification.objects.get().kind == Kind.NEW_DEVICE_SIGN_IN

    with django_capture_on_commit_callbacks(execute=True):
        sign_in(user.email, user_agent=PHONE, address="192.0.2.80")  # known, new address
        sign_in(user.email, "wrong-wrong-wrong", user_agent="Curl/8")  # a failure: no email
    assert len(new_device_emails()) == 1
    assert OutboxEvent.objects.filter(type="NewDeviceSignIn").count() == 1


def test_the_new_device_email_is_not_sent_for_a_deactivated_account(
        django_capture_on_commit_callbacks):
    user = make_user()
    services.token_auth(email=user.email, password=PASSWORD, user_agent=FIREFOX)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.token_auth(email=user.email, password=PASSWORD, user_agent=PHONE)
    user.is_active = False
    user.save()
    for callback in callbacks:
        callback()
    assert new_device_emails() == []


# Measured: the token's user (with its session), `me`, the page with its
# total count.
HISTORY_QUERIES = 3


@pytest.mark.parametrize("size", [2, 10])
def test_me_sign_in_history_costs_the_same_queries_at_any_size(
        django_assert_num_queries, size):
    user = make_user()
    token = sign_in(user.email)["token"]
    SignInAttempt.objects.bulk_create([
        SignInAttempt(user=user, succeeded=False, reason="INVALID_CREDENTIALS",
                      created_at=timezone.now() - timedelta(minutes=n))
        for n in range(1, 20)])
    with django_assert_num_queries(HISTORY_QUERIES):
        assert len(history(token, first=size)) == size
