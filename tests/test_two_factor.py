"""Two-factor sign-in (issue 11): setting up an authenticator app, turning
it on and off, tokenAuth's TWO_FACTOR_REQUIRED and its challenge,
tokenAuthTwoFactor with TOTP and recovery codes, the clock window, reuse,
throttling, expiry."""

import time
from datetime import UTC, datetime

import pyotp
import pytest
from django.test import override_settings

from apps.accounts import otp, services, tokens
from apps.accounts.models import RecoveryCode, RefreshToken, TwoFactorDevice, User
from apps.accounts.services import twofactor
from apps.core.errors import ErrorCode, ServiceError
from tests.concurrency import in_threads, keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import Client, client_for, error_codes, make_user

PASSWORD = "correct-horse-battery"
# A moment 5 s into a time step, so a shift of under 25 s stays in it.
NOON = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)

SETUP = "mutation { twoFactorSetup { secret otpauthUri errors { field message code } } }"
CONFIRM = """
mutation Confirm($code: String!) {
  twoFactorConfirm(code: $code) {
    recoveryCodes user { twoFactorEnabled } errors { field message code }
  }
}"""
DISABLE = """
mutation Disable($password: String!, $code: String!) {
  twoFactorDisable(password: $password, code: $code) {
    user { twoFactorEnabled } errors { field message code }
  }
}"""
TOKEN_AUTH = """
mutation TokenAuth($email: String!, $password: String!) {
  tokenAuth(email: $email, password: $password) {
    token refreshToken challenge user { id } errors { field message code }
  }
}"""
TOKEN_AUTH_TWO_FACTOR = """
mutation TokenAuthTwoFactor($challenge: String!, $code: String!) {
  tokenAuthTwoFactor(challenge: $challenge, code: $code) {
    token refreshToken user { email twoFactorEnabled } errors { field message code }
  }
}"""
ME = "{ me { email twoFactorEnabled } }"


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def code_at(secret: str, steps: int = 0) -> str:
    """The app's code `steps` time steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOON, tick=False)
    return time_machine


def turn_on(user: User) -> tuple[str, list[str]]:
    """Two-factor sign-in on for `user` through the services: (secret, recovery
    codes). Uses the current step's code, so a test signing in next moves on."""
    secret = services.two_factor_setup(user=user).secret
    return secret, services.two_factor_confirm(user=user, code=code_at(secret))


def sign_in(client: Client, email: str, password: str = PASSWORD) -> dict:
    return client.execute(TOKEN_AUTH, {"email": email, "password": password})["tokenAuth"]


def second_step(client: Client, challenge: str, code: str) -> dict:
    return client.execute(
        TOKEN_AUTH_TWO_FACTOR, {"challenge": challenge, "code": code}
    )["tokenAuthTwoFactor"]


def challenge_for(client: Client, user: User) -> str:
    payload = sign_in(client, user.email)
    assert codes(payload) == [(None, "TWO_FACTOR_REQUIRED")]
    return payload["challenge"]


# --- Setting up, turning on -------------------------------------------------------------


def test_setup_then_confirm_turns_it_on(db, clock):
    user = make_user(email="ada@example.com")
    client = client_for(user)
    made = client.execute(SETUP)["twoFactorSetup"]
    assert made["errors"] == []
    secret = made["secret"]
    assert made["otpauthUri"] == pyotp.TOTP(secret).provisioning_uri(
        name="ada@example.com", issuer_name="Commerce"
    )
    assert made["otpauthUri"].startswith("otpauth://totp/Commerce:ada%40example.com?secret=")
    # Set up is not on: signing in is as before.
    assert client.execute(ME)["me"]["twoFactorEnabled"] is False
    assert sign_in(Client(), user.email)["token"]

    confirmed = client.execute(CONFIRM, {"code": code_at(secret)})["twoFactorConfirm"]
    assert confirmed["errors"] == []
    assert confirmed["user"] == {"twoFactorEnabled": True}
    recovery = confirmed["recoveryCodes"]
    assert len(recovery) == len(set(recovery)) == 10
    assert client.execute(ME)["me"] == {"email": "ada@example.com", "twoFactorEnabled": True}

    # Neither the secret nor a recovery code is stored as it was shown.
    device = TwoFactorDevice.objects.get(user=user)
    assert secret not in device.encrypted_secret
    assert otp.decrypt_secret(device.encrypted_secret) == secret
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert stored == {otp.recovery_code_hashes(one)[0] for one in recovery}
    assert not any(one.replace("-", "") in h for one in recovery for h in stored)


