"""Sign-in sessions through the endpoint: me.sessions with each device's user
agent, address and times, the caller's marked current; refreshes that keep
one alive; sessionRevoke and sessionRevokeOthers, which end refresh and
access tokens at once; only one's own; and the services and the migration
behind them."""

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps as django_apps
from django.utils import timezone
from strawberry.relay import to_base64

from apps.accounts import services, tokens
from apps.accounts.models import RefreshToken, Session
from apps.accounts.permissions import Perm
from apps.core.errors import ServiceError
from tests.conftest import Client, error_codes, make_user, token_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "ShopApp/3.1 (iPhone; iOS 18.1)"

TOKEN_AUTH = """
mutation TokenAuth($email: String!, $password: String!) {
  tokenAuth(email: $email, password: $password) { token refreshToken errors { code } }
}"""
REFRESH = """
mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { token refreshToken errors { field code } }
}"""
SESSIONS = """
query { me { sessions { id method ip userAgent createdAt lastUsedAt current } } }"""
REVOKE = """
mutation Revoke($id: ID!) {
  sessionRevoke(id: $id) { user { sessions { id } } errors { field code } }
}"""
REVOKE_OTHERS = """
mutation { sessionRevokeOthers { revokedCount user { sessions { id current } }
                                 errors { code } } }"""


def sign_in(email: str, *, user_agent: str = FIREFOX, address: str = "203.0.113.7") -> dict:
    payload = Client(address=address).execute(
        TOKEN_AUTH, {"email": email, "password": PASSWORD},
        headers={"User-Agent": user_agent})["tokenAuth"]
    assert payload["errors"] == []
    return payload


def refresh(raw: str, *, user_agent: str = FIREFOX, address: str = "203.0.113.7") -> dict:
    return Client(address=address).execute(
        REFRESH, {"refreshToken": raw}, headers={"User-Agent": user_agent})["refreshToken"]


def sessions_of(token: str) -> list[dict]:
    return Client(token).execute(SESSIONS)["me"]["sessions"]


def session_of(raw_refresh_token: str) -> Session:
    family = RefreshToken.objects.get(
        token_hash=tokens.hash_refresh_token(raw_refresh_token)).family
    return Session.objects.get(family=family)


def gid(session: Session) -> str:
    return to_base64("Session", session.pk)


def test_sessions_list_each_device_with_the_callers_marked_current():
    user = make_user()
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        laptop = sign_in(user.email)
    with time_machine.travel("2026-03-01 09:02Z", tick=False):
        phone = sign_in(user.email, user_agent=PHONE, address="198.51.100.20")
        listed = sessions_of(laptop["token"])
        phones_view = sessions_of(phone["token"])
    assert [(s["userAgent"], s["ip"], s["method"], s["current"]) for s in listed] == [
        (PHONE, "198.51.100.20", "password", False),
        (FIREFOX, "203.0.113.7", "password", True),
    ]
    assert listed[1]["createdAt"] == listed[1]["lastUsedAt"] == "2026-03-01T09:00:00+00:00"
    assert listed[0]["id"] == gid(session_of(phone["refreshToken"]))
    assert [s["current"] for s in phones_view] == [True, False]


def test_a_refresh_keeps_the_session_and_shows_its_latest_use():
    user = make_user()
    with time_machine.travel("2026-03-01 09:00Z", tick=False):
        signed_in = sign_in(user.email)
    with time_machine.travel("2026-03-05 18:30Z", tick=False):
        renewed = refresh(signed_in["refreshToken"], user_agent=FIREFOX + " (updated)",
                          address="192.0.2.44")
        assert renewed["errors"] == []
        (listed,) = sessions_of(renewed["token"])
    assert listed["createdAt"] == "2026-03-01T09:00:00+00:00"
    assert listed["lastUsedAt"] == "2026-03-05T18:30:00+00:00"
    assert (listed["ip"], listed["userAgent"]) == ("192.0.2.44", FIREFOX + " (updated)")
    assert listed["current"] is True  # the renewed access token names the same session
    session = Session.objects.get()
    assert session.expires_at == session.last_used_at + timedelta(days=30)


