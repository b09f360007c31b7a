"""The daily cap's running total: what the agent paid out on its own today.

One row per merchant and day (``AutoPayoutDay``), so the cap reads one row
however busy the day, instead of summing the day's payouts on every proposal.
A payout is added in the transaction that approves it, and only if the total
stays within the cap: two contacts approved at the same moment cannot both take
the last of it. One whose execution fails gives its amount back.

Only the agent's own approvals count: a payout a person approved is theirs,
and the cap is about what the agent may do alone."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F
from django.utils import timezone

from desk.models import AutoPayoutDay, Proposal
from tenants.models import Tenant


def merchant_day(tenant: Tenant, at: datetime | None = None) -> date:
    """The merchant's calendar day at ``at`` (now): the cap resets at their midnight."""
    return (at or timezone.now()).astimezone(ZoneInfo(tenant.time_zone)).date()


def paid_out_today(tenant: Tenant) -> Decimal:
    total = (
        AutoPayoutDay.objects.filter(tenant=tenant, day=merchant_day(tenant))
        .values_list("total", flat=True)
        .first()
    )
    return total if total is not None else Decimal("0")


# Adds the amount to the day's total if the result stays within the cap, in one
# statement: the row lock it takes holds a concurrent approval until this one's
# transaction ends, and that one then sees this total. No row back: refused.
_RESERVE_SQL = """
INSERT INTO desk_autopayoutday AS d (tenant_id, day, total)
SELECT %(tenant)s, %(day)s, %(amount)s WHERE %(amount)s <= %(cap)s
ON CONFLICT (tenant_id, day) DO UPDATE SET total = d.total + EXCLUDED.total
 WHERE d.total + EXCLUDED.total <= %(cap)s
RETURNING total
"""


def reserve(tenant: Tenant, amount: Decimal) -> bool:
    """Count ``amount`` against today's cap, inside the caller's transaction; False
    (and nothing counted) if it no longer fits."""
    with connection.cursor() as cursor:
        cursor.execute(
            _RESERVE_SQL,
            {
                "tenant": tenant.pk,
                "day": merchant_day(tenant),
                "amount": amount,
                "cap": tenant.daily_auto_refund_cap,
            },
        )
        return cursor.fetchone() is not None


def give_back(proposal: Proposal) -> None:
    """A payout the agent approved that never happened no longer counts, on the day it
    was approved. Inside the caller's transaction."""
    if proposal.kind not in Proposal.MONEY_KINDS or not proposal.amount:
        return
    AutoPayoutDay.objects.filter(
        tenant_id=proposal.tenant_id, day=merchant_day(proposal.tenant, proposal.created_at)
    ).update(total=F("total") - proposal.amount)
