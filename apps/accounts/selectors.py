from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .jwt import InvalidAccessToken, decode_access_token, session_of, user_id_of
from .models import Address, AuditEntry, Session, SignInAttempt, TwoFactorDevice, User
from .permissions import Perm, staff_has_perm


def user_from_access_token(token: str) -> User:
    """The active user an access token names.

    Raises InvalidAccessToken for a bad or expired token, or one whose user is
    gone or deactivated, or whose session (its `sid`) was revoked: both take
    effect at once, not at expiry. The session is checked in the same query
    as the user, so it costs no query of its own.
    """
    payload = decode_access_token(token)
    users = User.objects.filter(pk=user_id_of(payload), is_active=True)
    session = session_of(payload)
    if session is not None:
        users = users.filter(Exists(Session.objects.filter(
            user=OuterRef("pk"), family=session, revoked_at__isnull=True)))
    user = users.first()
    if user is None:
        raise InvalidAccessToken("The access token is invalid.")
    return user


def anonymous() -> AnonymousUser:
    return AnonymousUser()


def user_as_queryset(*, user: User) -> QuerySet[User]:
    """The user as a one-row queryset, for the optimizer to add what a query reads."""
    return User.objects.filter(pk=user.pk)


def manages_customers(user) -> bool:
    return staff_has_perm(user, Perm.MANAGE_CUSTOMERS)


def users_visible_to(*, user, queryset: QuerySet[User] | None = None) -> QuerySet[User]:
    """A customer sees only themself; staff managing customers see everyone,
    staff managing staff every staff account (and themself)."""
    queryset = User.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    if manages_customers(user):
        return queryset
    if staff_has_perm(user, Perm.MANAGE_STAFF):
        return queryset.filter(Q(is_staff=True) | Q(pk=user.pk))
    return queryset.filter(pk=user.pk)


def addresses_visible_to(
    *, user, queryset: QuerySet[Address] | None = None
) -> QuerySet[Address]:
    """Address book entries: one's own; staff managing customers see all."""
    queryset = Address.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset if manages_customers(user) else queryset.filter(user=user)


def sessions_visible_to(
    *, user, queryset: QuerySet[Session] | None = None
) -> QuerySet[Session]:
    """One's own sessions that still work, most recently used first; nobody
    sees anyone else's, staff included (another's reads as not there)."""
    queryset = Session.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-id")


def sign_in_attempts_visible_to(
    *, user, queryset: QuerySet[SignInAttempt] | None = None
) -> QuerySet[SignInAttempt]:
    """One's own sign-in history; staff managing customers see everyone's."""
    queryset = SignInAttempt.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset if manages_customers(user) else queryset.filter(user=user)


def sign_in_history_of(*, user: User) -> QuerySet[SignInAttempt]:
    """A user's sign-in attempts, newest first (what `User.signInHistory` pages)."""
    return SignInAttempt.objects.filter(user=user).order_by("-created_at", "-id")


def staff_with_perm(*, perm: Perm) -> QuerySet[User]:
    """Active staff holding `perm`, directly, through a group, or as
    superusers: staff_has_perm as a query, e.g. whom to tell that stock runs low."""
    permission = Permission.objects.filter(
        content_type__app_label="accounts", codename=perm.codename
    ).first()
    holds = Q(is_superuser=True)
    if permission is not None:
        holds |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    return User.objects.filter(holds, is_active=True, is_staff=True).distinct()


# A search longer than this many words is cut: each word is one more
# condition, and no one looks a customer up by a paragraph.
CUSTOMER_SEARCH_WORDS = 10


def customer_search(
    *, search: str | None = None, queryset: QuerySet[User] | None = None
) -> QuerySet[User]:
    """Customers (accounts that are not staff), newest first. Every word of
    `search` must appear, in any case, in the first name, last name or
    email, so "ada lovelace" and "lovelace@" both find Ada Lovelace."""
    queryset = User.objects.all() if queryset is None else queryset
    return _matching(queryset.filter(is_staff=False, is_superuser=False), search)