def test_setup_again_replaces_an_unconfirmed_secret_and_is_refused_once_on(db, clock):
    user = make_user()
    client = client_for(user)
    first = client.execute(SETUP)["twoFactorSetup"]["secret"]
    second = client.execute(SETUP)["twoFactorSetup"]["secret"]
    assert first != second
    assert TwoFactorDevice.objects.filter(user=user).count() == 1
    # The first app's code no longer confirms.
    refused = client.execute(CONFIRM, {"code": code_at(first)})["twoFactorConfirm"]
    assert codes(refused) == [("code", "INVALID_TOKEN")]
    assert client.execute(CONFIRM, {"code": code_at(second)})["twoFactorConfirm"]["errors"] == []

    again = client.execute(SETUP)["twoFactorSetup"]
    assert codes(again) == [(None, "INVALID")]
    assert again["secret"] is None
    device = TwoFactorDevice.objects.get(user=user)
    assert otp.decrypt_secret(device.encrypted_secret) == second
    assert device.confirmed_at is not None


def test_a_wrong_confirmation_writes_nothing(db, clock):
    user = make_user()
    client = client_for(user)
    assert codes(client.execute(CONFIRM, {"code": "123456"})["twoFactorConfirm"]) == [
        (None, "INVALID")  # nothing set up
    ]
    secret = client.execute(SETUP)["twoFactorSetup"]["secret"]
    for wrong in ["000000" if code_at(secret) != "000000" else "111111", "abc", ""]:
        payload = client.execute(CONFIRM, {"code": wrong})["twoFactorConfirm"]
        assert codes(payload) == [("code", "INVALID_TOKEN")]
        assert payload["recoveryCodes"] is None
    device = TwoFactorDevice.objects.get(user=user)
    assert device.confirmed_at is None and device.last_used_step == 0
    assert not RecoveryCode.objects.exists()
    assert client.execute(ME)["me"]["twoFactorEnabled"] is False


def test_anonymous_callers_cannot_set_up(db):
    for document, variables in [(SETUP, {}), (CONFIRM, {"code": "1"}),
                                (DISABLE, {"password": "x", "code": "1"})]:
        assert error_codes(Client().post(document, variables)) == ["UNAUTHENTICATED"]


# --- Signing in -----------------------------------------------------------------------


def test_a_customer_without_two_factor_signs_in_as_before(db):
    user = make_user()
    payload = sign_in(Client(), user.email)
    assert payload["errors"] == []
    assert payload["token"] and payload["refreshToken"]
    assert payload["challenge"] is None


def test_token_auth_asks_for_the_second_factor_and_issues_nothing(db, clock):
    user = make_user()
    turn_on(user)
    payload = sign_in(Client(), user.email)
    assert codes(payload) == [(None, "TWO_FACTOR_REQUIRED")]
    assert payload["challenge"]
    assert payload["token"] is None and payload["refreshToken"] is None
    assert payload["user"] is None
    assert not RefreshToken.objects.exists()
    user.refresh_from_db()
    assert user.last_login is None
    # A wrong password is still only that: no challenge.
    wrong = sign_in(Client(), user.email, "not-the-password")
    assert codes(wrong) == [(None, "INVALID_CREDENTIALS")]
    assert wrong["challenge"] is None


def test_a_totp_code_completes_the_sign_in(db, clock):
    user = make_user(email="ada@example.com")
    secret, _ = turn_on(user)
    client = Client()
    challenge = challenge_for(client, user)
    clock.shift(30)  # the confirmation spent this step's code
    payload = second_step(client, challenge, code_at(secret))
    assert payload["errors"] == []
    assert payload["user"] == {"email": "ada@example.com", "twoFactorEnabled": True}
    assert Client(token=payload["token"]).execute(ME)["me"]["email"] == "ada@example.com"
    assert RefreshToken.objects.get(user=user).token_hash == tokens.hash_refresh_token(
        payload["refreshToken"]
    )
    user.refresh_from_db()
    assert user.last_login is not None


