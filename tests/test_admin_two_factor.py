"""The Django admin's login (`/admin/login/`) with two-factor sign-in: the
code of an account that has it on is asked for, checked and spent as by
tokenAuthTwoFactor (never twice, a recovery code once), wrong passwords and
codes throttled, every step in the sign-in history as the way in "admin";
ADMIN_TWO_FACTOR_REQUIRED."""

import pytest
from django.test import Client as Browser
from django.test import override_settings

from apps.accounts.models import RecoveryCode, SignInAttempt, TwoFactorDevice, User
from tests.conftest import make_user
from tests.test_two_factor import PASSWORD, clock, code_at, turn_on  # noqa: F401 - a fixture

# The clock stands still at a moment of test_two_factor's choosing; a test
# moves it with `time_machine` (the same traveller).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

ASK_FOR_CODE = "Enter the code from your authenticator app, or a recovery code."
CODE_REFUSED = "The code is not right, or was used already."
THROTTLED = "Too many failed sign-in attempts. Try again later."
NOT_STAFF_OR_WRONG = ("Please enter the correct email and password for a staff "
                      "account. Note that both fields may be case-sensitive.")


def admin_login(email: str, password: str = PASSWORD, code: str | None = None,
                *, browser: Browser | None = None) -> tuple[Browser, object]:
    """Post the admin's login form; (the browser, the response)."""
    browser = browser or Browser(HTTP_USER_AGENT="AdminBrowser/1.0")
    data = {"username": email, "password": password, "next": "/admin/"}
    if code is not None:
        data["code"] = code
    return browser, browser.post("/admin/login/", data)


def signed_in(browser: Browser) -> bool:
    return "_auth_user_id" in browser.session and browser.get("/admin/").status_code == 200


def refusal(response) -> dict[str, list[str]]:
    """The form's errors ("__all__": not a field's), the login page shown again."""
    assert response.status_code == 200
    return dict(response.context["form"].errors)


def history(user: User) -> list[tuple[str, bool, str]]:
    rows = SignInAttempt.objects.filter(user=user).order_by("id")
    return [(row.reason, row.succeeded, row.method) for row in rows]


def wrong_code(secret: str) -> str:
    return "000000" if code_at(secret, 1) != "000000" else "111111"


@pytest.fixture
def staff_member() -> User:
    return make_user(email="sam@example.com", is_staff=True)


def test_the_login_page_has_a_code_field():
    page = Browser().get("/admin/login/")
    assert page.status_code == 200
    assert b'name="code"' in page.content and b'autocomplete="one-time-code"' in page.content


def test_staff_without_two_factor_sign_in_with_the_password(staff_member):
    browser, response = admin_login(staff_member.email)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in(browser)
    staff_member.refresh_from_db()
    assert staff_member.last_login is not None
    assert history(staff_member) == [("OK", True, "admin")]
    row = SignInAttempt.objects.get(user=staff_member)
    assert (row.ip, row.user_agent) == ("127.0.0.1", "AdminBrowser/1.0")


def test_a_wrong_password_says_nothing_of_two_factor(staff_member, time_machine):
    other = make_user(is_staff=True)
    secret, _ = turn_on(staff_member)
    time_machine.shift(30)
    step = TwoFactorDevice.objects.get(user=staff_member).last_used_step
    # The same words with two-factor on or off, with a code or without; the
    # code is not looked at.
    for user, code in [(staff_member, None), (staff_member, code_at(secret)), (other, None)]:
        browser, response = admin_login(user.email, "not-the-password", code)
        assert refusal(response) == {"__all__": [NOT_STAFF_OR_WRONG]}
        assert not signed_in(browser)
    assert TwoFactorDevice.objects.get(user=staff_member).last_used_step == step
    assert history(staff_member) == [("INVALID_CREDENTIALS", False, "admin")] * 2


def test_a_customer_is_refused_as_a_wrong_password_is():
    customer = make_user()
    browser, response = admin_login(customer.email)
    assert refusal(response) == {"__all__": [NOT_STAFF_OR_WRONG]}
    assert not signed_in(browser)
    # Its owner sees that someone with their password tried the admin.
    assert history(customer) == [("NOT_STAFF", False, "admin")]


