from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Upper


class Migration(migrations.Migration):
    # Built without locking writes out of a table that may already be large.
    atomic = False

    dependencies = [
        ("integrations", "0023_outbound_skip_withdrawn"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(models.F("tenant"), Upper("number"), name="order_by_number"),
        ),
    ]
