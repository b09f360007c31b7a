"""A customer's data can be exported and erased without breaking the books."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from desk.models import Contact, Message
from integrations.models import Order
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db


def test_export_contains_the_customers_contacts_and_orders():
    tenant = make_tenant()
    order = make_order(tenant)
    make_contact(tenant, order=order, body="where is my parcel")
    out = StringIO()
    call_command("export_customer", "--tenant", tenant.slug, "--email", order.email, stdout=out)
    data = json.loads(out.getvalue())
    assert data["orders"][0]["number"] == order.number
    assert data["contacts"][0]["messages"][0]["body"] == "where is my parcel"


def test_erasure_anonymises_everywhere_and_keeps_the_rows():
    tenant = make_tenant()
    order = make_order(tenant)
    contact = make_contact(tenant, order=order, body="my address is 1 Elm St")
    other = make_contact(make_tenant(), customer_email=order.email, body="other tenant keeps this")

    call_command(
        "erase_customer",
        "--tenant",
        tenant.slug,
        "--email",
        order.email,
        "--yes",
        stdout=StringIO(),
    )

    contact.refresh_from_db()
    assert contact.customer_email.startswith("erased-") and contact.customer_email.endswith(
        "@invalid"
    )
    assert Message.objects.get(contact=contact).body == "[erased]"
    assert Order.objects.get(pk=order.pk).email == contact.customer_email
    assert Contact.objects.filter(tenant=tenant).count() == 1
    assert Message.objects.get(contact=other).body == "other tenant keeps this"


def test_erasure_needs_confirmation():
    tenant = make_tenant()
    with pytest.raises(CommandError, match="--yes"):
        call_command("erase_customer", "--tenant", tenant.slug, "--email", "a@example.com")
