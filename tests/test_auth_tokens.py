"""Sign-in, refresh-token rotation and reuse detection, revocation, access
tokens, login throttling."""

import threading
import time
import uuid
from datetime import datetime, timedelta, UTC

import pytest
from django.test import override_settings
from django.utils import timezone as dj_timezone

from apps.accounts import services, tokens
from apps.accounts.jwt import encode_access_token
from apps.accounts.models import RefreshToken, User
from apps.core.errors import ErrorCode, ServiceError
from tests.conftest import Client, error_codes, make_user, signed_token, token_for

PASSWORD = "correct-horse-battery"

TOKEN_AUTH = """
mutation TokenAuth($email: String!, $password: String!) {
  tokenAuth(email: $email, password: $password) {
    token refreshToken user { id email isStaff } errors { field message code }
  }
}"""
REFRESH = """
mutation RefreshToken($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { token refreshToken errors { field message code } }
}"""
VERIFY = """
mutation VerifyToken($token: String!) {
  verifyToken(token: $token) { isValid user { id } errors { field message code } }
}"""
REVOKE = """
mutation RevokeToken($refreshToken: String!) {
  revokeToken(refreshToken: $refreshToken) { revoked errors { field message code } }
}"""
ME = "{ me { id email } }"


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def sign_in(client, email, password=PASSWORD, **kwargs) -> dict:
    return client.execute(TOKEN_AUTH, {"email": email, "password": password}, **kwargs)["tokenAuth"]


def refresh(client, raw: str) -> dict:
    return client.execute(REFRESH, {"refreshToken": raw})["refreshToken"]


# --- tokenAuth -------------------------------------------------------------------


def test_token_auth_returns_working_tokens(db, client):
    user = make_user(email="ada@example.com")
    payload = sign_in(client, "  ADA@Example.com ")
    assert payload["errors"] == []
    assert payload["user"]["email"] == "ada@example.com"
    assert payload["user"]["isStaff"] is False
    me = Client(token=payload["token"]).execute(ME)["me"]
    assert me["email"] == "ada@example.com"
    # Only the hash of the refresh token is stored.
    record = RefreshToken.objects.get(user=user)
    assert record.token_hash == tokens.hash_refresh_token(payload["refreshToken"])
    assert payload["refreshToken"] not in record.token_hash
    lifetime = record.expires_at - record.created_at
    assert lifetime == timedelta(days=30)
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "inactive"])
def test_token_auth_failures_look_the_same(db, client, case):
    make_user(email="ada@example.com")
    make_user(email="gone@example.com", is_active=False)
    email, password = {
        "wrong password": ("ada@example.com", "nope-nope-nope"),
        "unknown email": ("nobody@example.com", PASSWORD),
        "inactive": ("gone@example.com", PASSWORD),
    }[case]
    payload = sign_in(client, email, password)
    assert payload["token"] is None and payload["refreshToken"] is None and payload["user"] is None
    assert payload["errors"] == [
        {"field": None, "message": "The email or password is not right.",
         "code": "INVALID_CREDENTIALS"}
    ]
    assert not RefreshToken.objects.exists()


