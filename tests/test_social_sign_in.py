"""Social sign-in through the endpoint, against the local fake provider
(tests/fake_oidc.py) driven by the real Authlib client: an OpenID Connect
provider ("fake") and GitHub. Every refusal is a coded payload error and
leaves no account, no identity and no session behind."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from joserfc.jwk import RSAKey

from apps.accounts.models import ExternalIdentity, RefreshToken, User
from apps.accounts import social
from apps.core.errors import ErrorCode, ServiceError
from tests.concurrency import in_processes
from tests.concurrency import keeps_default_warehouse  # noqa: F401 - a fixture
from tests.conftest import make_user
from tests.fake_oidc import CALLBACK, CLIENT_ID, use_fake_oidc
from tests.racing import Raised

AUTH_URL = """
mutation Start($provider: String!, $redirectUri: String!) {
  externalAuthUrl(provider: $provider, redirectUri: $redirectUri) {
    authorizationUrl state errors { field message code }
  }
}"""
TOKEN_AUTH = """
mutation Finish($provider: String!, $code: String!, $state: String!, $redirectUri: String!) {
  externalTokenAuth(provider: $provider, code: $code, state: $state, redirectUri: $redirectUri) {
    token refreshToken challenge user { email firstName lastName }
    errors { field message code }
  }
}"""
ME = "{ me { email } }"


@pytest.fixture
def provider(settings):
    return use_fake_oidc(settings)


def start(client, provider_name: str = "fake", redirect_uri: str = CALLBACK) -> dict:
    return client.execute(AUTH_URL, {"provider": provider_name,
                                     "redirectUri": redirect_uri})["externalAuthUrl"]


def finish(client, code: str, state: str, provider_name: str = "fake",
           redirect_uri: str = CALLBACK) -> dict:
    return client.execute(TOKEN_AUTH, {"provider": provider_name, "code": code, "state": state,
                                       "redirectUri": redirect_uri})["externalTokenAuth"]


def logged_in(client, provider, provider_name: str = "fake", **profile) -> tuple[str, str]:
    """A sign-in started and the customer logged in at the provider: the code
    and state the provider sends back (Ada's, unless told otherwise)."""
    started = start(client, provider_name)
    assert started["errors"] == []
    profile = profile or {"sub": "g-1", "email": "ada@example.com"}
    return provider.log_in(started["authorizationUrl"], **profile), started["state"]


def sign_in(client, provider, provider_name: str = "fake", **profile) -> dict:
    return finish(client, *logged_in(client, provider, provider_name, **profile), provider_name)


def problems(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def counts() -> tuple[int, int, int]:
    return User.objects.count(), ExternalIdentity.objects.count(), RefreshToken.objects.count()


def refused(payload: dict, before: tuple[int, int, int]) -> list[tuple[str | None, str]]:
    """The payload's problems, once it is checked to have written nothing."""
    assert payload["token"] is None and payload["refreshToken"] is None
    assert payload["user"] is None
    assert counts() == before
    return problems(payload)


# --- Starting: the authorisation URL -------------------------------------------------


def test_the_authorisation_url_carries_state_nonce_and_pkce(db, client, provider):
    started = start(client)
    assert started["errors"] == []
    url = urlsplit(started["authorizationUrl"])
    asked = dict(parse_qsl(url.query))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.url}/authorize"
    assert asked["client_id"] == CLIENT_ID and asked["redirect_uri"] == CALLBACK
    assert asked["response_type"] == "code" and asked["scope"] == "openid email profile"
    assert asked["state"] == started["state"] and len(started["state"]) >= 32
    assert len(asked["nonce"]) >= 32
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    # Two sign-ins share nothing.
    again = dict(parse_qsl(urlsplit(start(client)["authorizationUrl"]).query))
    assert {again[k] for k in ("state", "nonce", "code_challenge")}.isdisjoint(
        {asked[k] for k in ("state", "nonce", "code_challenge")})


def test_the_discovery_document_and_keys_are_kept(db, client, provider):
    for _ in range(2):
        assert sign_in(client, provider, sub="s1", email="ada@example.com")["errors"] == []
    fetched = [path for _, path in provider.requests]
    assert fetched.count("/.well-known/openid-configuration") == 1
    assert fetched.count("/jwks") == 1


@pytest.mark.parametrize(("provider_name", "redirect_uri", "expected"), [
    ("nope", CALLBACK, [("provider", "NOT_FOUND")]),
    ("", CALLBACK, [("provider", "NOT_FOUND")]),
    ("fake", "https://evil.example/callback", [("redirectUri", "INVALID")]),
    ("fake", f"{CALLBACK}?next=/", [("redirectUri", "INVALID")]),
])
def test_an_unknown_provider_or_redirect_uri_is_refused_before_the_provider_is_asked(
        db, client, provider, provider_name, redirect_uri, expected):
    started = start(client, provider_name, redirect_uri)
    assert problems(started) == expected and started["authorizationUrl"] is None
    payload = finish(client, "code", "state", provider_name, redirect_uri)
    assert problems(payload) == expected
    assert provider.requests == []


def test_no_provider_configured_reaches_no_network(db, client, settings):
    settings.SOCIAL_AUTH_PROVIDERS = {}
    assert problems(start(client, "google")) == [("provider", "NOT_FOUND")]


@pytest.mark.parametrize("fault", ["down", "500", "not JSON", "no endpoints", "bad keys"])
def test_a_provider_out_of_reach_or_talking_nonsense_is_provider_unavailable(
        db, client, provider, caplog, fault):
    provider.down = fault == "down"
    provider.broken = {"500": (500, {"error": "oops"}), "not JSON": (200, "<html>"),
                       "no endpoints": (200, {"issuer": provider.url})}.get(fault)
    if fault == "bad keys":
        provider.jwks = {"keys": [{"kty": "RSA", "kid": "fake-key-1"}]}
        code, state = logged_in(client, provider)
        payload = finish(client, code, state)
    else:
        payload = start(client)
        assert payload["state"] is None
    assert problems(payload) == [(None, "PROVIDER_UNAVAILABLE")]
    assert "Sign-in provider fake failed" in caplog.text
    assert counts() == (0, 0, 0)


def test_the_providers_come_from_the_environment(monkeypatch):
    from commerce.settings import _social_auth_providers

    for name in ("GOOGLE_CLIENT_ID", "GITHUB_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    assert _social_auth_providers() == {}
    monkeypatch.setenv("OIDC_MY_IDP_DISCOVERY_URL", "https://idp.example/.well-known/x")
    monkeypatch.setenv("OIDC_MY_IDP_CLIENT_ID", "id-1")
    monkeypatch.setenv("OIDC_MY_IDP_CLIENT_SECRET", "secret-1")
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "g.apps.googleusercontent.com")
    monkeypatch.setenv("GITHUB_CLIENT_ID", "gh-1")
    monkeypatch.setenv("GITHUB_CLIENT_SECRET", "gh-secret")
    providers = _social_auth_providers()
    assert providers["my_idp"] == {
        "kind": "oidc", "discovery_url": "https://idp.example/.well-known/x",
        "client_id": "id-1", "client_secret": "secret-1", "scope": "openid email profile"}
    assert providers["google"]["discovery_url"] == (
        "https://accounts.google.com/.well-known/openid-configuration")
    assert providers["github"]["kind"] == "github"
    assert providers["github"]["token_url"] == "https://github.com/login/oauth/access_token"
    assert providers["github"]["api_url"] == "https://api.github.com"


# --- OpenID Connect -------------------------------------------------------------------


def test_a_first_sign_in_makes_a_verified_account_and_the_next_finds_it(db, client, provider):
    payload = sign_in(client, provider, sub="g-1", email="Ada@Example.com",
                      given_name="Ada", family_name="Lovelace")
    assert payload["errors"] == [] and payload["challenge"] is None
    assert payload["user"] == {"email": "ada@example.com", "firstName": "Ada",
                               "lastName": "Lovelace"}
    user = User.objects.get()
    assert user.is_active and user.is_email_verified and not user.has_usable_password()
    identity = ExternalIdentity.objects.get()
    assert (identity.user, identity.provider, identity.subject, identity.email) == (
        user, "fake", "g-1", "ada@example.com")
    me = type(client)(token=payload["token"]).execute(ME)
    assert me["me"] == {"email": "ada@example.com"}
    assert RefreshToken.objects.filter(user=user).count() == 1

    # The provider's address changed: the subject still finds the account.
    again = sign_in(client, provider, sub="g-1", email="ada.new@example.com")
    assert again["errors"] == [] and again["user"]["email"] == "ada@example.com"
    assert (User.objects.count(), ExternalIdentity.objects.count()) == (1, 1)
    assert RefreshToken.objects.filter(user=user).count() == 2


def test_a_verified_email_links_the_existing_account(db, client, provider):
    user = make_user(email="ada@example.com", is_email_verified=True)
    payload = sign_in(client, provider, sub="g-1", email="ADA@example.com")
    assert payload["errors"] == [] and payload["user"]["email"] == "ada@example.com"
    assert User.objects.count() == 1
    assert ExternalIdentity.objects.get().user == user
    user.refresh_from_db()
    assert user.check_password("correct-horse-battery")  # a confirmed account keeps it


def test_linking_an_unconfirmed_account_ends_its_password_and_sessions(db, client, provider):
    """Whoever set the password never proved the address; the provider's
    customer did."""
    squatter = make_user(email="ada@example.com")
    RefreshToken.objects.create(user=squatter, token_hash="x" * 64,
                                expires_at=squatter.date_joined + timedelta(days=30))
    payload = sign_in(client, provider)
    assert payload["errors"] == []
    squatter.refresh_from_db()
    assert squatter.is_email_verified and not squatter.has_usable_password()
    assert RefreshToken.objects.get(token_hash="x" * 64).revoked_at is not None


def test_an_unverified_email_neither_links_nor_makes_an_account(db, client, provider):
    make_user(email="ada@example.com", is_email_verified=True)
    before = counts()
    payload = sign_in(client, provider, sub="g-1", email="ada@example.com",
                      email_verified=False)
    assert refused(payload, before) == [(None, "EMAIL_NOT_VERIFIED")]
    payload = sign_in(client, provider, sub="g-2", email="new@example.com",
                      email_verified=False)
    assert refused(payload, before) == [(None, "EMAIL_NOT_VERIFIED")]


def test_the_email_may_come_from_userinfo(db, client, provider):
    provider.claims = {"email": None, "email_verified": None}
    payload = sign_in(client, provider)
    assert payload["errors"] == [] and payload["user"]["email"] == "ada@example.com"
    assert ("GET", "/userinfo") in provider.requests


def test_a_deactivated_account_is_refused(db, client, provider):
    user = make_user(email="ada@example.com", is_email_verified=True, is_active=False)
    before = counts()
    payload = sign_in(client, provider)
    assert refused(payload, before) == [(None, "INVALID_CREDENTIALS")]
    # Linked while active, deactivated since: refused by its subject too.
    user.is_active = True
    user.save()
    assert sign_in(client, provider)["errors"] == []
    User.objects.filter(pk=user.pk).update(is_active=False)
    before = counts()
    payload = sign_in(client, provider)
    assert refused(payload, before) == [(None, "INVALID_CREDENTIALS")]
    from apps.accounts.models import SignInAttempt

    assert [(a.reason, a.method) for a in SignInAttempt.objects.filter(user=user)] == [
        ("INACTIVE", "oidc:fake"), ("OK", "oidc:fake"), ("INACTIVE", "oidc:fake")]


def test_social_sign_in_never_bypasses_two_factor_sign_in(db, client, provider):
    """With two-factor sign-in on, the provider's word is the first factor:
    the payload has TWO_FACTOR_REQUIRED and a challenge, no tokens; the
    challenge and a code finish it, as after a password."""
    import pyotp

    from apps.accounts import services
    from apps.accounts.models import SignInAttempt

    user = make_user(email="ada@example.com", is_email_verified=True)
    secret = services.two_factor_setup(user=user).secret
    services.two_factor_confirm(user=user, code=pyotp.TOTP(secret).now())
    payload = sign_in(client, provider)
    assert problems(payload) == [(None, "TWO_FACTOR_REQUIRED")]
    assert payload["token"] is None and payload["challenge"]
    assert RefreshToken.objects.count() == 0
    assert SignInAttempt.objects.get(user=user).reason == "TWO_FACTOR_REQUIRED"
    services.refresh_tokens_revoke_all(user=user)
    with pytest.raises(ServiceError) as refused_code:
        services.token_auth_two_factor(challenge=payload["challenge"], code="000000"
                                       if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert refused_code.value.errors[0].code == ErrorCode.INVALID_TOKEN


# --- Refusals: state, redirect URI, ID token ----------------------------------------


def test_an_unknown_state_is_refused(db, client, provider):
    code, state = logged_in(client, provider)
    before = counts()
    for wrong in ("not-a-state", "", state + "x"):
        assert refused(finish(client, code, wrong), before) == [("state", "INVALID_TOKEN")]
    assert ("POST", "/token") not in provider.requests


def test_a_state_is_used_once(db, client, provider):
    code, state = logged_in(client, provider)
    assert finish(client, code, state)["errors"] == []
    before = counts()
    assert refused(finish(client, code, state), before) == [("state", "INVALID_TOKEN")]


def test_a_state_expires(db, client, provider, settings, time_machine):
    code, state = logged_in(client, provider)
    time_machine.move_to(timedelta(seconds=settings.SOCIAL_AUTH_STATE_TIMEOUT + 1))
    before = counts()
    assert refused(finish(client, code, state), before) == [("state", "INVALID_TOKEN")]


def test_the_state_binds_the_provider_and_the_redirect_uri(db, client, provider):
    code, state = logged_in(client, provider)
    before = counts()
    payload = finish(client, code, state, redirect_uri=f"{CALLBACK}/other")
    assert refused(payload, before) == [("state", "INVALID_TOKEN")]
    _, state = logged_in(client, provider)
    payload = finish(client, code, state, provider_name="github")
    assert refused(payload, before) == [("state", "INVALID_TOKEN")]


def test_a_code_the_provider_refuses_is_invalid_token(db, client, provider):
    started = start(client)
    before = counts()
    assert refused(finish(client, "", started["state"]), before) == [("code", "REQUIRED")]
    payload = finish(client, "made-up", started["state"])  # the state was not spent
    assert refused(payload, before) == [("code", "INVALID_TOKEN")]


@pytest.mark.parametrize("tamper", ["nonce", "signature", "unknown key", "audience", "issuer"])
def test_an_id_token_that_does_not_verify_is_refused(db, client, provider, tamper):
    other = RSAKey.generate_key(2048, parameters={
        "kid": "fake-key-1" if tamper == "signature" else "other-key"})
    if tamper in ("signature", "unknown key"):
        provider.signing_key = other
    provider.claims = {"nonce": {"nonce": "another"}, "audience": {"aud": "another-client"},
                       "issuer": {"iss": "https://issuer.example"}}.get(tamper, {})
    before = counts()
    payload = sign_in(client, provider)
    assert refused(payload, before) == [("code", "INVALID_TOKEN")]
    if tamper == "unknown key":  # fetched again once: the provider may have rotated
        assert provider.requests.count(("GET", "/jwks")) == 2


def test_an_expired_id_token_is_refused(db, client, provider, settings, time_machine):
    settings.SOCIAL_AUTH_STATE_TIMEOUT = 3600
    provider.id_token_lifetime = 60
    code, state = logged_in(client, provider)

    real_token = provider.token

    def issued_then_late(*args, **kwargs):
        answer = real_token(*args, **kwargs)
        time_machine.move_to(timedelta(minutes=5))  # the token arrives past its expiry
        return answer

    provider.token = issued_then_late
    before = counts()
    assert refused(finish(client, code, state), before) == [
        ("code", "INVALID_TOKEN")]


def test_the_provider_out_of_reach_at_the_code_is_provider_unavailable(db, client, provider):
    code, state = logged_in(client, provider)
    provider.down = True
    before = counts()
    assert refused(finish(client, code, state), before) == [
        (None, "PROVIDER_UNAVAILABLE")]


# --- GitHub ---------------------------------------------------------------------------


def test_github_signs_in_with_the_verified_primary_email(db, client, provider):
    started = start(client, "github")
    asked = dict(parse_qsl(urlsplit(started["authorizationUrl"]).query))
    assert asked["scope"] == "read:user user:email" and "nonce" not in asked
    assert asked["code_challenge_method"] == "S256"
    code = provider.log_in(started["authorizationUrl"], sub=583231, email="Octo@Example.com",
                           given_name="Mona", family_name="Lisa Octocat")
    payload = finish(client, code, started["state"], "github")
    assert payload["errors"] == []
    assert payload["user"] == {"email": "octo@example.com", "firstName": "Mona",
                               "lastName": "Lisa Octocat"}
    identity = ExternalIdentity.objects.get()
    assert (identity.provider, identity.subject) == ("github", "583231")
    again = sign_in(client, provider, "github", sub=583231, email="other@example.com")
    assert again["user"]["email"] == "octo@example.com" and User.objects.count() == 1


def test_github_without_a_verified_primary_email_is_refused(db, client, provider):
    make_user(email="octo@example.com", is_email_verified=True)
    before = counts()
    payload = sign_in(client, provider, "github", sub=1, email="octo@example.com",
                      emails=[{"email": "octo@example.com", "primary": True, "verified": False},
                              {"email": "x@example.com", "primary": False, "verified": True}])
    assert refused(payload, before) == [(None, "EMAIL_NOT_VERIFIED")]
    payload = sign_in(client, provider, "github", sub=1, email="octo@example.com", emails=[])
    assert refused(payload, before) == [(None, "EMAIL_NOT_VERIFIED")]


# --- Through the services ---------------------------------------------------------------


def test_two_finishes_of_one_state_sign_in_once(db, provider):
    started = social.external_auth_url(provider="fake", redirect_uri=CALLBACK)
    code = provider.log_in(started.authorization_url, sub="g-1", email="ada@example.com")
    issued = social.external_token_auth(provider="fake", code=code, state=started.state,
                                        redirect_uri=CALLBACK, ip="10.0.0.1")
    assert issued.user.email == "ada@example.com"
    with pytest.raises(ServiceError) as refusal:
        social.external_token_auth(provider="fake", code=code, state=started.state,
                                   redirect_uri=CALLBACK)
    assert [e.code for e in refusal.value.errors] == [ErrorCode.INVALID_TOKEN]


def finish_there(index: int, providers: dict, redirect_uris: list, code: str,
                 state: str) -> str:
    """What tests.concurrency.in_processes runs in another process: a web
    process finishing the sign-in, with the test's provider settings."""
    from django.conf import settings

    settings.SOCIAL_AUTH_PROVIDERS, settings.SOCIAL_AUTH_REDIRECT_URIS = providers, redirect_uris
    return social.external_token_auth(provider="fake", code=code, state=state,
                                      redirect_uri=CALLBACK).user.email


@pytest.mark.postgresql
@pytest.mark.redis
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_one_state_finished_in_two_processes_at_once_signs_in_once(transactional_db, provider,
                                                                   settings):
    started = social.external_auth_url(provider="fake", redirect_uri=CALLBACK)
    code = provider.log_in(started.authorization_url, sub="g-1", email="ada@example.com")
    outcomes = in_processes(2, "tests.test_social_sign_in:finish_there",
                            settings.SOCIAL_AUTH_PROVIDERS, settings.SOCIAL_AUTH_REDIRECT_URIS,
                            code, started.state)
    assert outcomes.count("ada@example.com") == 1, outcomes
    [refusal] = [outcome for outcome in outcomes if isinstance(outcome, Raised)]
    assert (refusal.code, refusal.message) == (
        "INVALID_TOKEN", "This sign-in is unknown, expired or already finished. Start again.")
    # Only the winner reached the provider.
    assert provider.requests.count(("POST", "/token")) == 1
    assert (User.objects.count(), ExternalIdentity.objects.count()) == (1, 1)


def test_staff_read_a_users_identities_in_the_django_admin(db, client, provider):
    from django.test import Client as DjangoClient

    assert sign_in(client, provider, sub="g-77", email="ada@example.com")["errors"] == []
    User.objects.create_superuser(email="root@example.com", password="root-pass-for-tests")
    browser = DjangoClient()
    assert browser.login(email="root@example.com", password="root-pass-for-tests")
    ada = User.objects.get(email="ada@example.com")
    page = browser.get(f"/admin/accounts/user/{ada.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "g-77" in text
    assert "External identities" in text
