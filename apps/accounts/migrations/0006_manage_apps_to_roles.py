"""Give the new manage_apps permission (integrations and their webhooks) to
the Administrators role, which holds every permission. New installs get it
from apps.accounts.roles.STAFF_ROLES after migrate; a shop that already has
the group gets it here. A group the shop deleted is not made again."""

from django.db import migrations

from ._roles import handing_out

grant, revoke = handing_out(
    codename="manage_apps", name="Manage integrations and their webhooks",
    roles=("Administrators",),
)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_manage_apps_permission"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
