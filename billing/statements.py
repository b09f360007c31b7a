"""Monthly statements built from the usage ledger, in the tenant's time zone.

A statement is the ledger of one calendar month (local to the tenant) grouped
into line items by kind and unit price, with net AI and human counts,
deflection against the contract's floor and the floor credit. The current
month is a live preview; a month whose reopen window has passed is frozen into
a ``Statement`` row by ``billing.actions.freeze_statement`` and read back from
there, so a frozen statement never changes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count

from billing.models import REOPEN_WINDOW, Contract, Statement, UsageRecord
from tenants.models import Tenant

CENT = Decimal("0.01")
SHARE = Decimal("0.001")
FLOOR_CREDIT = "floor_credit"

# Statement order and wording of each ledger kind.
KIND_ORDER = [
    UsageRecord.Kind.AI_RESOLUTION,
    UsageRecord.Kind.HUMAN_RESOLUTION,
    UsageRecord.Kind.AI_REVERSAL,
    UsageRecord.Kind.HUMAN_CONVERSION,
]
DESCRIPTIONS = {
    UsageRecord.Kind.AI_RESOLUTION: "AI-resolved contacts",
    UsageRecord.Kind.HUMAN_RESOLUTION: "Human-resolved contacts",
    UsageRecord.Kind.AI_REVERSAL: "AI resolutions reopened within 72 h, credited back",
    UsageRecord.Kind.HUMAN_CONVERSION: "Reopened contacts billed as human-resolved",
}


@dataclass(frozen=True)
class StatementLine:
    kind: str
    description: str
    quantity: int
    unit_price: Decimal | None
    amount: Decimal

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "description": self.description,
            "quantity": self.quantity,
            "unit_price": None if self.unit_price is None else str(self.unit_price),
            "amount": str(self.amount),
        }

    @classmethod
    def from_json(cls, data: dict) -> StatementLine:
        price = data.get("unit_price")
        return cls(
            kind=data["kind"],
            description=data["description"],
            quantity=int(data["quantity"]),
            unit_price=None if price is None else Decimal(price),
            amount=Decimal(data["amount"]),
        )


@dataclass(frozen=True)
class StatementData:
    """One month's statement, live or frozen; the views and exports read only this."""

    tenant: Tenant
    month: date
    time_zone: str
    currency: str
    lines: list[StatementLine]
    record_count: int
    ai_count: int
    human_count: int
    reversed_count: int
    subtotal: Decimal
    deflection_rate: Decimal | None
    deflection_floor: Decimal | None
    is_below_floor: bool
    floor_credit_percent: Decimal
    floor_credit: Decimal
    total: Decimal
    frozen_at: datetime | None = None
    charge_lines: list[StatementLine] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "charge_lines", [line for line in self.lines if line.kind != FLOOR_CREDIT]
        )

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def resolution_count(self) -> int:
        return self.ai_count + self.human_count

    @property
    def cost_per_contact(self) -> Decimal | None:
        if not self.resolution_count:
            return None
        return (self.total / self.resolution_count).quantize(CENT, ROUND_HALF_UP)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_of(tenant: Tenant, at: datetime) -> date:
    """The first day of the tenant-local month containing ``at``."""
    return at.astimezone(ZoneInfo(tenant.time_zone)).date().replace(day=1)


def month_bounds(tenant: Tenant, month: date) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of a month at the tenant's local midnight."""
    zone = ZoneInfo(tenant.time_zone)
    start = datetime.combine(month.replace(day=1), time.min, tzinfo=zone)
    end = datetime.combine(next_month(month.replace(day=1)), time.min, tzinfo=zone)
    return start, end


def closes_at(tenant: Tenant, month: date) -> datetime:
    """When a month can be frozen: its last resolutions are past their reopen window."""
    return month_bounds(tenant, month)[1] + REOPEN_WINDOW


def contract_for_month(tenant: Tenant, month: date) -> Contract | None:
    """The version in force at the end of the month: its floor and credit govern the month."""
    return (
        Contract.objects.filter(tenant=tenant, starts_on__lt=next_month(month))
        .exclude(ends_on__lt=month)
        .order_by("-starts_on")
        .first()
    )


def month_records(tenant: Tenant, month: date):
    start, end = month_bounds(tenant, month)
    return UsageRecord.objects.filter(tenant=tenant, occurred_at__gte=start, occurred_at__lt=end)