# --- Throttling ----------------------------------------------------------------------


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=3, LOGIN_THROTTLE_IP_LIMIT=100)
def test_repeated_failures_for_one_email_are_throttled(db, client):
    make_user(email="ada@example.com")
    for _ in range(3):
        assert codes(sign_in(client, "ada@example.com", "wrong-wrong-wrong")) == [
            "INVALID_CREDENTIALS"
        ]
    # Locked for the rest of the window, even with the right password...
    assert codes(sign_in(client, "ada@example.com")) == ["THROTTLED"]
    assert codes(sign_in(client, "ADA@example.com")) == ["THROTTLED"]
    # ...from any address, while other accounts are unaffected.
    other = make_user(email="bob@example.com")
    assert sign_in(client, other.email)["errors"] == []
    assert codes(sign_in(client, "ada@example.com", headers={"X-Forwarded-For": "10.0.0.9"})) == [
        "THROTTLED"
    ]


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=100, LOGIN_THROTTLE_IP_LIMIT=4)
def test_repeated_failures_from_one_address_are_throttled(db, client):
    make_user(email="victim@example.com")
    for n in range(4):
        assert codes(sign_in(client, f"guess{n}@example.com", "x-wrong-x")) == [
            "INVALID_CREDENTIALS"
        ]
    assert codes(sign_in(client, "victim@example.com")) == ["THROTTLED"]
    elsewhere = Client(address="203.0.113.5")
    assert sign_in(elsewhere, "victim@example.com")["errors"] == []


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=3, LOGIN_THROTTLE_IP_LIMIT=100)
def test_success_clears_the_email_counter(db):
    make_user(email="ada@example.com")
    for _ in range(2):
        with pytest.raises(ServiceError):
            services.token_auth(email="ada@example.com", password="bad-bad-bad", ip="1.2.3.4")
    services.token_auth(email="ada@example.com", password=PASSWORD, ip="1.2.3.4")
    for _ in range(2):
        with pytest.raises(ServiceError) as refused:
            services.token_auth(email="ada@example.com", password="bad-bad-bad", ip="1.2.3.4")
        assert refused.value.errors[0].code == ErrorCode.INVALID_CREDENTIALS
    # Had the success not cleared it, this would be the 5th failure: throttled.
    assert services.token_auth(email="ada@example.com", password=PASSWORD, ip="1.2.3.4").user


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=2, LOGIN_THROTTLE_WINDOW=60)
def test_throttle_ends_with_the_window(db, time_machine):
    """The window starts at the first failure and ends 60 s later by the
    app's clock, on local memory and on Redis alike (Redis's own expiry does
    not see the moved clock; the throttle compares the times itself)."""

    def sign_in_errors(password: str) -> list[str]:
        try:
            services.token_auth(email="ada@example.com", password=password)
        except ServiceError as refused:
            return [error.code for error in refused.errors]
        return []

    make_user(email="ada@example.com")
    time_machine.move_to(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False)
    assert sign_in_errors("bad-bad-bad") == [ErrorCode.INVALID_CREDENTIALS]
    time_machine.shift(30)  # a later failure does not move the window's end
    assert sign_in_errors("bad-bad-bad") == [ErrorCode.INVALID_CREDENTIALS]
    assert sign_in_errors(PASSWORD) == [ErrorCode.THROTTLED]
    time_machine.shift(29)
    assert sign_in_errors(PASSWORD) == [ErrorCode.THROTTLED]
    time_machine.shift(1)
    # The window has ended: the next failure opens a new one, counting from 1...
    assert sign_in_errors("bad-bad-bad") == [ErrorCode.INVALID_CREDENTIALS]
    assert sign_in_errors("bad-bad-bad") == [ErrorCode.INVALID_CREDENTIALS]
    # ...which locks as the first did, for its own 60 s.
    assert sign_in_errors(PASSWORD) == [ErrorCode.THROTTLED]
    time_machine.shift(59)
    assert sign_in_errors(PASSWORD) == [ErrorCode.THROTTLED]
    time_machine.shift(1)
    assert sign_in_errors(PASSWORD) == []


# --- refreshToken rotation -------------------------------------------------------------


def test_refresh_rotates_the_token(db, client):
    user = make_user(email="ada@example.com")
    first = sign_in(client, user.email)
    second = refresh(client, first["refreshToken"])
    assert second["errors"] == []
    assert second["refreshToken"] != first["refreshToken"]
    assert Client(token=second["token"]).execute(ME)["me"]["email"] == user.email
    old = RefreshToken.objects.get(token_hash=tokens.hash_refresh_token(first["refreshToken"]))
    new = RefreshToken.objects.get(token_hash=tokens.hash_refresh_token(second["refreshToken"]))
    assert old.revoked_at is not None and old.replaced_by == new
    assert new.family == old.family and new.revoked_at is None
    # The new one rotates in turn.
    assert refresh(client, second["refreshToken"])["errors"] == []


def test_replaying_a_rotated_token_revokes_the_whole_family(db, client):
    user = make_user(email="ada@example.com")
    first = sign_in(client, user.email)
    second = refresh(client, first["refreshToken"])
    third = refresh(client, second["refreshToken"])
    other_session = sign_in(client, user.email)

    replay = refresh(client, first["refreshToken"])
    assert replay["token"] is None and replay["refreshToken"] is None
    assert replay["errors"] == [
        {"field": "refreshToken", "message": "The token is invalid or has expired.",
         "code": "INVALID_TOKEN"}
    ]
    family = RefreshToken.objects.get(token_hash=tokens.hash_refresh_token(first["refreshToken"])).family
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()
    # The thief's (or the victim's) latest token is dead too...
    assert codes(refresh(client, third["refreshToken"])) == ["INVALID_TOKEN"]
    # ...but another sign-in's session is not touched.
    assert refresh(client, other_session["refreshToken"])["errors"] == []


def test_expired_unknown_and_inactive_refresh_tokens_are_invalid(db, client):
    user = make_user(email="ada@example.com")
    assert codes(refresh(client, "not-a-token")) == ["INVALID_TOKEN"]
    assert codes(refresh(client, "")) == ["INVALID_TOKEN"]

    expired = sign_in(client, user.email)["refreshToken"]
    RefreshToken.objects.filter(token_hash=tokens.hash_refresh_token(expired)).update(
        expires_at=dj_timezone.now() - timedelta(seconds=1)
    )
    assert codes(refresh(client, expired)) == ["INVALID_TOKEN"]

    live = sign_in(client, user.email)["refreshToken"]
    user.is_active = False
    user.save()
    assert codes(refresh(client, live)) == ["INVALID_TOKEN"]


