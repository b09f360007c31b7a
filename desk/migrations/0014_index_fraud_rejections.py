from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking writes out of a table that may already be large.
    atomic = False

    dependencies = [
        ("desk", "0013_drop_indexes_other_indexes_cover"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="decision",
            index=models.Index(
                condition=models.Q(reason_code="fraud_risk"),
                fields=["tenant", "created_at"],
                name="decision_fraud_rejections",
            ),
        ),
    ]
