"""In a real Chromium: an escalation appears live, the specialist approves it,
and the refund is executed once by the real worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desk import actions
from desk.models import Contact
from integrations.models import Refund
from tenants.actor import Actor
from tenants.roles import Role
from tests.browser.conftest import HAS_CHROMIUM
from tests.conftest import wait_for
from tests.factories import make_member, make_order, make_tenant

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not HAS_CHROMIUM, reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]


@pytest.fixture
def page(browser):
    return browser.new_page(viewport={"width": 1400, "height": 900})


def test_escalation_appears_live_and_approval_refunds_once(page, asgi_server, celery_worker):
    tenant = make_tenant(name="Northwind Outfitters")
    specialist = make_member(tenant, Role.SPECIALIST, email="sam@example.com")
    order = make_order(tenant, total="300.00", shipment_status="delivered")

    page.goto(f"{asgi_server}/accounts/login/")
    page.fill("input[name=login]", specialist.email)
    page.fill("input[name=password]", "test-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{asgi_server}/inbox/")
    page.wait_for_selector("#live-status:not(.offline)")
    page.wait_for_function("() => document.querySelector('[ws-connect]') && window.htmx")
    page.wait_for_timeout(300)  # let the socket join its groups
    assert page.locator(".inbox-row").count() == 0

    contact = actions.create_contact(
        tenant,
        actor=Actor.system("test"),
        channel="email",
        customer_email=order.email,
        order_number=order.number,
        subject="Refund for my parka",
        body="I want a refund for my order please",
    )

    row = page.locator(f"#contact-{contact.public_id}")
    row.wait_for(timeout=10_000)  # pushed over the websocket: no reload
    assert "Refund 300.00" in row.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox.png"))

    row.click()
    page.wait_for_selector("#approve-button")
    assert "above the auto-refund limit" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "decision-packet.png"), full_page=True)
    page.click("#approve-button")
    page.wait_for_selector("#proposal-status:text('Executed')", timeout=15_000)

    wait_for(lambda: Contact.objects.get(pk=contact.pk).status == Contact.Status.RESOLVED)
    assert Refund.objects.filter(order=order).count() == 1
    assert os.path.exists(ARTIFACTS / "inbox.png")