def test_session_revoke_ends_its_refresh_and_access_tokens_at_once():
    user = make_user()
    laptop, phone = sign_in(user.email), sign_in(user.email, user_agent=PHONE)
    phone_session = session_of(phone["refreshToken"])
    answer = Client(laptop["token"]).execute(REVOKE, {"id": gid(phone_session)})["sessionRevoke"]
    assert answer["errors"] == []
    assert answer["user"]["sessions"] == [{"id": gid(session_of(laptop["refreshToken"]))}]
    assert refresh(phone["refreshToken"])["errors"] == [
        {"field": "refreshToken", "code": "INVALID_TOKEN"}]
    assert error_codes(Client(phone["token"]).post(SESSIONS)) == ["UNAUTHENTICATED"]
    phone_session.refresh_from_db()
    assert phone_session.revoked_at is not None
    # The laptop goes on; the ended session is no longer there to end again.
    assert refresh(laptop["refreshToken"])["errors"] == []
    again = Client(laptop["token"]).execute(REVOKE, {"id": gid(phone_session)})["sessionRevoke"]
    assert again["errors"] == [{"field": "id", "code": "NOT_FOUND"}]


def test_session_revoke_others_keeps_the_callers():
    user = make_user()
    laptop = sign_in(user.email)
    others = [sign_in(user.email, user_agent=PHONE) for _ in range(2)]
    answer = Client(laptop["token"]).execute(REVOKE_OTHERS)["sessionRevokeOthers"]
    assert answer["errors"] == [] and answer["revokedCount"] == 2
    assert answer["user"]["sessions"] == [
        {"id": gid(session_of(laptop["refreshToken"])), "current": True}]
    for other in others:
        assert refresh(other["refreshToken"])["errors"][0]["code"] == "INVALID_TOKEN"
        assert error_codes(Client(other["token"]).post(SESSIONS)) == ["UNAUTHENTICATED"]
    assert refresh(laptop["refreshToken"])["errors"] == []


def test_another_users_session_is_not_found_and_left_alone():
    ada, bob = make_user(), make_user()
    ada_tokens, bob_tokens = sign_in(ada.email), sign_in(bob.email)
    bobs = session_of(bob_tokens["refreshToken"])
    for bad in (gid(bobs), to_base64("User", bob.pk), "not-an-id"):
        answer = Client(ada_tokens["token"]).execute(REVOKE, {"id": bad})["sessionRevoke"]
        assert answer == {"user": None, "errors": [{"field": "id", "code": "NOT_FOUND"}]}
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    assert refresh(bob_tokens["refreshToken"])["errors"] == []
    # Through node(id:) it is not there either, and a staff member sees no
    # one's sessions but their own: a customer's are null.
    node = Client(ada_tokens["token"]).execute(
        "query($id: ID!) { node(id: $id) { id } }", {"id": gid(bobs)})
    assert node == {"node": None}
    manager = make_user(perms=[Perm.MANAGE_CUSTOMERS])
    seen = Client(token_for(manager)).execute(
        "query($id: ID!) { node(id: $id) { ... on User { email sessions { id } } } }",
        {"id": to_base64("User", bob.pk)})
    assert seen == {"node": {"email": bob.email, "sessions": None}}


def test_session_mutations_need_a_signed_in_caller():
    for document, variables in ((REVOKE, {"id": "U2Vzc2lvbjox"}), (REVOKE_OTHERS, None)):
        assert error_codes(Client().post(document, variables)) == ["UNAUTHENTICATED"]


