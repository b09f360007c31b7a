"""The demo: seeding is idempotent, demo_info describes it, the simulator streams contacts."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from desk.models import Contact
from integrations.models import Order
from tenants.models import ApiKey, Membership, Tenant, User
from tenants.roles import Role

pytestmark = pytest.mark.django_db


def test_seeding_twice_creates_nothing_new():
    call_command("seed_demo", stdout=StringIO())
    counts = (
        Tenant.objects.count(),
        User.objects.count(),
        Order.objects.count(),
        Membership.objects.count(),
    )
    call_command("seed_demo", stdout=StringIO())
    assert counts == (
        Tenant.objects.count(),
        User.objects.count(),
        Order.objects.count(),
        Membership.objects.count(),
    )
    assert counts[0] == 3


def test_demo_has_a_login_for_every_role():
    call_command("seed_demo", stdout=StringIO())
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)


def test_demo_info_json_describes_logins_keys_webhooks_and_sample_orders(client):
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("demo_info", "--json", stdout=out)
    info = json.loads(out.getvalue())

    assert info["base_url"].startswith("http://")
    assert {login["email"] for login in info["logins"]} >= {
        "specialist@demo.desk",
        "lead@demo.desk",
    }
    assert len(info["tenants"]) == 3
    for tenant in info["tenants"]:
        assert ApiKey.split(tenant["api_key"]) is not None
        assert tenant["webhooks"][0]["secret"]
        for situation in ("in_transit", "delivered", "delivered_over_200", "exception"):
            assert tenant["sample_orders"][situation], (tenant["slug"], situation)
        big = tenant["sample_orders"]["delivered_over_200"][0]
        assert float(big["total"]) > 200
    # The printed key really authenticates against the API.
    key = info["tenants"][0]["api_key"]
    response = client.get(
        "/api/v1/contacts/00000000-0000-0000-0000-000000000000",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 404  # authenticated, just no such contact


def test_simulator_sends_contacts_for_the_demo_tenants(django_capture_on_commit_callbacks):
    call_command("seed_demo", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=False):
        call_command(
            "simulate", "--count", "25", "--interval", "0", "--seed", "3", stdout=StringIO()
        )
    contacts = Contact.objects.all()
    assert contacts.count() == 25
    assert contacts.values("tenant").distinct().count() == 3
    assert contacts.filter(order__isnull=True).exists()  # some arrive without an order number
    assert {c.channel for c in contacts} > {"email"}
