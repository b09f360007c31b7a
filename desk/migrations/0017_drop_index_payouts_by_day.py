from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    # The daily cap reads its running total now; the index only cost every payout a write.
    atomic = False

    dependencies = [
        ("desk", "0016_auto_payout_days"),
    ]

    operations = [
        RemoveIndexConcurrently(model_name="proposal", name="proposal_payouts_by_day"),
    ]
