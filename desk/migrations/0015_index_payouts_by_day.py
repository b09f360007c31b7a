from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking writes out of a table that may already be large.
    atomic = False

    dependencies = [
        ("desk", "0014_index_fraud_rejections"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="proposal",
            index=models.Index(
                condition=models.Q(kind__in=["cancel_order", "refund", "store_credit"]),
                fields=["tenant", "created_at"],
                include=["amount", "status"],
                name="proposal_payouts_by_day",
            ),
        ),
    ]
