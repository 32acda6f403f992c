"""Stock.quantity becomes quantity_on_hand: one name for on-hand stock
everywhere in the code (the GraphQL field keeps its name, `quantity`).

Only the column is renamed in the database. PostgreSQL and SQLite carry the
two check constraints over to the new name themselves, so dropping and
re-adding them, which would rescan a large stock table under a lock, happens
in Django's model state only."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("inventory", "0002_default_warehouse"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RenameField(
                    model_name="stock", old_name="quantity", new_name="quantity_on_hand",
                ),
            ],
            state_operations=[
                migrations.RemoveConstraint(model_name="stock", name="stock_on_hand_not_negative"),
                migrations.RemoveConstraint(
                    model_name="stock", name="stock_allocated_within_on_hand"
                ),
                migrations.RenameField(
                    model_name="stock", old_name="quantity", new_name="quantity_on_hand",
                ),
                migrations.AddConstraint(
                    model_name="stock",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("quantity_on_hand__gte", 0)),
                        name="stock_on_hand_not_negative",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="stock",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("quantity_allocated__lte", models.F("quantity_on_hand"))
                        ),
                        name="stock_allocated_within_on_hand",
                    ),
                ),
            ],
        ),
    ]
