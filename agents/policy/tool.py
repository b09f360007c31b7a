"""The agent's view of the returns policy: one order line in, one explained decision out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from agents.policy.cache import compiled_policy
from agents.policy.engine import FactsError, LineFacts
from agents.policy.schema import CONDITIONS, REASONS
from integrations.models import OrderLine
from tenants.models import Tenant


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    # The planner may say "changed mind" or "Damaged-in-transit"; accept those spellings.
    normal = value.strip().lower().replace("-", "_").replace(" ", "_")
    if normal not in allowed:
        raise FactsError(name, f"{value!r} is not one of {', '.join(allowed)}")
    return normal


def _raw_line(raw: dict[str, Any], sku: str) -> dict[str, Any]:
    """The store's own payload for this line, when the mirror kept one (Shopify shape)."""
    for item in raw.get("line_items") or []:
        if isinstance(item, dict) and item.get("sku") == sku:
            return item
    return {}


def _tags(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(t.strip() for t in value.split(",") if t.strip())
    if isinstance(value, list):
        return frozenset(str(t) for t in value)
    return frozenset()


def line_facts(order_line: OrderLine, *, condition: str, reason: str) -> LineFacts:
    """Facts about a mirrored order line, all from system data except condition and reason."""
    order = order_line.order
    raw = order.raw if isinstance(order.raw, dict) else {}
    item = _raw_line(raw, order_line.sku)
    tags = _tags(item.get("tags")) | _tags(raw.get("tags"))
    lowered = {t.lower() for t in tags}
    shipments = list(order.shipments.all())
    shipped = [s.shipped_at for s in shipments if s.shipped_at]
    delivered = [s.delivered_at for s in shipments if s.delivered_at]
    address = order.shipping_address or {}
    country = address.get("country_code") or address.get("country") or ""
    return LineFacts(
        sku=order_line.sku,
        unit_price=order_line.unit_price,
        quantity=order_line.quantity,
        product_type=order_line.product_type,
        tags=tags,
        sales_channel=order.sales_channel,
        country=country if len(country) == 2 else "",
        is_vip=bool(order.customer and order.customer.is_vip),
        ordered_at=order.placed_at,
        fulfilled_at=min(shipped) if shipped else None,
        delivered_at=max(delivered) if delivered else None,
        condition=_choice("condition", condition, CONDITIONS),
        reason=_choice("reason", reason, REASONS),
        is_final_sale=order_line.is_final_sale,
        is_hygiene="hygiene" in lowered,
        is_gift=bool(raw.get("is_gift")) or "gift" in lowered,
        is_bundle="bundle" in lowered or bool(item.get("bundle")),
        currency=order.currency,
    )


def evaluate_return(
    tenant: Tenant,
    order_line: OrderLine,
    *,
    condition: str,
    reason: str,
    today: date | datetime | None = None,
) -> dict[str, Any]:
    """The policy decision for returning ``order_line``, JSON-ready, with the rule path.

    Without a published policy the answer is ``review``: no rule, so a human decides.
    Raises FactsError for a condition or reason the policy format does not know."""
    if order_line.order.tenant_id != tenant.pk:
        raise ValueError("The order line belongs to another tenant")
    facts = line_facts(order_line, condition=condition, reason=reason)
    policy = compiled_policy(tenant)
    line = {"sku": order_line.sku, "title": order_line.title, "quantity": order_line.quantity}
    if policy is None:
        return {
            **line,
            "outcome": "review",
            "rule_id": None,
            "policy_version": None,
            "currency": tenant.currency,
            "message": "This merchant has no published returns policy.",
            "path": [],
        }
    return {**line, **policy.evaluate(facts, today).to_dict()}
