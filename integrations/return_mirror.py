"""Returns that live in a returns platform, mirrored onto the order they belong to.

AfterShip Returns and Loop hold returns the customer opened on the merchant's
returns page; the desk needs them beside the order so an agent can answer
"where is my refund for the return?" and so no second label is offered for
the same items. Each platform's mapping produces a ``ReturnData``;
``apply_return`` writes it into ``integrations.Return`` once per platform id,
never letting an older notification overwrite a newer one.

A tenant connects at most one returns platform that opens returns for the
desk (``returns_platform_for``): when it exists, approved returns are opened
there instead of on the store, so the customer gets the platform's label and
e-mails and the merchant's policy there still applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from integrations.commerce import Capability, CommerceAdapter, claim_version
from integrations.models import Connection, Order, Return

if TYPE_CHECKING:
    from tenants.models import Tenant


@dataclass
class ReturnLine:
    sku: str
    title: str
    quantity: int
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku[:64],
            "title": self.title[:200],
            "quantity": self.quantity,
            "reason": self.reason[:255],
        }


@dataclass
class ReturnData:
    external_id: str
    status: str  # a Return.Status value
    provider_status: str = ""  # the platform's own word, shown to agents as is
    reference: str = ""  # the RMA or return number the customer knows
    resolution: str = ""  # refund, exchange, store_credit…
    order_external_id: str = ""
    order_number: str = ""
    lines: list[ReturnLine] = field(default_factory=list)
    label_carrier: str = ""
    label_tracking_number: str = ""
    label_url: str = ""
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class UnknownReturnOrder(LookupError):
    """The return is about an order the mirror does not hold."""


def _order_for(tenant: Tenant, data: ReturnData) -> Order | None:
    """The store's id first (the platform copies it from the store), then the number."""
    orders = Order.objects.select_for_update().filter(tenant=tenant)
    if data.order_external_id:
        found = orders.filter(external_id=data.order_external_id).first()
        if found is not None:
            return found
    number = data.order_number.lstrip("#").strip()
    return orders.filter(number=number).first() if number else None


@transaction.atomic
def apply_return(
    connection: Connection, data: ReturnData, *, version_at: datetime | None
) -> Return | None:
    """Create or update the mirrored return; None when a newer state was applied already.

    The order row lock serialises this with the executor opening a return on
    the same order, so the platform's notification of a return we opened
    ourselves updates that row instead of adding a second one."""
    tenant = connection.tenant
    order = _order_for(tenant, data)
    if order is None:
        raise UnknownReturnOrder(
            f"Order {data.order_number or data.order_external_id or '?'} is not mirrored"
        )
    if not claim_version(connection, "return", data.external_id, version_at):
        return None
    fields = {
        "order": order,
        "status": data.status,
        "provider_status": data.provider_status[:32],
        "reference": data.reference[:64],
        "resolution": data.resolution[:32],
        "lines": [line.as_dict() for line in data.lines],
        "raw": data.raw,
    }
    # A label the platform has not issued yet must not erase one it gave before.
    for name in ("label_carrier", "label_tracking_number", "label_url"):
        value = getattr(data, name)
        if value:
            fields[name] = value[: Return._meta.get_field(name).max_length]
    row = (
        Return.objects.select_for_update()
        .filter(connection=connection, external_id=data.external_id)
        .first()
    )
    if row is None:
        row = Return.objects.create(
            tenant=tenant,
            connection=connection,
            external_id=data.external_id[:64],
            idempotency_key=f"{connection.provider}:{data.external_id}"[:128],
            **fields,
        )
        return row
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def record_opened_return(
    connection: Connection, order: Order, data: ReturnData, *, idempotency_key: str, note: str
) -> Return:
    """Mirror a return the platform just opened for us. Idempotent on the key, and
    adopts the row the platform's webhook may have written first."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        mine = Return.objects.filter(tenant=locked.tenant, idempotency_key=idempotency_key).first()
        if mine is not None:
            return mine
        theirs = Return.objects.filter(connection=connection, external_id=data.external_id).first()
        if theirs is not None:
            theirs.idempotency_key = idempotency_key
            theirs.note = theirs.note or note[:255]
            theirs.save(update_fields=["idempotency_key", "note", "updated_at"])
            return theirs
        return Return.objects.create(
            tenant=locked.tenant,
            order=locked,
            connection=connection,
            external_id=data.external_id[:64],
            idempotency_key=idempotency_key,
            status=data.status,
            provider_status=data.provider_status[:32],
            reference=data.reference[:64],
            resolution=data.resolution[:32],
            lines=[line.as_dict() for line in data.lines],
            label_carrier=data.label_carrier[:32],
            label_tracking_number=data.label_tracking_number[:64],
            label_url=data.label_url[:500],
            note=note[:255],
            raw=data.raw,
        )


def returns_platform_for(tenant: Tenant) -> CommerceAdapter | None:
    """The adapter of the tenant's returns platform that opens returns, if one is connected."""
    from integrations import providers

    for connection in Connection.objects.filter(
        tenant=tenant, kind=Connection.Kind.CX, is_active=True
    ).order_by("pk"):
        spec = providers.find(connection.provider)
        if spec is None or not spec.adapter:
            continue
        adapter = spec.adapter_class()(tenant, connection)
        if adapter.supports(Capability.CREATE_RETURN):
            return adapter
    return None


def store_line_ids(order: Order) -> dict[str, str]:
    """The store's own id of each order line, by SKU, read from the mirrored payload.

    Returns platforms name order lines by the store's line id. The mirror keeps
    lines by SKU, so the id is found again in the store's payload: REST shapes
    (Shopify, WooCommerce, BigCommerce) list ``line_items``; Shopify's GraphQL
    lists ``lineItems.nodes`` with global ids."""
    raw = order.raw if isinstance(order.raw, dict) else {}
    items = raw.get("line_items")
    if not isinstance(items, list):
        items = (raw.get("lineItems") or {}).get("nodes") or []
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        sku = str(item.get("sku") or "")
        line_id = str(item.get("legacyResourceId") or item.get("id") or "")
        if line_id.startswith("gid://"):
            line_id = line_id.rsplit("/", 1)[-1]
        if sku and line_id:
            found.setdefault(sku, line_id)
    return found
