from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

MONEY_KINDS = ["cancel_order", "refund", "store_credit"]


def total_today_so_far(apps, schema_editor):
    """Start each merchant's running total from what the agent paid out alone since
    their midnight, so the cap holds across the deploy."""
    Tenant = apps.get_model("tenants", "Tenant")
    Proposal = apps.get_model("desk", "Proposal")
    AutoPayoutDay = apps.get_model("desk", "AutoPayoutDay")
    for tenant in Tenant.objects.all():
        zone = ZoneInfo(tenant.time_zone)
        today = timezone.now().astimezone(zone).date()
        total = Proposal.objects.filter(
            tenant=tenant,
            kind__in=MONEY_KINDS,
            status__in=["approved", "executed"],
            created_at__gte=datetime.combine(today, time.min, tzinfo=zone),
            decisions__isnull=True,
        ).aggregate(total=models.Sum("amount"))["total"]
        if total:
            AutoPayoutDay.objects.create(tenant=tenant, day=today, total=total)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0015_index_payouts_by_day"),
        ("tenants", "0007_tenant_csat_survey_delay"),
    ]

    operations = [
        migrations.CreateModel(
            name="AutoPayoutDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "total",
                    models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=14),
                ),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenants.tenant",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant", "day"), name="one_payout_total_per_day"
                    )
                ],
            },
        ),
        migrations.RunPython(total_today_so_far, migrations.RunPython.noop),
    ]