def test_a_code_is_never_accepted_twice(db, clock):
    user = make_user()
    secret, _ = turn_on(user)
    # The code that confirmed cannot sign in.
    refused = second_step(Client(), challenge_for(Client(), user), code_at(secret))
    assert codes(refused) == [("code", "INVALID_TOKEN")]
    clock.shift(30)
    used = code_at(secret)
    assert second_step(Client(), challenge_for(Client(), user), used)["errors"] == []
    # Neither again, nor the step before it (still within the window).
    for code in [used, code_at(secret, -1)]:
        again = second_step(Client(), challenge_for(Client(), user), code)
        assert codes(again) == [("code", "INVALID_TOKEN")]
        assert again["token"] is None
    # The next step's is.
    clock.shift(30)
    assert second_step(Client(), challenge_for(Client(), user), code_at(secret))["errors"] == []


@pytest.mark.parametrize("steps, accepted", [(-2, False), (-1, True), (0, True), (1, True),
                                             (2, False)])
def test_the_clock_window_is_one_step_either_side(db, clock, steps, accepted):
    user = make_user()
    secret = services.two_factor_setup(user=user).secret
    code = code_at(secret, steps)
    if accepted:
        assert len(services.two_factor_confirm(user=user, code=code)) == 10
    else:
        with pytest.raises(ServiceError) as refused:
            services.two_factor_confirm(user=user, code=code)
        assert refused.value.errors[0].code == ErrorCode.INVALID_TOKEN


def test_a_recovery_code_signs_in_once(db, clock):
    user = make_user()
    _, recovery = turn_on(user)
    first, second = recovery[0], recovery[1]
    assert second_step(Client(), challenge_for(Client(), user), first)["errors"] == []
    again = second_step(Client(), challenge_for(Client(), user), first)
    assert codes(again) == [("code", "INVALID_TOKEN")]
    # As typed from paper: capitals, no dash, spaces.
    typed = " " + second.upper().replace("-", " ") + " "
    assert second_step(Client(), challenge_for(Client(), user), typed)["errors"] == []
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 2


def test_a_wrong_code_leaves_the_challenge_for_another_try(db, clock):
    user = make_user()
    secret, recovery = turn_on(user)
    client = Client()
    challenge = challenge_for(client, user)
    wrong_codes = ["000000" if code_at(secret, 1) != "000000" else "111111", "zzzzz-zzzzz", "",
                   "\u0661\u0662\u0663\u0664\u0665\u0666", "1234567", "é" * 10_000]
    with override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=100):
        for wrong in wrong_codes:
            assert codes(second_step(client, challenge, wrong)) == [("code", "INVALID_TOKEN")]
        assert second_step(client, challenge, recovery[0])["errors"] == []


def test_a_used_challenge_is_refused_and_gives_the_code_back(db, clock):
    user = make_user()
    secret, recovery = turn_on(user)
    client = Client()
    challenge = challenge_for(client, user)
    assert second_step(client, challenge, recovery[0])["errors"] == []
    clock.shift(30)
    step_before = TwoFactorDevice.objects.get(user=user).last_used_step
    payload = second_step(client, challenge, code_at(secret))
    assert codes(payload) == [("challenge", "INVALID_TOKEN")]
    assert payload["token"] is None
    # Nothing partial: the code was not spent by the refused attempt.
    assert TwoFactorDevice.objects.get(user=user).last_used_step == step_before
    assert RefreshToken.objects.filter(user=user).count() == 1
    assert second_step(client, challenge_for(client, user), code_at(secret))["errors"] == []


