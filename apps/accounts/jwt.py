"""Access tokens: short-lived JSON Web Tokens signed with JWT_SIGNING_KEY.

This small module replaces django-graphql-jwt (a Graphene library that
cannot live beside current Strawberry); the mutation names stay the same.
Refresh tokens are not JWTs: they are random strings kept only as a hash
(see services.py), so they can be revoked.
"""

import uuid
from datetime import datetime, UTC

import jwt
from django.conf import settings

from apps.core.ids import parse_pk

ACCESS = "access"


class InvalidAccessToken(Exception):
    pass


def encode_access_token(*, user_id: int, email: str, now: datetime | None = None,
                        session: uuid.UUID | None = None) -> str:
    """`session` is the sign-in session's family (models.Session), carried as
    `sid`: it says which session is the caller's, and a revoked session's
    access tokens stop working at once (selectors.user_from_access_token)."""
    issued = now or datetime.now(tz=UTC)
    payload = {
        "sub": str(user_id),
        "email": email,
        "type": ACCESS,
        "iat": issued,
        "exp": issued + settings.JWT_ACCESS_TOKEN_LIFETIME,
    }
    if session is not None:
        payload["sid"] = str(session)
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm=settings.JWT_ALGORITHM)


def decode_access_token(token: str) -> dict:
    try:
        payload = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[settings.JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidAccessToken("The access token has expired.") from error
    except jwt.InvalidTokenError as error:
        raise InvalidAccessToken("The access token is invalid.") from error
    if payload.get("type") != ACCESS:
        raise InvalidAccessToken("The access token is invalid.")
    return payload


def access_token_expiry(token: str) -> datetime:
    """When a valid token stops working: a WebSocket connection signed in
    with it is closed then (schema.views), as a request would be refused."""
    return datetime.fromtimestamp(decode_access_token(token)["exp"], tz=UTC)


def access_token_session(token: str) -> uuid.UUID | None:
    """The session (family) a valid token belongs to, if it names one."""
    return session_of(decode_access_token(token))


def user_id_of(payload: dict) -> int:
    """The user id a decoded token names. A signed token whose subject is not
    an id we issue (another service's token signed with a shared key, a
    forged test token) is invalid, not a database error."""
    user_id = parse_pk(payload.get("sub"))
    if user_id is None:
        raise InvalidAccessToken("The access token is invalid.")
    return user_id


def session_of(payload: dict) -> uuid.UUID | None:
    """The session a decoded token belongs to; None for a token made without
    one (before sessions existed, or by a test). A `sid` that is not a UUID
    makes the token invalid: we never sign one."""
    sid = payload.get("sid")
    if sid is None:
        return None
    try:
        return uuid.UUID(str(sid))
    except ValueError:
        raise InvalidAccessToken("The access token is invalid.") from None


def token_from_header(value: str) -> str | None:
    """The token of an `Authorization: Bearer <jwt>` (or `JWT <jwt>`) header."""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() in {"bearer", "jwt"} and token.strip():
        return token.strip()
    return None
