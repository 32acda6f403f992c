"""Give the new manage_shipping permission to the roles that had the work it
covers: Administrators (everything) and Order managers (who ship orders).
New installs get it from apps.accounts.roles.STAFF_ROLES after migrate; a
shop that already has the groups gets it here. A group the shop deleted is
not made again."""

from django.db import migrations

ROLES = ("Administrators", "Order managers")


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    groups = Group.objects.filter(name__in=ROLES)
    if not groups.exists():
        return  # a fresh database: the roles are made after migrate, with it
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="manage_shipping",
        defaults={"name": "Manage shipping zones, methods and tax rates"},
    )
    for group in groups:
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permission = Permission.objects.filter(
        content_type__app_label="accounts", codename="manage_shipping").first()
    if permission is not None:
        for group in Group.objects.filter(name__in=ROLES):
            group.permissions.remove(permission)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_manage_shipping_permission"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