def test_an_expired_challenge_is_refused(db, clock):
    user = make_user()
    secret, _ = turn_on(user)
    challenge = challenge_for(Client(), user)
    clock.shift(299)
    step_before = TwoFactorDevice.objects.get(user=user).last_used_step
    clock.shift(1)
    payload = second_step(Client(), challenge, code_at(secret))
    assert codes(payload) == [("challenge", "INVALID_TOKEN")]
    assert TwoFactorDevice.objects.get(user=user).last_used_step == step_before
    assert not RefreshToken.objects.exists()


def test_an_unknown_challenge_is_refused(db):
    assert codes(second_step(Client(), "made-up", "123456")) == [("challenge", "INVALID_TOKEN")]


def test_a_challenge_dies_with_the_account_or_its_second_factor(db, clock):
    user = make_user()
    _, recovery = turn_on(user)
    challenge = challenge_for(Client(), user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert codes(second_step(Client(), challenge, recovery[0])) == [
        ("challenge", "INVALID_TOKEN")
    ]
    User.objects.filter(pk=user.pk).update(is_active=True)
    challenge = challenge_for(Client(), user)
    services.two_factor_remove(user=user)
    assert codes(second_step(Client(), challenge, recovery[0])) == [
        ("challenge", "INVALID_TOKEN")
    ]


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=3, LOGIN_THROTTLE_IP_LIMIT=100)
def test_wrong_codes_are_throttled_and_the_password_does_not_reset_the_count(db, clock):
    user = make_user()
    secret, recovery = turn_on(user)
    wrong = "000000" if code_at(secret, 1) != "000000" else "111111"
    client = Client()
    for _ in range(3):
        # A new challenge each time: the right password clears the password's
        # count, not the codes'.
        assert codes(second_step(client, challenge_for(client, user), wrong)) == [
            ("code", "INVALID_TOKEN")
        ]
    clock.shift(30)
    locked = second_step(client, challenge_for(client, user), code_at(secret))
    assert codes(locked) == [("code", "THROTTLED")]
    assert locked["token"] is None
    # From another address too: the count is the account's.
    elsewhere = Client(address="203.0.113.5")
    assert codes(second_step(elsewhere, challenge_for(elsewhere, user), recovery[0])) == [
        ("code", "THROTTLED")
    ]
    assert not RecoveryCode.objects.filter(used_at__isnull=False).exists()
    # The window (15 minutes) ends; a success then clears the count.
    clock.shift(15 * 60)
    assert second_step(client, challenge_for(client, user), code_at(secret))["errors"] == []


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=100, LOGIN_THROTTLE_IP_LIMIT=3)
def test_one_address_guessing_passwords_and_codes_has_one_limit(db, clock):
    user = make_user()
    turn_on(user)
    client = Client()
    challenge = challenge_for(client, user)
    assert codes(sign_in(client, "nobody@example.com", "guess-guess")) == [
        (None, "INVALID_CREDENTIALS")
    ]
    for _ in range(2):
        assert codes(second_step(client, challenge, "999999")) != [(None, "THROTTLED")]
    assert codes(second_step(client, challenge, "999999")) == [("code", "THROTTLED")]
    assert codes(sign_in(client, user.email)) == [(None, "THROTTLED")]


def test_the_challenge_keeps_the_way_in(db, clock, monkeypatch):
    """A challenge from another way in (a social provider, say) completes as
    that way in."""
    user = make_user()
    _, recovery = turn_on(user)
    with pytest.raises(ServiceError) as asked:
        services.sign_in_proven(user=user, method="oidc:example")
    assert asked.value.errors[0].code == ErrorCode.TWO_FACTOR_REQUIRED
    seen: list[str] = []
    complete = twofactor.sign_in_complete

    def recording(**kwargs):
        seen.append(kwargs["method"])
        return complete(**kwargs)

    monkeypatch.setattr(twofactor, "sign_in_complete", recording)
    issued = services.token_auth_two_factor(
        challenge=asked.value.payload["challenge"], code=recovery[0], ip="1.2.3.4"
    )
    assert issued.user == user and seen == ["oidc:example"]


@override_settings(SECRET_KEY="a-new-secret-key", SECRET_KEY_FALLBACKS=[
    "test-secret-key-not-for-production"])