def test_two_factor_on_asks_for_the_code_and_spends_it_once(staff_member, time_machine):
    secret, _ = turn_on(staff_member)
    for missing in [None, "", "  "]:
        browser, response = admin_login(staff_member.email, code=missing)
        assert refusal(response) == {"code": [ASK_FOR_CODE]}
        assert not signed_in(browser)
    browser, response = admin_login(staff_member.email, code=wrong_code(secret))
    assert refusal(response) == {"code": [CODE_REFUSED]}
    assert not signed_in(browser)
    # The code that confirmed the device was spent then.
    assert refusal(admin_login(staff_member.email, code=code_at(secret))[1]) == {
        "code": [CODE_REFUSED]}

    time_machine.shift(30)
    code = code_at(secret)
    browser, response = admin_login(staff_member.email, code=f" {code[:3]} {code[3:]} ")
    assert response.status_code == 302
    assert signed_in(browser)
    # The same code again, or the step's before it: refused.
    for again in [code, code_at(secret, -1)]:
        other, response = admin_login(staff_member.email, code=again)
        assert refusal(response) == {"code": [CODE_REFUSED]}
        assert not signed_in(other)
    assert history(staff_member) == [
        *[("TWO_FACTOR_REQUIRED", False, "admin")] * 3, *[("INVALID_TOKEN", False, "admin")] * 2,
        ("OK", True, "admin"), *[("INVALID_TOKEN", False, "admin")] * 2]


def test_a_recovery_code_signs_in_once(staff_member, time_machine):
    _, recovery = turn_on(staff_member)
    browser, response = admin_login(staff_member.email, code=recovery[0].upper())
    assert response.status_code == 302 and signed_in(browser)
    browser, response = admin_login(staff_member.email, code=recovery[0])
    assert refusal(response) == {"code": [CODE_REFUSED]}
    assert not signed_in(browser)
    assert RecoveryCode.objects.filter(user=staff_member, used_at__isnull=False).count() == 1


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=3, LOGIN_THROTTLE_IP_LIMIT=100)
def test_wrong_codes_are_throttled(staff_member, time_machine):
    secret, recovery = turn_on(staff_member)
    for _ in range(3):
        assert refusal(admin_login(staff_member.email, code=wrong_code(secret))[1]) == {
            "code": [CODE_REFUSED]}
    time_machine.shift(30)
    browser, response = admin_login(staff_member.email, code=code_at(secret))
    assert refusal(response) == {"code": [THROTTLED]}
    assert not signed_in(browser)
    assert not RecoveryCode.objects.filter(used_at__isnull=False).exists()
    # The window (15 minutes) ends.
    time_machine.shift(15 * 60)
    browser, response = admin_login(staff_member.email, code=recovery[0])
    assert response.status_code == 302 and signed_in(browser)


@override_settings(LOGIN_THROTTLE_EMAIL_LIMIT=3, LOGIN_THROTTLE_IP_LIMIT=100)
def test_wrong_passwords_are_throttled(staff_member, time_machine):
    for _ in range(3):
        assert refusal(admin_login(staff_member.email, "guess-guess")[1]) == {
            "__all__": [NOT_STAFF_OR_WRONG]}
    browser, response = admin_login(staff_member.email)
    assert refusal(response) == {"__all__": [THROTTLED]}
    assert not signed_in(browser)
    assert history(staff_member)[-1] == ("THROTTLED", False, "admin")
    time_machine.shift(15 * 60)
    assert admin_login(staff_member.email)[1].status_code == 302


@override_settings(ADMIN_TWO_FACTOR_REQUIRED=True)
def test_admin_two_factor_required_refuses_staff_without_it(staff_member, time_machine):
    browser, response = admin_login(staff_member.email)
    (message,) = refusal(response)["__all__"]
    assert "turn it on through the API" in message
    assert not signed_in(browser)
    # A wrong password is still only that.
    assert refusal(admin_login(staff_member.email, "guess-guess")[1]) == {
        "__all__": [NOT_STAFF_OR_WRONG]}
    assert history(staff_member) == [("TWO_FACTOR_NOT_ON", False, "admin"),
                                     ("INVALID_CREDENTIALS", False, "admin")]
    _, recovery = turn_on(staff_member)
    browser, response = admin_login(staff_member.email, code=recovery[0])
    assert response.status_code == 302 and signed_in(browser)