def _matching(queryset: QuerySet[User], search: str | None) -> QuerySet[User]:
    for word in (search or "").split()[:CUSTOMER_SEARCH_WORDS]:
        queryset = queryset.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return queryset.order_by("-date_joined", "-id")


def two_factor_enabled(*, user: User) -> bool:
    """Whether signing in asks this user for a second factor: a device
    confirmed by a code, not one merely set up."""
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def two_factor_enabled_per_user() -> Exists:
    """`two_factor_enabled` as an annotation for users, so a page of them
    stays one query."""
    return Exists(
        TwoFactorDevice.objects.filter(user=OuterRef("pk"), confirmed_at__isnull=False)
    )


# --- Staff, permission groups and the audit log (staff managing staff) ---------------------


def perms_held_by(user: User, *, groups: Iterable[Group] | None = None) -> list[Perm]:
    """The staff permissions `user` holds, as staff_has_perm decides: none for
    a customer or a deactivated account, all for a superuser. Reads the
    permissions through `.all()` and takes the user's `groups` when the
    caller has them, so a list prefetching them asks nothing more."""
    if not (user.is_active and user.is_staff):
        return []
    if user.is_superuser:
        return list(Perm)
    groups = user.groups.all() if groups is None else groups
    permissions = [*user.user_permissions.all(),
                   *(p for group in groups for p in group.permissions.all())]
    return _perms_among(permissions)


def group_perms(group: Group) -> list[Perm]:
    """The staff permissions a group gives (through `.all()`, as above)."""
    return _perms_among(group.permissions.all())


def _perms_among(permissions: Iterable[Permission]) -> list[Perm]:
    # Perm's permissions are declared on accounts.User (its Meta), so they
    # are that model's content type; the cache answers which one it is.
    user_type = ContentType.objects.get_for_model(User).pk
    held = {p.codename for p in permissions if p.content_type_id == user_type}
    return [perm for perm in Perm if perm.codename in held]


def staff_search(
    *, search: str | None = None, is_active: bool | None = None,
    queryset: QuerySet[User] | None = None,
) -> QuerySet[User]:
    """Staff accounts, newest first, searched as customers are
    (customer_search); deactivated ones too unless `is_active` says."""
    queryset = User.objects.all() if queryset is None else queryset
    queryset = queryset.filter(is_staff=True)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return _matching(queryset, search)


def _manages_staff(user) -> bool:
    return staff_has_perm(user, Perm.MANAGE_STAFF)


def permission_groups_visible_to(
    *, user, queryset: QuerySet[Group] | None = None
) -> QuerySet[Group]:
    """Staff managing staff see every group; anyone else the groups they are
    in (what they hold and why), an anonymous caller none."""
    queryset = Group.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset if _manages_staff(user) else queryset.filter(user=user)


def permission_group_search(*, search: str | None = None) -> QuerySet[Group]:
    """Groups by name (then id, so that pages are stable), `search` a part of it."""
    queryset = Group.objects.all()
    if search and search.strip():
        queryset = queryset.filter(name__icontains=search.strip())
    return queryset.order_by("name", "id")


def audit_entries_visible_to(
    *, user, queryset: QuerySet[AuditEntry] | None = None
) -> QuerySet[AuditEntry]:
    """Only staff managing staff read the audit log."""
    queryset = AuditEntry.objects.all() if queryset is None else queryset
    return queryset if _manages_staff(user) else queryset.none()


def audit_log(*, action: str | None = None, actor_id: int | None = None,
              object_type: str | None = None, object_pk: str | None = None
              ) -> QuerySet[AuditEntry]:
    """The audit log, newest first; `action` is a code (`order.fulfil`) or
    its prefix with a dot (`order.`: every order action)."""
    queryset = AuditEntry.objects.all()
    if action:
        queryset = (queryset.filter(action__startswith=action) if action.endswith(".")
                    else queryset.filter(action=action))
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    if object_type is not None and object_pk is not None:
        queryset = queryset.filter(object_type=object_type, object_pk=object_pk)
    return queryset.order_by("-created_at", "-id")
