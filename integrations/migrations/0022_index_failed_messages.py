from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking writes out of the outbox, which may already be large.
    atomic = False

    dependencies = [
        ("integrations", "0021_remember_scans_awaiting_follow_up"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboundmessage",
            index=models.Index(
                condition=models.Q(("state", "failed")),
                fields=["failed_at"],
                name="outbound_failed",
            ),
        ),
    ]
