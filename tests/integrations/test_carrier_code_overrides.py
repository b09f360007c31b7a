"""Unmapped carrier codes: listed for platform admins, mapped once, applied to past and future scans."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from integrations.actions import map_carrier_code
from integrations.carriers import overrides, registry
from integrations.carriers.polling import store_result
from integrations.models import CarrierCodeOverride, Shipment, TrackingEvent
from integrations.queries import unmapped_codes
from integrations.tasks import apply_carrier_code_override
from tenants.actor import Actor
from tenants.models import AuditEvent
from tests.factories import make_member, make_order, make_tenant

FIXTURES = Path(__file__).parent / "carriers" / "fixtures"
URL = "/carriers/unmapped/"


@pytest.fixture(autouse=True)
def _fresh_override_table():
    overrides.forget()
    yield
    overrides.forget()


def _usps_reply_with_new_code(code: str = "ZZ") -> str:
    """USPS v3 reply whose newest scan carries a code Publication 199 does not list."""
    doc = json.loads((FIXTURES / "usps" / "usps__TrackingResponse.json").read_text())
    doc["trackingEvents"][0]["eventCode"] = code
    doc["trackingEvents"][0]["eventType"] = "Delivered to Parcel Locker"
    doc["statusCategory"] = "Surprise"
    return json.dumps(doc)


def _shipment_with_unmapped_scan(tenant=None) -> Shipment:
    tenant = tenant or make_tenant()
    order = make_order(tenant, shipment_status=None)
    shipment = Shipment.objects.create(
        tenant=tenant, order=order, carrier="usps", tracking_number="9400109104250532908587"
    )
    store_result(shipment, registry.parse("usps", _usps_reply_with_new_code()))
    shipment.refresh_from_db()
    return shipment


@pytest.mark.django_db
def test_unmapped_code_is_listed_with_counts_dates_and_an_example():
    first = _shipment_with_unmapped_scan()
    _shipment_with_unmapped_scan()

    rows = unmapped_codes()

    assert [(r["carrier"], r["code"], r["count"], r["shipments"]) for r in rows] == [
        ("usps", "ZZ", 2, 2)
    ]
    assert rows[0]["example"] == "Delivered to Parcel Locker"
    assert rows[0]["first_seen"] == first.events.get(carrier_code="ZZ").occurred_at
    assert first.status == "in_transit", "an unknown code never decides more than in-transit"


@pytest.mark.django_db
def test_mapping_a_code_updates_past_scans_and_the_shipment_status(
    django_capture_on_commit_callbacks,
):
    shipment = _shipment_with_unmapped_scan()

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        override = map_carrier_code(
            Actor.system(),
            carrier="usps",
            code="ZZ",
            status="delivered",
            substatus="delivered_to_locker",
        )
    assert enqueued, "the re-mapping of stored scans is enqueued on commit"
    apply_carrier_code_override(override_id=override.pk)

    event = shipment.events.get(carrier_code="ZZ")
    assert (event.status, event.substatus) == ("delivered", "delivered_to_locker")
    assert event.raw["is_mapped"] is True
    shipment.refresh_from_db()
    assert (shipment.status, shipment.substatus) == ("delivered", "delivered_to_locker")
    assert shipment.delivered_at == event.occurred_at
    assert unmapped_codes() == []


@pytest.mark.django_db
def test_scans_stored_after_the_mapping_use_it():
    CarrierCodeOverride.objects.create(carrier="usps", code="ZZ", status="delivered")

    shipment = _shipment_with_unmapped_scan()

    event = shipment.events.get(carrier_code="ZZ")
    assert event.status == "delivered"
    assert event.raw["is_mapped"] is True
    assert shipment.status == "delivered"


@pytest.mark.django_db
def test_changing_a_mapping_reaches_scans_mapped_by_it_before(django_capture_on_commit_callbacks):
    CarrierCodeOverride.objects.create(carrier="usps", code="ZZ", status="delivered")
    stored_after = _shipment_with_unmapped_scan()  # mapped as it was stored
    overrides.forget()

    with django_capture_on_commit_callbacks(execute=False):
        override = map_carrier_code(
            Actor.system(), carrier="usps", code="ZZ", status="exception", substatus="lost"
        )
    apply_carrier_code_override(override_id=override.pk)

    event = stored_after.events.get(carrier_code="ZZ")
    assert (event.status, event.substatus) == ("exception", "lost")
    stored_after.refresh_from_db()
    assert stored_after.status == "exception"
    assert AuditEvent.objects.get(verb="carrier_code.mapped").data["previous"] == [
        "delivered",
        "",
    ]


@pytest.mark.django_db
def test_an_override_for_another_carrier_leaves_the_scan_unmapped():
    CarrierCodeOverride.objects.create(carrier="fedex", code="ZZ", status="delivered")

    shipment = _shipment_with_unmapped_scan()

    assert shipment.events.get(carrier_code="ZZ").raw["is_mapped"] is False


@pytest.mark.django_db
def test_mapping_is_audited_in_each_merchant_whose_scans_it_touches(
    django_capture_on_commit_callbacks,
):
    touched = _shipment_with_unmapped_scan().tenant
    untouched = make_tenant()

    with django_capture_on_commit_callbacks(execute=False):
        map_carrier_code(Actor.system(), carrier="usps", code="ZZ", status="delivered")

    row = AuditEvent.objects.get(verb="carrier_code.mapped")
    assert row.tenant == touched
    assert row.data == {
        "carrier": "usps",
        "code": "ZZ",
        "status": "delivered",
        "substatus": "",
        "previous": None,
    }
    assert not AuditEvent.objects.filter(tenant=untouched, verb="carrier_code.mapped").exists()


@pytest.mark.django_db
def test_admin_sees_the_page_and_maps_through_the_form(client, django_capture_on_commit_callbacks):
    shipment = _shipment_with_unmapped_scan()
    admin = make_member(shipment.tenant, "admin")
    client.force_login(admin)

    page = client.get(URL).content.decode()
    assert "ZZ" in page and "Delivered to Parcel Locker" in page

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            URL, {"carrier": "usps", "code": "ZZ", "status": "exception", "substatus": "lost"}
        )
    assert response.status_code == 302
    override = CarrierCodeOverride.objects.get(carrier="usps", code="ZZ")
    assert (override.status, override.substatus, override.created_by) == (
        "exception",
        "lost",
        admin,
    )


@pytest.mark.django_db
def test_invalid_status_is_refused_without_a_mapping(client):
    client.force_login(make_member(make_tenant(), "admin"))

    response = client.post(URL, {"carrier": "usps", "code": "ZZ", "status": "lost_in_space"})

    assert response.status_code == 200
    assert not CarrierCodeOverride.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["specialist", "lead", "account_manager", "merchant_admin"])
def test_merchant_roles_cannot_map_codes(client, role):
    client.force_login(make_member(make_tenant(), role))

    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"carrier": "usps", "code": "ZZ", "status": "delivered"}).status_code
        == 403
    )
    assert not CarrierCodeOverride.objects.exists()


@pytest.mark.django_db
def test_staff_user_without_a_membership_may_map(client):
    user = make_member(make_tenant(), "merchant_admin")
    user.is_staff = True
    user.save()
    client.force_login(user)

    assert client.get(URL).status_code == 200


def test_worker_remaps_stored_scans_after_the_form_is_posted(client, celery_worker):
    shipment = _shipment_with_unmapped_scan()
    client.force_login(make_member(shipment.tenant, "admin"))

    client.post(URL, {"carrier": "usps", "code": "ZZ", "status": "delivered", "substatus": ""})

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if TrackingEvent.objects.filter(carrier_code="ZZ", status="delivered").exists():
            break
        time.sleep(0.2)
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
