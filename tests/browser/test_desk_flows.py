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


def test_a_reply_that_fails_shows_so_live_with_send_again(browser, asgi_server):
    from integrations.messaging import actions as outbox
    from integrations.messaging.clients import PermanentError
    from integrations.messaging.models import OutboundMessage
    from tests.desk.test_live_inbox import _escalate

    tenant = make_tenant()
    alice = make_member(tenant, Role.SPECIALIST, email="alice@example.com")
    contact = _escalate(tenant)
    message = actions.send_reply(contact, alice, "Could you send a photo of the parcel?")
    page = sign_in(browser, asgi_server, "alice@example.com")
    page.goto(f"{asgi_server}/contacts/{contact.public_id}/")
    badge = page.locator(f"#delivery-{message.pk}")
    assert badge.inner_text() == "Queued"
    page.wait_for_selector("#viewers:has-text('alice@example.com')")  # the socket is in

    row = OutboundMessage.objects.get(idempotency_key=f"desk-message:{message.pk}")
    outbox.fail(row, PermanentError("550 Mailbox unavailable", code="550"))

    page.wait_for_selector(f"#delivery-{message.pk}:has-text('Not delivered')", timeout=10_000)
    failure = page.locator(f"#delivery-failure-{message.pk}")
    assert "550 Mailbox unavailable" in failure.inner_text()
    assert failure.locator("button:has-text('Send again')").count() == 1