def test_a_token_without_a_session_still_works_and_every_session_is_another():
    user = make_user()
    signed_in = sign_in(user.email)
    old_style = token_for(user)  # no sid: made before sessions existed
    assert [s["current"] for s in sessions_of(old_style)] == [False]
    answer = Client(old_style).execute(REVOKE_OTHERS)["sessionRevokeOthers"]
    assert answer["revokedCount"] == 1 and answer["user"]["sessions"] == []
    assert refresh(signed_in["refreshToken"])["errors"][0]["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize("end", ["revoke token", "password change", "password reset",
                                 "deactivation", "replayed refresh token"])
def test_every_way_of_ending_sessions_marks_them_revoked(end):
    user = make_user()
    first = services.token_auth(email=user.email, password=PASSWORD)
    if end == "revoke token":
        services.refresh_token_revoke(refresh_token=first.refresh_token)
    elif end == "password change":
        services.password_change(user=user, old_password=PASSWORD, new_password="n3w-Pass-word")
    elif end == "password reset":
        user.refresh_from_db()  # the reset token hashes the last login in
        reset = tokens.make_password_reset_token(user)
        services.password_reset(token=reset, new_password="n3w-Pass-word")
    elif end == "deactivation":
        services.customer_set_active(actor=user, customer=user, is_active=False)
    else:
        services.refresh_token_rotate(refresh_token=first.refresh_token)
        with pytest.raises(ServiceError):
            services.refresh_token_rotate(refresh_token=first.refresh_token)
    assert Session.objects.get().revoked_at is not None
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()
    assert error_codes(Client(first.access_token).post(SESSIONS)) == ["UNAUTHENTICATED"]


def test_expired_sessions_are_not_listed_and_go_with_their_tokens():
    user = make_user()
    signed_in = sign_in(user.email)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert sessions_of(token_for(user)) == []
        services.refresh_tokens_delete_expired()
    assert not Session.objects.exists() and not RefreshToken.objects.exists()
    assert refresh(signed_in["refreshToken"])["errors"][0]["code"] == "INVALID_TOKEN"


def test_the_migration_makes_a_session_of_each_existing_family():
    user = make_user()
    live = services.token_auth(email=user.email, password=PASSWORD)
    services.refresh_token_rotate(refresh_token=live.refresh_token)
    ended = services.token_auth(email=user.email, password=PASSWORD)
    services.refresh_token_revoke(refresh_token=ended.refresh_token)
    expected = {s.family: (s.created_at, s.expires_at, s.revoked_at is None)
                for s in Session.objects.all()}
    Session.objects.all().delete()  # as before the migration

    migration = importlib.import_module(
        "apps.accounts.migrations.0007_sessions_session_and_sign_in_attempt")
    migration.sessions_for_existing_families(django_apps, None)

    made = {s.family: (s.created_at, s.expires_at, s.revoked_at is None)
            for s in Session.objects.all()}
    assert made == expected
    assert {s.user_id for s in Session.objects.all()} == {user.pk}
    # The refresh tokens issued before it keep working, and the access token too.
    assert Client(live.access_token).execute(SESSIONS)["me"]["sessions"][0]["current"] is True


def test_a_family_without_its_session_gets_one_at_its_refresh():
    user = make_user()
    issued = services.token_auth(email=user.email, password=PASSWORD)
    Session.objects.all().delete()  # issued by a server of the release before sessions
    renewed = services.refresh_token_rotate(refresh_token=issued.refresh_token, ip="192.0.2.1",
                                            user_agent=PHONE)
    (session,) = Session.objects.all()
    assert (session.ip, session.user_agent, session.revoked_at) == ("192.0.2.1", PHONE, None)
    assert sessions_of(renewed.access_token)[0]["current"] is True


# Measured: the token's user (its session checked in the same query), `me`,
# and the sessions.
SESSIONS_QUERIES = 3


@pytest.mark.parametrize("size", [1, 8])
def test_me_sessions_cost_the_same_queries_at_any_size(django_assert_num_queries, size):
    user = make_user()
    first = sign_in(user.email)
    for _ in range(size - 1):
        sign_in(user.email, user_agent=PHONE)
    with django_assert_num_queries(SESSIONS_QUERIES):
        assert len(sessions_of(first["token"])) == size