def test_rotating_secret_key_with_a_fallback_keeps_codes_working(db, clock, settings):
    with override_settings(SECRET_KEY="test-secret-key-not-for-production",
                           SECRET_KEY_FALLBACKS=[]):
        user = make_user()
        secret, recovery = turn_on(user)
    clock.shift(30)
    assert services.token_auth_two_factor(
        challenge=tokens.make_two_factor_challenge(user_id=user.pk, method="password"),
        code=code_at(secret),
    ).user == user
    assert services.token_auth_two_factor(
        challenge=tokens.make_two_factor_challenge(user_id=user.pk, method="password"),
        code=recovery[0],
    ).user == user


# --- Turning off -----------------------------------------------------------------------


def test_disable_needs_the_password_and_a_current_code(db, clock):
    user = make_user()
    secret, _ = turn_on(user)
    client = client_for(user)
    clock.shift(30)
    code = code_at(secret)
    wrong_password = client.execute(DISABLE, {"password": "nope-nope", "code": code})
    assert codes(wrong_password["twoFactorDisable"]) == [("password", "INVALID_CREDENTIALS")]
    wrong_code = client.execute(DISABLE, {"password": PASSWORD, "code": "12345x"})
    assert codes(wrong_code["twoFactorDisable"]) == [("code", "INVALID_TOKEN")]
    assert TwoFactorDevice.objects.filter(user=user).exists()
    assert RecoveryCode.objects.filter(user=user).count() == 10

    done = client.execute(DISABLE, {"password": PASSWORD, "code": code})["twoFactorDisable"]
    assert done == {"user": {"twoFactorEnabled": False}, "errors": []}
    assert not TwoFactorDevice.objects.exists() and not RecoveryCode.objects.exists()
    assert sign_in(Client(), user.email)["token"]
    # Off is off: disabling again is refused.
    again = client.execute(DISABLE, {"password": PASSWORD, "code": code})["twoFactorDisable"]
    assert codes(again) == [(None, "INVALID")]


def test_disable_with_a_recovery_code(db, clock):
    user = make_user()
    _, recovery = turn_on(user)
    services.two_factor_disable(user=user, password=PASSWORD, code=recovery[3])
    assert not TwoFactorDevice.objects.exists()


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=2, LOGIN_THROTTLE_IP_LIMIT=100)
def test_guessing_the_password_to_disable_is_throttled(db, clock):
    user = make_user()
    _, recovery = turn_on(user)
    for _ in range(2):
        with pytest.raises(ServiceError):
            services.two_factor_disable(user=user, password="guess-guess", code=recovery[0])
    with pytest.raises(ServiceError) as locked:
        services.two_factor_disable(user=user, password=PASSWORD, code=recovery[0])
    assert locked.value.errors[0].code == ErrorCode.THROTTLED
    assert TwoFactorDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(used_at__isnull=False).exists()


def test_turning_on_again_makes_new_recovery_codes(db, clock):
    user = make_user()
    _, old = turn_on(user)
    services.two_factor_disable(user=user, password=PASSWORD, code=old[0])
    clock.shift(30)
    _, new = turn_on(user)
    assert not set(old) & set(new)
    with pytest.raises(ServiceError):
        services.token_auth_two_factor(
            challenge=tokens.make_two_factor_challenge(user_id=user.pk, method="password"),
            code=old[1],
        )


# --- At once -----------------------------------------------------------------------------


@pytest.mark.postgresql  # row locks and concurrent conditional updates
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_one_code_at_once_signs_in_once(transactional_db, clock):
    user = make_user()
    secret, _ = turn_on(user)
    clock.shift(30)
    code = code_at(secret)
    challenges = [tokens.make_two_factor_challenge(user_id=user.pk, method="password")
                  for _ in range(4)]
    results = in_threads(4, lambda i: services.token_auth_two_factor(
        challenge=challenges[i], code=code))
    assert sum(isinstance(r, services.IssuedTokens) for r in results) == 1, results
    assert RefreshToken.objects.filter(user=user).count() == 1


