"""commerce.middleware.GroupedMiddleware: Django's sync middleware in one
thread hop a direction, with the answers the plain stack gives."""

import pytest
from django.conf import settings
from django.core import checks

from tests.conftest import Client

pytestmark = pytest.mark.django_db


def test_the_admin_s_middleware_are_in_the_group():
    # The admin's own checks (admin.E408-E410) look in MIDDLEWARE only.
    for path in ("django.contrib.sessions.middleware.SessionMiddleware",
                 "django.contrib.auth.middleware.AuthenticationMiddleware",
                 "django.contrib.messages.middleware.MessageMiddleware"):
        assert path in settings.GROUPED_MIDDLEWARE
    assert not [m for m in checks.run_checks() if m.level >= checks.ERROR and not m.is_silenced()]


def test_admin_login_page_through_asgi_gets_every_member_s_work():
    response = Client().request("GET", "/admin/login/")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"  # clickjacking, last member
    assert "csrftoken" in response.cookies  # CSRF's process_response
    assert 'name="csrfmiddlewaretoken"' in response.text


def test_admin_login_post_without_csrf_token_is_refused_by_process_view():
    response = Client().request("POST", "/admin/login/",
                                data={"username": "a@example.com", "password": "x"})
    assert response.status_code == 403
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_early_answer_skips_the_members_after_it():
    # CommonMiddleware (APPEND_SLASH) answers before XFrameOptions runs, as in the plain stack.
    response = Client().request("GET", "/admin")
    assert response.status_code == 301
    assert response.headers["Location"] == "/admin/"
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware, outside


def test_a_member_that_raises_answers_400_and_the_outer_ones_still_run():
    # CommonMiddleware's get_host() raises DisallowedHost for an unknown host.
    response = Client().request("GET", "/admin/login/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_graphql_answers_carry_the_group_s_headers(client):
    response = client.request("POST", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["X-Frame-Options"] == "DENY"


# --- Django's deployment checks, with the stack as it is (apps.core.security_checks) ----------


def deployment_warnings() -> set[str]:
    return {m.id for m in checks.run_checks(include_deployment_checks=True)
            if not m.is_silenced() and m.id and m.id.split(".")[0] in {"security", "commerce"}}


def test_the_security_middleware_s_checks_run_although_it_is_a_subclass(settings):
    settings.SECURE_HSTS_SECONDS = 0
    settings.SECURE_SSL_REDIRECT = False
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"
    found = deployment_warnings()
    assert {"security.W004", "security.W008", "security.W019"} <= found
    assert not {"commerce.W001", "commerce.W002", "commerce.W003"} & found
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = True
    settings.X_FRAME_OPTIONS = "DENY"
    assert not {"security.W004", "security.W008", "security.W019"} & deployment_warnings()


def test_a_security_middleware_really_missing_is_said(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "Security" not in m]
    settings.GROUPED_MIDDLEWARE = [m for m in settings.GROUPED_MIDDLEWARE
                                   if "clickjacking" not in m and "csrf" not in m]
    settings.SECURE_HSTS_SECONDS = 0
    found = deployment_warnings()
    assert {"commerce.W001", "commerce.W002", "commerce.W003"} <= found
    assert "security.W004" not in found  # HSTS is the middleware's: nothing sets it


def test_the_security_middleware_answers_without_a_thread_hop(client, monkeypatch):
    """commerce.middleware.SecurityMiddleware: its hooks run in the event
    loop (the headers set, as Django's own sets them)."""
    from asgiref import sync

    ran: list[str] = []
    original = sync.SyncToAsync.__call__

    def counted(self, *args, **kwargs):
        ran.append(getattr(self.func, "__qualname__", ""))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)
    response = client.request("POST", json={"query": "{ __typename }"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert ran and not [name for name in ran if "SecurityMiddleware" in name]
