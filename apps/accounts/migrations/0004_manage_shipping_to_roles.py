"""Give the new manage_shipping permission to the roles that had the work it
covers: Administrators (everything) and Order managers (who ship orders).
New installs get it from apps.accounts.roles.STAFF_ROLES after migrate; a
shop that already has the groups gets it here. A group the shop deleted is
not made again."""

from django.db import migrations

from ._roles import handing_out

grant, revoke = handing_out(
    codename="manage_shipping", name="Manage shipping zones, methods and tax rates",
    roles=("Administrators", "Order managers"),
)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_manage_shipping_permission"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
