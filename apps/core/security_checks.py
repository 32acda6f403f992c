"""Django's deployment checks of its security middleware, told where those
middleware really are.

Django finds its middleware by their dotted paths in MIDDLEWARE. Here the
SecurityMiddleware is commerce.middleware's subclass (no thread hop) and the
CSRF and clickjacking middleware run inside GroupedMiddleware
(GROUPED_MIDDLEWARE), so Django's own checks would call all three missing
(security.W001-W003, silenced in settings for that reason) and skip every
check that hangs on them: HSTS, the SSL redirect, nosniff, the referrer and
opener policies, X-Frame-Options, the CSRF cookie, which are what a
deployment needs to hear. `check_security_middleware_in_place` runs those
checks of Django's with the stack as it is (a class counts where it or a
subclass is configured, in either list), and says so, under its own ids,
when one of the three really is missing.
"""

from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.checks.security import base, csrf
from django.utils.module_loading import import_string

SECURITY = "django.middleware.security.SecurityMiddleware"
XFRAME = "django.middleware.clickjacking.XFrameOptionsMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"

# Django's checks that only run when the middleware they concern is there.
GATED: list[Callable[..., list[checks.CheckMessage]]] = [
    base.check_sts, base.check_sts_include_subdomains, base.check_sts_preload,
    base.check_content_type_nosniff, base.check_ssl_redirect, base.check_xframe_deny,
    base.check_referrer_policy, base.check_cross_origin_opener_policy,
    csrf.check_csrf_cookie_secure,
]
MISSING = {
    SECURITY: ("commerce.W001", base.W001.msg),
    XFRAME: ("commerce.W002", base.W002.msg),
    CSRF: ("commerce.W003", csrf.W003.msg),
}


def in_place(path: str) -> bool:
    """Whether the middleware `path`, or a subclass of it, runs."""
    wanted = import_string(path)
    for entry in [*settings.MIDDLEWARE, *getattr(settings, "GROUPED_MIDDLEWARE", [])]:
        found = import_string(entry)
        if isinstance(found, type) and issubclass(found, wanted):
            return True
    return False


@checks.register(checks.Tags.security, deploy=True)
def check_security_middleware_in_place(
    *, app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.CheckMessage]:
    present = {path: in_place(path) for path in MISSING}
    problems: list[checks.CheckMessage] = [
        checks.Warning(message, id=id_)
        for path, (id_, message) in MISSING.items() if not present[path]
    ]
    with mock.patch.object(base, "_security_middleware", lambda: present[SECURITY]), \
            mock.patch.object(base, "_xframe_middleware", lambda: present[XFRAME]), \
            mock.patch.object(csrf, "_csrf_middleware", lambda: present[CSRF]):
        for check in GATED:
            problems.extend(check(app_configs))
    return problems