def in_own_connection(work):
    """Run `work` in a thread with its own database connection, committing.

    The race below needs committed rows that other connections can lock. A
    transactional test would do, but it empties every table afterwards (data
    migrations' rows too), so instead the rows are committed here and deleted
    at the end, and the test keeps the ordinary rolled-back `db` fixture.
    """
    from django.db import connections

    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def committed(work):
    thread, outcome = in_own_connection(work)
    thread.join(timeout=10)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.mark.postgresql  # row locks
def test_concurrent_refreshes_of_one_token_cannot_both_succeed(db):
    from django.db import connection, transaction

    email = f"racer-{uuid.uuid4().hex}@example.com"

    def sign_up_and_in():
        make_user(email=email)
        return services.token_auth(email=email, password=PASSWORD).refresh_token

    raw = committed(sign_up_and_in)
    try:
        token_hash = tokens.hash_refresh_token(raw)
        locked, release = threading.Event(), threading.Event()

        def hold_the_lock():
            with transaction.atomic():
                RefreshToken.objects.select_for_update().get(token_hash=token_hash)
                locked.set()
                release.wait(timeout=10)

        racer_pids: list[int] = []
        started = threading.Barrier(3)

        def attempt():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                racer_pids.append(cursor.fetchone()[0])
            started.wait(timeout=10)
            try:
                services.refresh_token_rotate(refresh_token=raw)
                return "ok"
            except ServiceError as error:
                return error.errors[0].code

        def racers_waiting_on_a_lock() -> int:
            # pg_locks is read afresh on every query (pg_stat_activity is not).
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(%s)",
                    [racer_pids],
                )
                return cursor.fetchone()[0]

        holder, _ = in_own_connection(hold_the_lock)
        assert locked.wait(timeout=10)
        # Both attempts wait on the row lock, then go one after the other.
        # Without select_for_update both would read the live token and rotate it.
        racers = [in_own_connection(attempt) for _ in range(2)]
        started.wait(timeout=10)
        deadline = time.monotonic() + 10
        while racers_waiting_on_a_lock() < 2:
            assert time.monotonic() < deadline, "the racers never queued on the row lock"
        assert all(not outcome for _, outcome in racers)  # both still blocked
        release.set()
        for thread, _ in [(holder, None), *racers]:
            thread.join(timeout=10)

        assert sorted(outcome["value"] for _, outcome in racers) == ["INVALID_TOKEN", "ok"]
        # The loser saw a rotated token: reuse, so the family is revoked.
        rows = RefreshToken.objects.filter(user__email=email)
        assert rows.count() == 2
        assert not rows.filter(revoked_at__isnull=True).exists()
    finally:
        committed(lambda: User.objects.filter(email=email).delete())


# --- verifyToken / revokeToken ---------------------------------------------------------


def test_verify_token(db, client):
    user = make_user(email="ada@example.com")
    valid = client.execute(VERIFY, {"token": token_for(user)})["verifyToken"]
    assert valid["isValid"] is True and valid["errors"] == []
    assert valid["user"]["id"] == Client(token=token_for(user)).execute(ME)["me"]["id"]

    for bad in ["garbage", encode_access_token(user_id=user.pk, email=user.email,
                                                now=datetime.now(tz=UTC) - timedelta(hours=1))]:
        invalid = client.execute(VERIFY, {"token": bad})["verifyToken"]
        assert invalid["isValid"] is False and invalid["user"] is None
        assert invalid["errors"][0]["code"] == "INVALID_TOKEN"
        assert invalid["errors"][0]["field"] == "token"

    user.is_active = False
    user.save()
    assert client.execute(VERIFY, {"token": token_for(user)})["verifyToken"]["isValid"] is False


def test_revoke_token(db, client):
    user = make_user(email="ada@example.com")
    raw = sign_in(client, user.email)["refreshToken"]
    assert client.execute(REVOKE, {"refreshToken": raw})["revokeToken"] == {
        "revoked": True, "errors": []
    }
    assert codes(refresh(client, raw)) == ["INVALID_TOKEN"]
    # Revoking again succeeds; only an unknown token is refused.
    assert client.execute(REVOKE, {"refreshToken": raw})["revokeToken"]["revoked"] is True
    unknown = client.execute(REVOKE, {"refreshToken": "never-issued"})["revokeToken"]
    assert unknown["revoked"] is False and codes(unknown) == ["INVALID_TOKEN"]


