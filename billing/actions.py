"""Writes to billing: contract versions, the usage ledger and frozen statements."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing import statements
from billing.models import REOPEN_WINDOW, Contract, Statement, UsageRecord
from tenants.models import Tenant

# Named rather than ``*``: a prepared statement whose result changes shape (a
# migration adding a column while a worker runs) fails instead of re-planning.
_USAGE_COLUMNS = ", ".join(f'"{field.column}"' for field in UsageRecord._meta.concrete_fields)

WINDOW_HOURS = int(REOPEN_WINDOW.total_seconds() // 3600)


class NoContract(Exception):
    """The tenant has no contract in force; resolutions cannot be priced."""


def _versions_in_force(tenant: Tenant, at: datetime) -> tuple[QuerySet[Contract], date]:
    """The contract versions covering ``at``'s day in the tenant's time zone, the one
    in force first, and that day."""
    day = at.astimezone(ZoneInfo(tenant.time_zone)).date()
    versions = (
        Contract.objects.filter(tenant=tenant, starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .order_by("-starts_on")
    )
    return versions, day


def contract_in_force(tenant: Tenant, at: datetime) -> Contract:
    """The contract version in force at ``at``: the latest one started on or before
    that day (in the tenant's time zone) and not ended before it."""
    versions, day = _versions_in_force(tenant, at)
    contract = versions.first()
    if contract is None:
        raise NoContract(f"{tenant.slug} has no contract in force on {day}")
    return contract


@transaction.atomic
def add_contract_version(tenant: Tenant, actor=None, **fields) -> Contract:
    """Add a contract version after checking it overlaps no other version of the
    tenant. Locks the tenant row so two versions added at once are checked one
    after the other. Raises ``ValidationError``."""
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    contract = Contract(tenant=tenant, **fields)
    contract.full_clean()
    contract.save()
    if actor is not None:
        from tenants.actions import audit

        audit(tenant, actor, "contract.add", contract, {k: str(v) for k, v in fields.items()})
    return contract


def record_usage(
    tenant: Tenant,
    contact_ref: uuid.UUID,
    *,
    by_ai: bool,
    occurred_at: datetime,
    resolution_number: int = 1,
    decision_ref: uuid.UUID | str | None = None,
) -> UsageRecord | None:
    """Write the one usage record of a resolution, priced by the contract in force
    at ``occurred_at``, with the evidence of why it counts.

    ``decision_ref`` is the public id of the human decision behind a human
    resolution; an AI resolution by definition has none. Idempotent: the same
    (contact, resolution number) twice writes one row and returns None the
    second time. Call inside the resolving transaction."""
    if by_ai and decision_ref is not None:
        raise ValueError("An AI resolution has no human decision")
    if by_ai:
        kind = UsageRecord.Kind.AI_RESOLUTION
        basis = {
            "resolved_by": "ai",
            "human_decision": None,
            "reopen_window_hours": WINDOW_HOURS,
            "counts_as_ai_unless_reopened_before": (occurred_at + REOPEN_WINDOW).isoformat(),
        }
    else:
        kind = UsageRecord.Kind.HUMAN_RESOLUTION
        basis = {
            "resolved_by": "human",
            "human_decision": str(decision_ref) if decision_ref is not None else None,
        }
    # One statement: the contract in force is read by the insert itself (the same
    # query as contract_in_force), and a second write of the same resolution is
    # skipped by the unique constraint instead of raising (no savepoint to roll back
    # to). Resolutions are the desk's busiest write.
    versions, _ = _versions_in_force(tenant, occurred_at)
    in_force_sql, in_force_params = versions.values("id")[:1].query.sql_with_params()
    rows = list(
        UsageRecord.objects.raw(
            f"""
            INSERT INTO billing_usagerecord
                (public_id, tenant_id, contract_id, contact_ref, resolution_number, kind,
                 unit_price, currency, occurred_at, corrects_id, basis, created_at)
            SELECT %s, c.tenant_id, c.id, %s, %s, %s,
                   CASE WHEN %s THEN c.ai_resolution_price ELSE c.human_resolution_price END,
                   c.currency, %s, NULL,
                   %s::jsonb || jsonb_build_object('contract_from', c.starts_on::text),
                   %s
              FROM billing_contract c
             WHERE c.id = ({in_force_sql})
            ON CONFLICT DO NOTHING
            RETURNING {_USAGE_COLUMNS}
            """,  # noqa: S608 (only the compiled subquery is inlined; values are parameters)
            [
                uuid.uuid4(),
                contact_ref,
                resolution_number,
                kind,
                by_ai,
                occurred_at,
                json.dumps(basis),
                timezone.now(),
                *in_force_params,
            ],
        )
    )
    if rows:
        return rows[0]
    # Nothing written: either this resolution is already on the ledger, or no
    # contract prices it (which must not pass silently).
    contract_in_force(tenant, occurred_at)
    return None


def convert_on_reopen(
    tenant: Tenant, contact_ref: uuid.UUID, *, reopened_at: datetime
) -> list[UsageRecord]:
    """A customer came back: if the contact's latest AI resolution is less than
    72 hours old at ``reopened_at``, it did not deflect. Append a reversal (the AI
    fee credited, the explicit exclusion) and a conversion (billed at the human
    price of the same contract version), both pointing at the original row.

    Returns the rows written: none for a human resolution, a reopen after the
    window, a contact never billed, or a resolution already converted. Safe to
    call twice and concurrently: the original row is locked and a unique
    constraint allows one correction of each kind. The corrections are dated at
    the original resolution so they land in its month; if that month's statement
    is already frozen, they are dated now and carried into the open month."""
    with transaction.atomic():
        original = (
            UsageRecord.objects.select_for_update()
            .select_related("contract")
            .filter(tenant=tenant, contact_ref=contact_ref, kind__in=UsageRecord.RESOLUTION_KINDS)
            .order_by("-resolution_number")
            .first()
        )
        if original is None or original.kind != UsageRecord.Kind.AI_RESOLUTION:
            return []
        if original.corrections.exists():
            return []
        age = reopened_at - original.occurred_at
        # A reopen stamped before the resolution is a clock or ordering error, not a reopen.
        if age < timedelta(0) or age >= REOPEN_WINDOW:
            return []
        occurred_at = original.occurred_at
        carried = Statement.objects.filter(
            tenant=tenant, month=statements.month_of(tenant, occurred_at)
        ).exists()
        if carried:
            occurred_at = timezone.now()
        basis = {
            "reason": "reopened_within_window",
            "reopened_at": reopened_at.isoformat(),
            "resolved_at": original.occurred_at.isoformat(),
            "hours_to_reopen": round(age.total_seconds() / 3600, 2),
            "reopen_window_hours": WINDOW_HOURS,
            "carried_forward_from": f"{statements.month_of(tenant, original.occurred_at):%Y-%m}"
            if carried
            else None,
        }
        common = {
            "tenant": tenant,
            "contract": original.contract,
            "contact_ref": original.contact_ref,
            "resolution_number": original.resolution_number,
            "currency": original.currency,
            "occurred_at": occurred_at,
            "corrects": original,
        }
        try:
            with transaction.atomic():
                reversal = UsageRecord.objects.create(
                    kind=UsageRecord.Kind.AI_REVERSAL,
                    unit_price=-original.unit_price,
                    basis={**basis, "excluded": "AI resolution did not deflect"},
                    **common,
                )
                conversion = UsageRecord.objects.create(
                    kind=UsageRecord.Kind.HUMAN_CONVERSION,
                    unit_price=original.contract.human_resolution_price,
                    basis={**basis, "resolved_by": "human"},
                    **common,
                )
        except IntegrityError:
            return []
        return [reversal, conversion]


def freeze_statement(tenant: Tenant, month: date, *, now: datetime | None = None) -> Statement:
    """Freeze a month's statement from the ledger. Idempotent: returns the existing
    statement if the month is already frozen. Refuses a month whose reopen window
    is still open (``ValueError``): its AI resolutions may yet be converted."""
    month = month.replace(day=1)
    now = now or timezone.now()
    existing = Statement.objects.filter(tenant=tenant, month=month).first()
    if existing is not None:
        return existing
    if now < statements.closes_at(tenant, month):
        raise ValueError(
            f"{month:%Y-%m} cannot be frozen before {statements.closes_at(tenant, month)}"
        )
    data = statements.build_statement(tenant, month)
    try:
        with transaction.atomic():
            return Statement.objects.create(
                tenant=tenant,
                month=month,
                time_zone=data.time_zone,
                currency=data.currency,
                lines=[line.to_json() for line in data.lines],
                record_count=data.record_count,
                ai_count=data.ai_count,
                human_count=data.human_count,
                reversed_count=data.reversed_count,
                subtotal=data.subtotal,
                deflection_rate=data.deflection_rate,
                deflection_floor=data.deflection_floor,
                is_below_floor=data.is_below_floor,
                floor_credit_percent=data.floor_credit_percent,
                floor_credit=data.floor_credit,
                total=data.total,
                frozen_at=now,
            )
    except IntegrityError:
        # Frozen meanwhile by another worker: theirs stands.
        return Statement.objects.get(tenant=tenant, month=month)


def freeze_due_statements(*, now: datetime | None = None) -> list[Statement]:
    """Freeze, for every active tenant, the latest month whose reopen window has
    passed (last month from the 4th of the month on). Idempotent."""
    now = now or timezone.now()
    frozen = []
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        month = statements.previous_month(statements.month_of(tenant, now))
        if now < statements.closes_at(tenant, month):
            month = statements.previous_month(month)
        if statements.month_bounds(tenant, month)[1] <= tenant.created_at:
            continue  # the tenant did not exist yet: nothing to state
        if not Statement.objects.filter(tenant=tenant, month=month).exists():
            frozen.append(freeze_statement(tenant, month, now=now))
    return frozen