@pytest.mark.postgresql
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_one_challenge_at_once_signs_in_once(transactional_db, clock):
    user = make_user()
    _, recovery = turn_on(user)
    challenge = tokens.make_two_factor_challenge(user_id=user.pk, method="password")
    results = in_threads(4, lambda i: services.token_auth_two_factor(
        challenge=challenge, code=recovery[i]))
    assert sum(isinstance(r, services.IssuedTokens) for r in results) == 1, results
    # The codes of the refused attempts were given back.
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1


# --- The owner is told ---------------------------------------------------------------------


def test_the_owner_is_emailed_when_it_is_turned_on_and_off(
    db, clock, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user(email="ada@example.com")
    secret = services.two_factor_setup(user=user).secret
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ServiceError):
            services.two_factor_confirm(user=user, code="zzzzzz")
    assert mailoutbox == []  # a refused confirmation published nothing
    with django_capture_on_commit_callbacks(execute=True):
        _, recovery = turn_on(user)
    assert [m.subject for m in mailoutbox] == ["Two-factor sign-in was turned on"]
    assert mailoutbox[0].to == ["ada@example.com"]
    assert recovery[0] not in mailoutbox[0].body  # the codes are never emailed
    with django_capture_on_commit_callbacks(execute=True):
        services.two_factor_disable(user=user, password=PASSWORD, code=recovery[0])
    assert mailoutbox[1].subject == "Two-factor sign-in was turned off"
    assert "asks only for your password" in mailoutbox[1].body
    assert secret not in mailoutbox[0].body + mailoutbox[1].body


def test_staff_remove_a_device_in_the_admin(
    db, clock, admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user()
    _, recovery = turn_on(user)
    device = TwoFactorDevice.objects.get(user=user)
    page = admin_client.get(f"/admin/accounts/twofactordevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.encrypted_secret.encode() not in page.content
    with django_capture_on_commit_callbacks(execute=True):
        deleted = admin_client.post(
            f"/admin/accounts/twofactordevice/{device.pk}/delete/", {"post": "yes"}
        )
    assert deleted.status_code == 302
    assert not TwoFactorDevice.objects.exists() and not RecoveryCode.objects.exists()
    assert [m.subject for m in mailoutbox] == ["Two-factor sign-in was turned off"]
    assert sign_in(Client(), user.email)["token"]


def second_step_in_process(index: int, challenge: str, recovery: list[str]) -> str:
    """What a racing web process runs: the second step with its own code."""
    services.token_auth_two_factor(challenge=challenge, code=recovery[index])
    return "signed in"


@pytest.mark.postgresql
@pytest.mark.redis  # the challenge is read and spent by other processes
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_one_challenge_in_several_processes_signs_in_once(transactional_db):
    from tests.concurrency import in_processes

    user = make_user()
    _, recovery = turn_on(user)
    challenge = challenge_for(Client(), user)
    results = in_processes(3, "tests.test_two_factor:second_step_in_process", challenge, recovery)
    assert sorted(str(getattr(r, "code", r)) for r in results) == [
        "INVALID_TOKEN", "INVALID_TOKEN", "signed in"
    ], results
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    assert RefreshToken.objects.filter(user=user).count() == 1


def test_the_sign_in_history_keeps_each_step(db, clock):
    """The password step answered TWO_FACTOR_REQUIRED, a wrong code
    INVALID_TOKEN, the right one OK: three rows, the refusals kept although
    their mutations refused."""
    from apps.accounts.models import SignInAttempt

    user = make_user()
    secret, _ = turn_on(user)
    client = Client()
    challenge = challenge_for(client, user)
    wrong = "000000" if code_at(secret, 1) != "000000" else "111111"
    assert codes(second_step(client, challenge, wrong)) == [("code", "INVALID_TOKEN")]
    clock.shift(30)
    assert second_step(client, challenge, code_at(secret))["errors"] == []
    rows = SignInAttempt.objects.filter(user=user).order_by("id")
    assert [(row.reason, row.succeeded, row.method) for row in rows] == [
        ("TWO_FACTOR_REQUIRED", False, "password"), ("INVALID_TOKEN", False, "password"),
        ("OK", True, "password")]