def build_statement(tenant: Tenant, month: date) -> StatementData:
    """The month's statement computed from the ledger now (two queries: the
    grouped ledger and the contract version)."""
    month = month.replace(day=1)
    groups = (
        month_records(tenant, month)
        .values("kind", "unit_price", "currency")
        .annotate(quantity=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(KIND_ORDER, 0)
    lines: list[StatementLine] = []
    currencies: set[str] = set()
    for row in sorted(groups, key=lambda r: (KIND_ORDER.index(r["kind"]), r["unit_price"])):
        counts[row["kind"]] += row["quantity"]
        currencies.add(row["currency"])
        lines.append(
            StatementLine(
                kind=row["kind"],
                description=DESCRIPTIONS[row["kind"]],
                quantity=row["quantity"],
                unit_price=row["unit_price"],
                amount=row["unit_price"] * row["quantity"],
            )
        )
    contract = contract_for_month(tenant, month)
    currency = contract.currency if contract else tenant.currency
    if currencies - {currency}:
        raise ValueError(f"{tenant.slug} {month:%Y-%m} mixes currencies: {sorted(currencies)}")

    ai = counts[UsageRecord.Kind.AI_RESOLUTION] - counts[UsageRecord.Kind.AI_REVERSAL]
    human = counts[UsageRecord.Kind.HUMAN_RESOLUTION] + counts[UsageRecord.Kind.HUMAN_CONVERSION]
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    floor = contract.deflection_floor if contract else None
    percent = contract.floor_credit_percent if contract else Decimal("0")
    rate = None
    below = False
    if ai + human:
        exact = Decimal(ai) / Decimal(ai + human)
        rate = exact.quantize(SHARE, ROUND_HALF_UP)
        # Compare unrounded: 69.96% is below a 70% floor even if it prints as 70.0%.
        below = floor is not None and exact < floor
    credit = Decimal("0.00")
    if below and percent and subtotal > 0:
        credit = (subtotal * percent / 100).quantize(CENT, ROUND_HALF_UP)
        lines.append(
            StatementLine(
                kind=FLOOR_CREDIT,
                description=f"Deflection floor credit: {percent.normalize()}% of charges "
                f"(deflection {rate * 100:.1f}% vs {floor * 100:.0f}% floor)",
                quantity=1,
                unit_price=None,
                amount=-credit,
            )
        )
    return StatementData(
        tenant=tenant,
        month=month,
        time_zone=tenant.time_zone,
        currency=currency,
        lines=lines,
        record_count=sum(counts.values()),
        ai_count=ai,
        human_count=human,
        reversed_count=counts[UsageRecord.Kind.AI_REVERSAL],
        subtotal=subtotal,
        deflection_rate=rate,
        deflection_floor=floor,
        is_below_floor=below,
        floor_credit_percent=percent,
        floor_credit=credit,
        total=subtotal - credit,
    )


def from_frozen(statement: Statement) -> StatementData:
    return StatementData(
        tenant=statement.tenant,
        month=statement.month,
        time_zone=statement.time_zone,
        currency=statement.currency,
        lines=[StatementLine.from_json(line) for line in statement.lines],
        record_count=statement.record_count,
        ai_count=statement.ai_count,
        human_count=statement.human_count,
        reversed_count=statement.reversed_count,
        subtotal=statement.subtotal,
        deflection_rate=statement.deflection_rate,
        deflection_floor=statement.deflection_floor,
        is_below_floor=statement.is_below_floor,
        floor_credit_percent=statement.floor_credit_percent,
        floor_credit=statement.floor_credit,
        total=statement.total,
        frozen_at=statement.frozen_at,
    )


def get_statement(tenant: Tenant, month: date) -> StatementData:
    """The frozen statement of ``month`` if there is one, else a live preview."""
    frozen = Statement.objects.filter(tenant=tenant, month=month.replace(day=1)).first()
    if frozen is not None:
        frozen.tenant = tenant  # spare a query: the caller already holds the tenant
        return from_frozen(frozen)
    return build_statement(tenant, month)


def statement_csv(data: StatementData) -> str:
    """Line items and totals as CSV (a few dozen rows at most)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["tenant", data.tenant.slug, "month", f"{data.month:%Y-%m}"])
    writer.writerow(
        ["status", "frozen" if data.is_frozen else "preview", "currency", data.currency]
    )
    writer.writerow([])
    writer.writerow(["kind", "description", "quantity", "unit_price", "amount"])
    for line in data.lines:
        writer.writerow(
            [line.kind, line.description, line.quantity, line.unit_price or "", line.amount]
        )
    writer.writerow([])
    writer.writerow(["subtotal", data.subtotal])
    writer.writerow(["floor_credit", -data.floor_credit])
    writer.writerow(["total", data.total])
    writer.writerow(["ai_resolved", data.ai_count])
    writer.writerow(["human_resolved", data.human_count])
    writer.writerow(["deflection", "" if data.deflection_rate is None else data.deflection_rate])
    writer.writerow(
        ["deflection_floor", "" if data.deflection_floor is None else data.deflection_floor]
    )
    return out.getvalue()


LEDGER_HEADER = [
    "occurred_at",
    "record",
    "kind",
    "contact",
    "resolution_number",
    "unit_price",
    "currency",
    "contract_from",
    "corrects",
    "basis",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def ledger_csv_rows(tenant: Tenant, month: date) -> Iterator[str]:
    """Every ledger row of the month as CSV lines, streamed: what a merchant audits
    line by line. Times are in the tenant's zone."""
    zone = ZoneInfo(tenant.time_zone)
    writer = csv.writer(_Echo())
    yield writer.writerow(LEDGER_HEADER)
    rows = (
        month_records(tenant, month)
        .order_by("occurred_at", "pk")
        .values_list(
            "occurred_at",
            "public_id",
            "kind",
            "contact_ref",
            "resolution_number",
            "unit_price",
            "currency",
            "contract__starts_on",
            "corrects__public_id",
            "basis",
        )
    )
    for (
        occurred,
        record,
        kind,
        contact,
        number,
        price,
        currency,
        since,
        corrects,
        basis,
    ) in rows.iterator(chunk_size=5000):
        yield writer.writerow(
            [
                occurred.astimezone(zone).isoformat(),
                record,
                kind,
                contact,
                number,
                price,
                currency,
                since,
                corrects or "",
                json.dumps(basis, sort_keys=True, separators=(",", ":")),
            ]
        )
