import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

TABLE = "integrations_outboundmessage"
# Indexes Django made for single columns that a composite index already leads
# with, and the prefix-search twin of an address matched only exactly.
REDUNDANT = {
    "integrations_outboundmessage_tenant_id_5a719de5": '("tenant_id")',
    "integrations_outboundmessage_customer_id_162b7953": '("customer_id")',
    "integrations_outboundmessage_shipment_id_d6c9ca43": '("shipment_id")',
    "integrations_outboundmessage_email_message_id_5b1b8167": '("email_message_id")',
    "integrations_outboundmessage_email_message_id_5b1b8167_like": (
        '("email_message_id" varchar_pattern_ops)'
    ),
}


class Migration(migrations.Migration):
    # Built and dropped without locking the table against writes.
    atomic = False

    dependencies = [
        ("integrations", "0018_index_addresses_any_case"),
        ("tenants", "0006_tenant_reply_languages"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboundmessage",
            index=models.Index(fields=["email_message_id"], name="outbound_by_email_message_id"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outboundmessage",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="integrations.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="outboundmessage",
                    name="email_message_id",
                    field=models.CharField(blank=True, max_length=255),
                ),
                migrations.AlterField(
                    model_name="outboundmessage",
                    name="shipment",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="outbound_messages",
                        to="integrations.shipment",
                    ),
                ),
                migrations.AlterField(
                    model_name="outboundmessage",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="outbound_messages",
                        to="tenants.tenant",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
                    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{TABLE}" {columns}',
                )
                for name, columns in REDUNDANT.items()
            ],
        ),
    ]
