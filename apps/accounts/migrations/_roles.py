"""What the data migrations that hand a new permission to existing roles
share. Not a migration (the loader skips modules whose name starts with an
underscore), and frozen like one: a migration that uses it relies on it as
it is."""


def grant(apps, *, codename, name, roles):
    """Give the permission to the roles that exist. On a fresh database there
    are none yet: the roles are made after migrate, with the permission."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    groups = Group.objects.filter(name__in=roles)
    if not groups.exists():
        return
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name},
    )
    for group in groups:
        group.permissions.add(permission)


def revoke(apps, *, codename, roles):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permission = Permission.objects.filter(
        content_type__app_label="accounts", codename=codename).first()
    if permission is not None:
        for group in Group.objects.filter(name__in=roles):
            group.permissions.remove(permission)


def handing_out(*, codename, name, roles):
    """A data migration's (grant, revoke) pair, for migrations.RunPython."""

    def grant_it(apps, schema_editor):
        grant(apps, codename=codename, name=name, roles=roles)

    def revoke_it(apps, schema_editor):
        revoke(apps, codename=codename, roles=roles)

    return grant_it, revoke_it
