"""A local stand-in for a social sign-in provider, so that the tests drive
the real Authlib client (the settings point the providers at it) rather
than a mock of it.

It is an OpenID Connect issuer, with a discovery document, its keys (an RSA
key made at start, published as a JWKS), a token endpoint that checks the
code, the client and the PKCE verifier against the challenge and answers an
ID token signed with its key and carrying the nonce it was given, and
userinfo; and it is GitHub, with its token endpoint, `/user` and
`/user/emails`. What the customer does on the provider's page, the test does
by hand: `log_in(authorization_url, sub=..., email=...)` takes the client,
redirect URI, nonce and challenge from the URL the shop made and answers
the code the provider would send back. `signing_key` signs the ID tokens
(swap it for a key the JWKS does not publish), `jwks` replaces the
published keys, `claims` overrides claims of
the ID token (`aud`, `iss`), `id_token_lifetime` is its lifetime, and
`down = True` makes it unreachable (a connection closed without an answer),
`broken = (status, body)` answers every request so.

`use_fake_oidc(settings)` hands it to a test: one server for the session,
emptied for each test, with providers "fake" (OpenID Connect) and "github"
configured to use it and `CALLBACK` the allowed redirect URI.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fake_http import JsonHandler, LocalServer

CLIENT_ID = "shop-client"
CLIENT_SECRET = "shop-secret"
CALLBACK = "https://shop.example/auth/callback"


class FakeProvider(LocalServer):
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-key-1"})
        self.start(_Handler)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            # code -> what the customer logged in as and what the URL asked
            self.codes: dict[str, dict[str, Any]] = {}
            # access token -> the profile it reads
            self.tokens: dict[str, dict[str, Any]] = {}
            # Every request as (method, path).
            self.requests: list[tuple[str, str]] = []
            self.signing_key: RSAKey = self.key
            self.claims: dict[str, Any] = {}
            self.id_token_lifetime = 300
            self.down = False
            # What every request is answered with instead, as (status, body).
            self.broken: tuple[int, Any] | None = None
            # The JWKS published instead of the fake's key.
            self.jwks: dict[str, Any] | None = None

    # --- What the customer does at the provider, driven by the test ---------------

    def log_in(self, authorization_url: str, *, sub: str | int, email: str,
               email_verified: bool = True, given_name: str = "", family_name: str = "",
               emails: list[dict[str, Any]] | None = None) -> str:
        """The customer signed in at the provider as this profile and agreed;
        the code the provider sends to the redirect URI. `emails` is
        GitHub's list (by default `email`, primary, verified as told)."""
        asked = dict(parse_qsl(urlsplit(authorization_url).query))
        code = secrets.token_urlsafe(16)
        profile = {"sub": str(sub), "email": email, "email_verified": email_verified,
                   "given_name": given_name, "family_name": family_name,
                   "emails": emails if emails is not None else [
                       {"email": email, "primary": True, "verified": email_verified},
                       {"email": f"old.{email}", "primary": False, "verified": True}]}
        with self.lock:
            self.codes[code] = {"profile": profile, "asked": asked}
        return code

    # --- The provider's endpoints --------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def answer(self, method: str, path: str, form: dict[str, str],
               headers: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path))
            if (method, path) == ("GET", "/.well-known/openid-configuration"):
                return 200, self.discovery()
            if (method, path) == ("GET", "/jwks"):
                return 200, self.jwks or {"keys": [self.key.as_dict(private=False)]}
            if (method, path) in (("POST", "/token"), ("POST", "/login/oauth/access_token")):
                return self.token(form, headers, oidc=path == "/token")
            profile = self.tokens.get(headers.get("authorization", "").removeprefix("Bearer "))
            if profile is None:
                return 401, {"message": "Bad credentials"}
            if (method, path) == ("GET", "/userinfo"):
                return 200, {key: profile[key] for key in ("sub", "email", "email_verified")}
            if (method, path) == ("GET", "/user"):
                return 200, {"id": int(profile["sub"]), "login": "octocat",
                             "name": f"{profile['given_name']} {profile['family_name']}",
                             "email": None}
            if (method, path) == ("GET", "/user/emails"):
                return 200, profile["emails"]
            return 404, {"error": "not_found"}

    def token(self, form: dict[str, str], headers: dict[str, str], *,
              oidc: bool) -> tuple[int, Any]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        asked, profile = issued["asked"], issued["profile"]
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        ).rstrip(b"=").decode()
        if (asked.get("client_id") != client_id
                or asked.get("redirect_uri") != form.get("redirect_uri")
                or asked.get("code_challenge_method") != "S256"
                or asked.get("code_challenge") != challenge):
            return 400, {"error": "invalid_grant"}
        access = secrets.token_urlsafe(16)
        self.tokens[access] = profile
        answer: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                                  "expires_in": 3600}
        if oidc:
            now = int(time.time())
            claims = {"iss": self.url, "sub": profile["sub"], "aud": client_id,
                      "iat": now, "exp": now + self.id_token_lifetime,
                      "email": profile["email"], "email_verified": profile["email_verified"],
                      "given_name": profile["given_name"],
                      "family_name": profile["family_name"]}
            if "nonce" in asked:
                claims["nonce"] = asked["nonce"]
            claims.update(self.claims)
            answer["id_token"] = jwt.encode(
                {"alg": "RS256", "kid": self.signing_key.kid}, claims, self.signing_key)
        return 200, answer


class _Handler(JsonHandler):
    def _serve(self) -> None:
        fake: FakeProvider = self.server.fake  # type: ignore[attr-defined]
        body = self.body()
        if fake.down:
            self.close_connection = True
            return
        status, answer = fake.broken or fake.answer(
            self.command, urlsplit(self.path).path, dict(parse_qsl(body)), self.headers_lower())
        self.send_json(status, answer)

    do_GET = do_POST = _serve


_server: FakeProvider | None = None


def use_fake_oidc(settings) -> FakeProvider:
    """The fake (one server for the session), emptied, with the settings
    (pytest-django's `settings` fixture) pointing providers "fake" and
    "github" at it."""
    global _server
    if _server is None:
        _server = FakeProvider()
    _server.reset()
    common = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    settings.SOCIAL_AUTH_PROVIDERS = {
        "fake": {"kind": "oidc", **common, "scope": "openid email profile",
                 "discovery_url": f"{_server.url}/.well-known/openid-configuration"},
        "github": {"kind": "github", **common, "scope": "read:user user:email",
                   "authorize_url": f"{_server.url}/login/oauth/authorize",
                   "token_url": f"{_server.url}/login/oauth/access_token",
                   "api_url": _server.url},
    }
    settings.SOCIAL_AUTH_REDIRECT_URIS = [CALLBACK, f"{CALLBACK}/other"]
    settings.SOCIAL_AUTH_HTTP_TIMEOUT = 2.0
    return _server