def test_revoking_a_rotated_token_ends_its_session(db, client):
    user = make_user(email="ada@example.com")
    first = sign_in(client, user.email)["refreshToken"]
    second = refresh(client, first)["refreshToken"]
    assert client.execute(REVOKE, {"refreshToken": first})["revokeToken"]["revoked"] is True
    assert codes(refresh(client, second)) == ["INVALID_TOKEN"]


# --- Access tokens on every request --------------------------------------------------------


def test_expired_access_token_is_unauthenticated_even_for_typename(db, client):
    user = make_user()
    expired = encode_access_token(
        user_id=user.pk, email=user.email, now=datetime.now(tz=UTC) - timedelta(minutes=6)
    )
    result = Client(token=expired).post("{ __typename }")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result.get("data") is None


def test_access_token_lifetime_is_five_minutes(db):
    user = make_user()
    issued = datetime.now(tz=UTC) - timedelta(minutes=4, seconds=50)
    assert Client(token=encode_access_token(user_id=user.pk, email=user.email, now=issued)).execute(
        ME
    )["me"]["email"] == user.email


def test_deactivated_users_access_token_fails_at_once(db):
    user = make_user()
    client = Client(token=token_for(user))
    assert client.execute(ME)["me"]["email"] == user.email
    user.is_active = False
    user.save()
    assert error_codes(client.post(ME)) == ["UNAUTHENTICATED"]
    assert error_codes(client.post("{ __typename }")) == ["UNAUTHENTICATED"]


def test_refresh_token_is_not_an_access_token(db, client):
    user = make_user()
    raw = sign_in(client, user.email)["refreshToken"]
    assert error_codes(Client(token=raw).post(ME)) == ["UNAUTHENTICATED"]


def test_session_cookie_does_not_authenticate_graphql(db):
    from django.conf import settings
    from django.test import Client as DjangoClient

    user = make_user()
    browser = DjangoClient()
    browser.force_login(user)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    result = Client().post(ME, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
    assert result == {"data": {"me": None}}


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=3)
def test_guessing_the_current_password_counts_as_failed_sign_ins(db):
    user = make_user(email="ada@example.com")
    for _ in range(3):
        with pytest.raises(ServiceError) as wrong:
            services.password_change(user=user, old_password="guess", new_password="x-Y-z-123456")
        assert wrong.value.errors[0].code == ErrorCode.INVALID_CREDENTIALS
    with pytest.raises(ServiceError) as locked:
        services.password_change(user=user, old_password=PASSWORD, new_password="x-Y-z-123456")
    assert locked.value.errors[0].code == ErrorCode.THROTTLED
    with pytest.raises(ServiceError) as sign_in:
        services.token_auth(email="ada@example.com", password=PASSWORD)
    assert sign_in.value.errors[0].code == ErrorCode.THROTTLED


@override_settings(PASSWORD_RESET_EMAIL_LIMIT=2)
def test_reset_emails_to_one_address_are_limited(db, client, django_capture_on_commit_callbacks):
    from django.core import mail

    make_user(email="ada@example.com")
    query = 'mutation { passwordResetRequest(email: "ada@example.com") { errors { code } } }'
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.execute(query) == {"passwordResetRequest": {"errors": []}}
    assert len(mail.outbox) == 2


# The subject of a correctly signed token that names no user we could issue.
BAD_SUBJECTS = {
    "string": "abc", "negative": "-1", "zero": "0", "past-64-bits": str(2**64),
    "huge": "9" * 5000, "decimal": "1.5", "empty": "", "spaces": " 1", "plus": "+1",
    "underscore": "1_0", "other-digits": "\u0661", "nul": "\x00", "null": None, "number": 1,
}


@pytest.mark.parametrize("subject", BAD_SUBJECTS.values(), ids=BAD_SUBJECTS)
def test_signed_token_with_a_bad_subject_is_unauthenticated(db, subject, server_errors):
    make_user()  # id 1 exists, so " 1" or "+1" would name someone if read loosely
    response = Client(token=signed_token(subject)).request("POST", json={"query": ME})
    assert response.status_code == 200
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert server_errors() == []


def test_signed_token_without_a_subject_is_unauthenticated(db, server_errors):
    result = Client(token=signed_token(None, omit=True)).post("{ __typename }")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert server_errors() == []


def test_user_id_of_is_strict():
    from apps.accounts.jwt import InvalidAccessToken, user_id_of

    assert user_id_of({"sub": "42"}) == 42
    assert user_id_of({"sub": str(2**63 - 1)}) == 2**63 - 1
    for subject in BAD_SUBJECTS.values():
        with pytest.raises(InvalidAccessToken):
            user_id_of({"sub": subject})
