import django.db.models.deletion
from django.db import migrations, models

# The index Django made for the foreign key; the (tenant, status, escalated_at)
# index leads with the same column.
TENANT_INDEX = "desk_contact_tenant_id_060b3423"


class Migration(migrations.Migration):
    # Dropped without locking the table against writes.
    atomic = False

    dependencies = [
        ("desk", "0012_index_addresses_any_case"),
        ("tenants", "0006_tenant_reply_languages"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contacts",
                        to="tenants.tenant",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX CONCURRENTLY IF EXISTS "{TENANT_INDEX}"',
                    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{TENANT_INDEX}" '
                    'ON "desk_contact" ("tenant_id")',
                ),
            ],
        ),
    ]
