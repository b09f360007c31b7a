"""The sandbox carrier feed's webhook topics.

``tracking/scan``: {"tracking_number", "carrier", "occurred_at" (ISO 8601 with
offset), "status", "description", "code", "city", "region", "country"}."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from integrations.actions import record_tracking_event
from integrations.models import Shipment, TrackingStatus

if TYPE_CHECKING:
    from integrations.webhooks import Delivery


def process(delivery: Delivery) -> None:
    connection, topic, payload = delivery.connection, delivery.topic, delivery.payload
    if topic != "tracking/scan":
        raise ValueError(f"Unknown topic {topic!r}")
    status = payload["status"]
    if status not in TrackingStatus.values:
        raise ValueError(f"Unknown status {status!r}")
    occurred_at = datetime.fromisoformat(payload["occurred_at"])
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must carry a UTC offset")
    shipment = Shipment.objects.filter(
        tenant=connection.tenant,
        carrier=payload["carrier"],
        tracking_number=payload["tracking_number"],
    ).first()
    if shipment is None:
        raise ValueError(f"Unknown shipment {payload['carrier']} {payload['tracking_number']}")
    record_tracking_event(
        shipment,
        occurred_at=occurred_at,
        status=status,
        description=str(payload.get("description", ""))[:255],
        carrier_code=str(payload.get("code", ""))[:32],
        city=str(payload.get("city", ""))[:80],
        region=str(payload.get("region", ""))[:80],
        country=str(payload.get("country", ""))[:2],
        raw=payload,
    )
