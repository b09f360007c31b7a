"""Real Chromium: two specialists racing for one case, and the keyboard flow."""

from __future__ import annotations

import pytest

from desk import actions
from desk.models import Contact, Proposal
from integrations.models import Refund
from tenants.actor import Actor
from tenants.roles import Role
from tests.browser.conftest import HAS_CHROMIUM, sign_in
from tests.conftest import wait_for
from tests.factories import make_member, make_order, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]


def _escalated_refund(tenant):
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    contact = actions.create_contact(
        tenant,
        actor=Actor.system("test"),
        channel="email",
        customer_email=order.email,
        order_number=order.number,
        subject="Refund please",
        body="I want a refund for my order",
    )
    wait_for(lambda: Contact.objects.get(pk=contact.pk).status == Contact.Status.ESCALATED)
    return order, contact


def test_two_specialists_racing_for_one_contact_refund_once(browser, asgi_server, celery_worker):
    tenant = make_tenant()
    make_member(tenant, Role.SPECIALIST, email="alice@example.com")
    make_member(tenant, Role.SPECIALIST, email="bob@example.com")
    order, contact = _escalated_refund(tenant)
    alice, bob = (
        sign_in(browser, asgi_server, e) for e in ("alice@example.com", "bob@example.com")
    )
    url = f"{asgi_server}/contacts/{contact.public_id}/"
    alice.goto(url)
    bob.goto(url)
    # Each sees the other on the case before anyone acts.
    alice.wait_for_selector("#viewers:has-text('bob@example.com')")
    bob.wait_for_selector("#viewers:has-text('alice@example.com')")

    alice.click("#approve-button")
    bob.click("#approve-button")

    alice.wait_for_selector("#proposal-status:text('Executed')", timeout=15_000)
    bob.wait_for_selector(
        "#decision-panel .error, #proposal-status:text('Executed')", timeout=15_000
    )
    wait_for(lambda: Contact.objects.get(pk=contact.pk).status == Contact.Status.RESOLVED)
    assert Refund.objects.filter(order=order).count() == 1
    assert Proposal.objects.get(contact=contact).decisions.count() == 1


def test_keyboard_next_then_approve(browser, asgi_server, celery_worker):
    tenant = make_tenant()
    make_member(tenant, Role.SPECIALIST, email="keys@example.com")
    order, contact = _escalated_refund(tenant)
    page = sign_in(browser, asgi_server, "keys@example.com")
    page.wait_for_selector(f"#contact-{contact.public_id}")

    page.keyboard.press("n")  # claim the next escalation
    page.wait_for_url(f"{asgi_server}/contacts/{contact.public_id}/")
    assert "You are working on this" in page.inner_text("#decision-panel")
    page.keyboard.press("a")  # approve
    page.wait_for_selector("#proposal-status:text('Executed')", timeout=15_000)
    assert Refund.objects.filter(order=order).count() == 1
    page.keyboard.press("Escape")
    page.wait_for_url(f"{asgi_server}/inbox/")
