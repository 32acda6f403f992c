"""The second factor's secrets and codes, with no database: the TOTP secret
(made, encrypted at rest, turned into an `otpauth://` URI), the codes an
authenticator app shows (checked within a small clock window, answering the
time step they belong to), and recovery codes (made, hashed).

Both the secret's encryption and the recovery codes' HMAC are keyed from
SECRET_KEY, each through its own derived key, and also try the keys of
SECRET_KEY_FALLBACKS: rotating SECRET_KEY the way Django documents it (the
old key moved to the fallbacks) keeps every device and recovery code working.
The database alone therefore yields neither a usable secret nor a code to
guess offline.
"""

import base64
import secrets
import string
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

# The codes of the steps this far either side of now are accepted too: an
# app whose clock is 30 s off, or a code typed as it turned over.
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_HALF = 5

_SECRET_SALT = "apps.accounts.otp.secret"
_RECOVERY_SALT = "apps.accounts.otp.recovery-code"


class UnreadableSecret(Exception):
    """The stored secret was encrypted with a key no longer configured."""


def _signing_keys() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _fernet() -> MultiFernet:
    # Fernet wants 32 url-safe base64 bytes; a SHA-256 HMAC gives 32 bytes.
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(
            salted_hmac(_SECRET_SALT, "fernet", secret=key, algorithm="sha256").digest()
        ))
        for key in _signing_keys()
    ])


def new_secret() -> str:
    return pyotp.random_base32()


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as error:
        raise UnreadableSecret from error


def provisioning_uri(secret: str, *, email: str) -> str:
    """What the QR code holds: the app names the account by its email."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=settings.TWO_FACTOR_ISSUER)


def normalize_code(code: str) -> str:
    """As typed: apps show "123 456", recovery codes are printed "abcde-fghij"."""
    return "".join((code or "").split()).replace("-", "").lower()


def looks_like_totp(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str) -> int | None:
    """The time step (within VALID_WINDOW of now) whose code `code` is, or None.
    The step, not a yes or no, so the caller can refuse it once it was used."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(time.time())
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if constant_time_compare(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 characters (about 50 bits each), printed in two halves."""
    def one() -> str:
        chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(2 * _RECOVERY_HALF))
        return f"{chars[:_RECOVERY_HALF]}-{chars[_RECOVERY_HALF:]}"

    return [one() for _ in range(RECOVERY_CODE_COUNT)]


def recovery_code_hashes(code: str) -> list[str]:
    """The code's HMAC under each configured key, the current key's first: a
    code is stored as the first and found by any. Recovery codes are random
    and long, so a keyed hash suffices; a slow password hash would cost ten
    hashings at every confirmation and a scan at every use."""
    value = normalize_code(code)
    if not value or set(value) - set(string.ascii_lowercase + string.digits):
        return []
    return [
        salted_hmac(_RECOVERY_SALT, value, secret=key, algorithm="sha256").hexdigest()
        for key in _signing_keys()
    ]
