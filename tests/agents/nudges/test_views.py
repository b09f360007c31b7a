"""Rules editor and outbox report: who may see them, and what they show."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.nudges.models import NudgeRule
from integrations.messaging.models import OutboundMessage
from tenants.models import AuditEvent
from tenants.roles import Role
from tests.agents.nudges.helpers import make_rule
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.agents.nudges.urls")]


@pytest.fixture
def shop():
    tenant = make_tenant(slug="shop")
    rule = make_rule(tenant)
    return tenant, rule


def _form(**overrides):
    data = {
        "name": "Out for delivery",
        "trigger": "out_for_delivery",
        "delay_days": "3",
        "channels": "sms, email",
        "templates": json.dumps(
            {"en": {"subject": "#{{ order_number }}", "body": "Hi {{ first_name }}"}}
        ),
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "cap_count": "3",
        "cap_hours": "24",
        "suppress_while_contact_open": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def _pages(tenant, rule):
    return {
        "rules": reverse("nudges:rules", kwargs={"slug": tenant.slug}),
        "rule": reverse("nudges:rule", kwargs={"slug": tenant.slug, "rule_id": rule.public_id}),
        "outbox": reverse("nudges:outbox", kwargs={"slug": tenant.slug}),
    }


@pytest.mark.parametrize(
    ("page", "allowed", "too_low"),
    [
        ("rules", Role.ACCOUNT_MANAGER, Role.LEAD),
        ("rule", Role.ACCOUNT_MANAGER, Role.MERCHANT_ADMIN),
        ("outbox", Role.MERCHANT_ADMIN, Role.SPECIALIST),
    ],
)
def test_tenant_trio(client, shop, page, allowed, too_low):
    url = _pages(*shop)[page]
    client.force_login(make_member(shop[0], allowed))
    assert client.get(url).status_code == 200
    client.force_login(make_member(shop[0], too_low))
    assert client.get(url).status_code == 403
    client.force_login(make_member(make_tenant(), Role.ADMIN))
    assert client.get(url).status_code == 404


def test_preview_trio(client, shop):
    url = reverse("nudges:preview", kwargs={"slug": "shop"})
    client.force_login(make_member(shop[0], Role.ADMIN))
    assert client.post(url, _form()).status_code == 200
    client.force_login(make_member(shop[0], Role.SPECIALIST))
    assert client.post(url, _form()).status_code == 403
    client.force_login(make_member(make_tenant(), Role.ACCOUNT_MANAGER))
    assert client.post(url, _form()).status_code == 404


def test_another_tenants_rule_is_not_found(client, shop):
    other_rule = make_rule(make_tenant())
    client.force_login(make_member(shop[0], Role.ACCOUNT_MANAGER))
    url = reverse("nudges:rule", kwargs={"slug": "shop", "rule_id": other_rule.public_id})
    assert client.get(url).status_code == 404


def test_creating_a_rule_redirects_and_audits(client, shop):
    client.force_login(make_member(shop[0], Role.ACCOUNT_MANAGER))
    response = client.post(reverse("nudges:rules", kwargs={"slug": "shop"}), _form(name="New one"))
    assert response.status_code == 302
    rule = NudgeRule.objects.get(tenant=shop[0], name="New one")
    assert rule.channels == ["sms", "email"]
    assert AuditEvent.objects.filter(tenant=shop[0], verb="nudge_rule.create").exists()


def test_unknown_variable_and_channel_are_refused(client, shop):
    client.force_login(make_member(shop[0], Role.ACCOUNT_MANAGER))
    data = _form(
        channels="pigeon",
        templates=json.dumps({"en": {"body": "Hi {{ customer.password }} {{ secret }}"}}),
    )
    response = client.post(reverse("nudges:rules", kwargs={"slug": "shop"}), data)
    assert response.status_code == 400
    assert b"Unknown channel(s): pigeon" in response.content
    assert b"unknown variable(s) secret" in response.content


def test_rule_page_previews_the_message_for_the_latest_shipment(client, shop):
    tenant, rule = shop
    order = make_order(tenant)
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    response = client.get(_pages(tenant, rule)["rule"])
    assert f"#{order.number}".encode() in response.content
    assert f"Order {order.number}: In transit".encode() in response.content


def test_htmx_preview_returns_only_the_partial(client, shop):
    client.force_login(make_member(shop[0], Role.ACCOUNT_MANAGER))
    response = client.post(
        reverse("nudges:preview", kwargs={"slug": "shop"}), _form(), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.strip().startswith('<section class="card" id="rule-preview">')
    assert "Hi Ada" in body  # no shipment yet: the made-up sample


def test_outbox_report_counts_per_channel_and_trigger_and_attribution(client, shop):
    tenant, _ = shop
    nudged, quiet, asked = (make_order(tenant).shipments.get() for _ in range(3))
    for i, (shipment, state) in enumerate([(nudged, "delivered"), (quiet, "failed")]):
        OutboundMessage.objects.create(
            tenant=tenant,
            channel="sms",
            trigger="out_for_delivery",
            state=state,
            idempotency_key=f"k{i}",
            shipment=shipment,
        )
    OutboundMessage.objects.create(
        tenant=tenant,
        channel="email",
        trigger="delivered",
        state="skipped",
        skip_reason="frequency_cap",
        idempotency_key="k9",
        shipment=quiet,
    )
    make_contact(tenant, order=asked.order)
    client.force_login(make_member(tenant, Role.LEAD))
    response = client.get(_pages(*shop)["outbox"])
    context = response.context
    assert context["rows"] == [
        {"channel": "email", "trigger": "delivered", "skipped": 1},
        {"channel": "sms", "trigger": "out_for_delivery", "delivered": 1, "failed": 1},
    ]
    attribution = context["attribution"]
    assert (attribution["nudged"], attribution["nudged_contacted"]) == (1, 0)
    assert (attribution["other"], attribution["other_contacted"]) == (2, 1)
    assert attribution["other_rate"] == 50.0


def test_outbox_report_runs_a_fixed_number_of_queries(client, shop, django_assert_max_num_queries):
    tenant, _ = shop
    for i in range(20):
        OutboundMessage.objects.create(
            tenant=tenant, channel="email", trigger="shipped", idempotency_key=f"q{i}"
        )
    client.force_login(make_member(tenant, Role.LEAD))
    # session, user, membership+tenant, outcomes, skip reasons, attribution, undelivered
    # desk messages and their contacts, failed nudges with their parcels, + menu context
    with django_assert_max_num_queries(13):
        assert client.get(_pages(*shop)["outbox"]).status_code == 200


def test_the_outbox_lists_desk_messages_that_failed_with_their_contacts(client, shop):
    from desk.delivery import deliver
    from desk.models import Message
    from integrations.messaging.actions import INTERRUPTED_SEND_ERROR

    tenant, _ = shop
    contact = make_contact(tenant, order=make_order(tenant), subject="Where is my parcel")
    reply = Message.objects.create(
        contact=contact, direction="outbound", author_type="agent", body="On its way"
    )
    deliver(reply)
    OutboundMessage.objects.filter(idempotency_key=f"desk-message:{reply.pk}").update(
        state="failed", error=INTERRUPTED_SEND_ERROR, failed_at=timezone.now()
    )
    # A failed nudge is counted above, not listed here; so is another merchant's reply.
    OutboundMessage.objects.create(
        tenant=tenant, channel="sms", trigger="shipped", state="failed", idempotency_key="n1"
    )
    elsewhere = make_tenant()
    OutboundMessage.objects.create(
        tenant=elsewhere,
        channel="email",
        trigger="desk_reply",
        state="failed",
        idempotency_key="desk-message:999999",
    )
    # A row of this merchant's whose key names another merchant's message shows no contact.
    theirs = Message.objects.create(
        contact=make_contact(elsewhere, subject="Their parcel"),
        direction="outbound",
        author_type="agent",
        body="Not yours",
    )
    OutboundMessage.objects.create(
        tenant=tenant,
        channel="email",
        trigger="desk_reply",
        state="failed",
        failed_at=timezone.now() - timedelta(minutes=1),
        idempotency_key=f"desk-message:{theirs.pk}",
    )

    client.force_login(make_member(tenant, Role.LEAD))
    response = client.get(_pages(*shop)["outbox"])
    row, foreign = response.context["undelivered"]
    assert row["contact"] == contact
    assert foreign["contact"] is None
    body = response.content.decode()
    assert reverse("desk:contact", kwargs={"contact_id": contact.public_id}) in body
    assert "may or may not have it" in body

    # A merchant admin sees the list but has no desk to open the contact in.
    client.force_login(make_member(tenant, Role.MERCHANT_ADMIN))
    body = client.get(_pages(*shop)["outbox"]).content.decode()
    assert "Where is my parcel" in body
    assert reverse("desk:contact", kwargs={"contact_id": contact.public_id}) not in body


def _failed_nudge(tenant, *, about_status="out_for_delivery", key="n-ofd-1"):
    """A nudge the provider refused, about a parcel that was ``about_status`` then."""
    shipment = make_order(tenant, shipment_status=about_status).shipments.get()
    return OutboundMessage.objects.create(
        tenant=tenant,
        channel="email",
        to="ada@example.com",
        subject="Out for delivery",
        body="Your parcel is out for delivery today.",
        trigger="out_for_delivery",
        state="failed",
        error="Mailbox unavailable",
        failed_at=timezone.now(),
        idempotency_key=key,
        shipment=shipment,
        context={"shipment_status": about_status},
    )


def _send_nudge_again(client, tenant, message):
    return client.post(
        reverse(
            "nudges:send-nudge-again",
            kwargs={"slug": tenant.slug, "message_id": message.public_id},
        )
    )


def test_a_failed_nudge_is_sent_again_once_by_whoever_runs_the_nudges(
    client, shop, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core import mail

    from integrations.messaging import tasks

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    handed_over = []
    monkeypatch.setattr(
        tasks.send_messages, "delay", lambda *, message_ids: handed_over.append(message_ids)
    )
    tenant, _ = shop
    nudge = _failed_nudge(tenant)
    manager = make_member(tenant, Role.ACCOUNT_MANAGER)
    client.force_login(manager)
    page = client.get(_pages(*shop)["outbox"]).content.decode()
    assert "Mailbox unavailable" in page and "Send again" in page

    with django_capture_on_commit_callbacks(execute=True):
        first = _send_nudge_again(client, tenant, nudge)
        second = _send_nudge_again(client, tenant, nudge)  # a double click
    assert (first.status_code, second.status_code) == (302, 302)
    assert first["Location"].endswith("#failed-nudges")
    nudge.refresh_from_db()
    assert (nudge.state, nudge.error) == ("queued", "")
    flashes = [str(m) for m in client.get(first["Location"]).context["messages"]]
    assert flashes == [
        "Sending it to ada@example.com again.",
        "This message is queued, not failed.",
    ]
    event = AuditEvent.objects.get(tenant=tenant, verb="message.sent_again")
    assert event.actor_user == manager

    assert handed_over == [[nudge.pk]]  # by the first click only
    tasks.send_messages.run(message_ids=handed_over[0])
    assert [m.body for m in mail.outbox] == ["Your parcel is out for delivery today."]


def test_a_nudge_about_a_parcel_that_has_moved_on_is_not_sent_again(client, shop):
    tenant, _ = shop
    nudge = _failed_nudge(tenant)
    nudge.shipment.status = "delivered"
    nudge.shipment.save(update_fields=["status"])
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    page = client.get(_pages(*shop)["outbox"]).content.decode()
    assert "Parcel delivered since: not sent again" in page
    assert "Send again" not in page

    response = _send_nudge_again(client, tenant, nudge)
    assert response.status_code == 302
    flashes = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert flashes == ["The parcel is delivered now; this message would mislead."]
    nudge.refresh_from_db()
    assert nudge.state == "failed"


def test_only_whoever_runs_this_merchant_s_nudges_may_send_one_again(client, shop):
    from desk.delivery import deliver
    from desk.models import Message

    tenant, _ = shop
    nudge = _failed_nudge(tenant)

    # A lead watches the outcomes but does not run the nudges.
    client.force_login(make_member(tenant, Role.LEAD))
    assert "Send again" not in client.get(_pages(*shop)["outbox"]).content.decode()
    assert _send_nudge_again(client, tenant, nudge).status_code == 403

    other = make_tenant()
    client.force_login(make_member(other, Role.ACCOUNT_MANAGER))
    assert _send_nudge_again(client, other, nudge).status_code == 404

    # A desk reply goes again from its contact, where the contact's claim applies.
    contact = make_contact(tenant, order=make_order(tenant))
    reply = Message.objects.create(
        contact=contact, direction="outbound", author_type="agent", body="On its way"
    )
    deliver(reply)
    desk_row = OutboundMessage.objects.get(idempotency_key=f"desk-message:{reply.pk}")
    OutboundMessage.objects.filter(pk=desk_row.pk).update(state="failed")
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    assert _send_nudge_again(client, tenant, desk_row).status_code == 404
    assert (
        client.post(
            reverse("nudges:send-nudge-again", kwargs={"slug": tenant.slug, "message_id": "nope"})
        ).status_code
        == 404
    )
    nudge.refresh_from_db()
    desk_row.refresh_from_db()
    assert (nudge.state, desk_row.state) == ("failed", "failed")
