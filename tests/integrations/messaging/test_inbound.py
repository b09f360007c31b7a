"""Customers' SMS, WhatsApp and email become contacts, or join the one they answer.

Payloads are shaped like each provider's documentation: Twilio's form-encoded
incoming-message webhook, the Cloud API's ``whatsapp_business_account``
notification, Postmark's inbound JSON. The webhook keeps the message; the desk
threads it by task, which these tests run directly (the Celery hand-off itself
is covered end to end in ``test_inbound_end_to_end``).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.utils import timezone

from desk import sla
from desk.inbound import thread_inbound
from desk.models import Contact, Message, SlaClock
from integrations.messaging.actions import Draft, queue_message, send_now
from integrations.messaging.models import InboundMessage, OptOut
from integrations.messaging.webhooks import twilio_signature, whatsapp_signature
from integrations.models import Connection, Customer, WebhookEvent
from tests.factories import apply_webhooks, make_contact, make_customer, make_tenant

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token"
APP_SECRET = "meta-app-secret"
INBOUND_PASSWORD = "postmark-inbound-pass"
PHONE = "+14155552345"


def _twilio_connection(tenant, token=TOKEN):
    return Connection.objects.create(
        tenant=tenant,
        provider="twilio",
        kind="messaging",
        name="Twilio",
        credentials={"account_sid": "AC1", "auth_token": token, "from_number": "+15005550006"},
    )


def _whatsapp_connection(tenant):
    return Connection.objects.create(
        tenant=tenant,
        provider="whatsapp",
        kind="messaging",
        name="WhatsApp",
        credentials={
            "phone_number_id": "106540352242922",
            "access_token": "EAAG",
            "webhook_secret": APP_SECRET,
        },
    )


def _email_connection(tenant):
    return Connection.objects.create(
        tenant=tenant,
        provider="email",
        kind="messaging",
        name="Support mailbox",
        credentials={"from_email": "care@shop.example", "webhook_secret": INBOUND_PASSWORD},
    )


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.fixture
def twilio(tenant):
    return _twilio_connection(tenant)


def thread_received() -> list[InboundMessage]:
    """What the desk.thread_inbound task does for each message the webhooks kept."""
    ids = (
        InboundMessage.objects.filter(state="received").order_by("pk").values_list("pk", flat=True)
    )
    return [thread_inbound(pk) for pk in ids]


# --- Twilio SMS ------------------------------------------------------------------------


def _sms(body: str, sid: str = "SM" + "a" * 32, sender: str = PHONE, **extra) -> dict:
    """An incoming-message webhook as Twilio documents it."""
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": "+15005550006",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC1",
        "From": sender,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post_twilio(client, connection, params: dict, *, token=TOKEN, idem: str | None = None):
    url = f"http://testserver/webhooks/twilio/{connection.public_id}"
    headers = {"X-Twilio-Signature": twilio_signature(token, url, list(params.items()))}
    if idem:
        headers["I-Twilio-Idempotency-Token"] = idem
    response = client.post(
        url,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    response.applied = apply_webhooks()  # what the intake worker made of it
    return response


def test_sms_from_an_unknown_number_starts_a_contact_for_a_new_customer(client, tenant, twilio):
    response = post_twilio(client, twilio, _sms("Where is my order #5123?"))

    assert response.applied == ["processed"]
    kept = InboundMessage.objects.get()
    assert (kept.state, kept.sender, kept.provider_id) == ("received", PHONE, "SM" + "a" * 32)
    [threaded] = thread_received()
    contact = Contact.objects.get(tenant=tenant)
    assert threaded.state == "new_contact" and threaded.contact_public_id == contact.public_id
    assert contact.channel == "sms"
    assert contact.customer.phone == PHONE and contact.customer.email == ""
    assert contact.messages.get().body == "Where is my order #5123?"


def test_sms_from_a_known_customer_matches_their_phone_in_any_format(client, tenant, twilio):
    known = make_customer(tenant, "ada@example.com", phone="(415) 555-2345", name="Ada")
    post_twilio(client, twilio, _sms("Hi, any news?", sender="+1 415 555 2345"))
    thread_received()
    contact = Contact.objects.get(tenant=tenant)
    assert contact.customer == known
    assert contact.customer_email == "ada@example.com"
    assert Customer.objects.filter(tenant=tenant).count() == 1


def test_sms_joins_the_customers_open_sms_contact_and_resumes_its_clocks(client, tenant, twilio):
    customer = make_customer(tenant, phone=PHONE)
    contact = make_contact(tenant, customer=customer, channel="sms", status="escalated")
    sla.start_escalation_clocks(contact, timezone.now())
    assert sla.pause_clocks(contact, SlaClock.PauseReason.CUSTOMER) > 0

    post_twilio(client, twilio, _sms("Here is the photo you asked for"))
    [threaded] = thread_received()

    assert threaded.state == "threaded" and threaded.contact_public_id == contact.public_id
    assert Contact.objects.filter(tenant=tenant).count() == 1
    assert list(contact.messages.values_list("body", flat=True)) == [
        "Where is my order?",
        "Here is the photo you asked for",
    ]
    assert not SlaClock.objects.filter(contact=contact, state="paused").exists()
    assert contact.tenant.audit_events.filter(verb="contact.customer_reply").exists()


def test_clocks_paused_for_the_carrier_stay_paused_when_the_customer_writes(client, tenant, twilio):
    customer = make_customer(tenant, phone=PHONE)
    contact = make_contact(tenant, customer=customer, channel="sms", status="escalated")
    sla.start_escalation_clocks(contact, timezone.now())
    paused = sla.pause_clocks(contact, SlaClock.PauseReason.CARRIER)

    post_twilio(client, twilio, _sms("Still nothing"))
    thread_received()

    assert contact.messages.last().body == "Still nothing"
    assert SlaClock.objects.filter(contact=contact, state="paused").count() == paused > 0


def test_a_resolved_contact_is_not_reopened_by_the_next_sms(client, tenant, twilio):
    customer = make_customer(tenant, phone=PHONE)
    old = make_contact(tenant, customer=customer, channel="sms", status="resolved")
    post_twilio(client, twilio, _sms("Another question"))
    thread_received()
    assert Contact.objects.filter(tenant=tenant).exclude(pk=old.pk).get().channel == "sms"
    assert old.messages.count() == 1


def test_an_open_contact_quiet_for_longer_than_the_window_is_not_joined(
    client, tenant, twilio, settings
):
    settings.INBOUND_THREAD_DAYS = 7
    customer = make_customer(tenant, phone=PHONE)
    stale = make_contact(tenant, customer=customer, channel="sms", status="escalated")
    Contact.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=8))
    post_twilio(client, twilio, _sms("Hello again"))
    [threaded] = thread_received()
    assert threaded.state == "new_contact"
    assert stale.messages.count() == 1


def test_redelivered_sms_changes_nothing_even_with_a_new_delivery_token(client, tenant, twilio):
    first = post_twilio(client, twilio, _sms("Where is it?"), idem="idem-1")
    again = post_twilio(client, twilio, _sms("Where is it?"), idem="idem-1")
    retried = post_twilio(client, twilio, _sms("Where is it?"), idem="idem-2")
    thread_received()
    thread_received()

    assert first.applied == ["processed"]
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert retried.status_code == 200 and retried.applied == ["ignored"]
    assert InboundMessage.objects.count() == 1
    assert Message.objects.filter(contact__tenant=tenant).count() == 1
    # Every delivery is kept raw, the duplicates included.
    assert WebhookEvent.objects.filter(provider="twilio").count() == 2


def test_stop_opts_out_and_starts_no_contact(client, tenant, twilio):
    post_twilio(client, twilio, _sms("STOP"))
    post_twilio(client, twilio, _sms("unsubscribe", sid="SM" + "b" * 32))
    assert thread_received() == []
    assert OptOut.objects.filter(tenant=tenant, channel="sms", address=PHONE).exists()
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {"opted_out"}
    assert not Contact.objects.exists()


def test_yes_from_a_customer_who_never_opted_out_is_an_answer(client, tenant, twilio):
    customer = make_customer(tenant, phone=PHONE)
    contact = make_contact(tenant, customer=customer, channel="sms", status="escalated")
    post_twilio(client, twilio, _sms("Yes"))
    thread_received()
    assert contact.messages.last().body == "Yes"


def test_a_picture_without_words_is_kept_but_starts_no_contact(client, tenant, twilio):
    mms = _sms(
        "",
        NumMedia="1",
        MediaContentType0="image/jpeg",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    )
    assert post_twilio(client, twilio, mms).status_code == 200
    assert thread_received() == []
    assert InboundMessage.objects.get().state == "unsupported"


def test_twilio_form_that_is_not_a_message_webhook_is_malformed(client, tenant, twilio):
    response = post_twilio(client, twilio, {"From": PHONE, "Body": "hi"})
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_sms_with_a_bad_signature_is_refused_and_starts_nothing(client, tenant, twilio):
    response = post_twilio(client, twilio, _sms("Where is my order?"), token="not-the-token")
    assert response.status_code == 401
    assert not InboundMessage.objects.exists()
    assert WebhookEvent.objects.get().status == "rejected"


def test_a_tenants_connection_never_creates_contacts_for_another_tenant(client):
    tenant_a, tenant_b = make_tenant(), make_tenant()
    twilio_a, twilio_b = _twilio_connection(tenant_a, "token-a"), _twilio_connection(tenant_b, "b")
    customer_a = make_customer(tenant_a, phone=PHONE)
    open_in_a = make_contact(tenant_a, customer=customer_a, channel="sms", status="escalated")

    # Tenant A's token cannot speak for tenant B's connection.
    assert post_twilio(client, twilio_b, _sms("hi"), token="token-a").status_code == 401
    post_twilio(client, twilio_b, _sms("Where is my parcel?"), token="b")
    [threaded] = thread_received()

    assert threaded.tenant == tenant_b and threaded.state == "new_contact"
    contact_b = Contact.objects.get(tenant=tenant_b)
    assert contact_b.customer.tenant == tenant_b and contact_b.customer != customer_a
    assert open_in_a.messages.count() == 1
    assert not InboundMessage.objects.filter(tenant=tenant_a).exists()
    assert twilio_a.webhooks.count() == 0


# --- WhatsApp Cloud API ------------------------------------------------------------------


def _whatsapp(messages: list[dict], name: str = "Grace") -> dict:
    """A ``messages`` notification as the Cloud API documents it."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": "16505551234"}],
                            "messages": messages,
                        },
                    }
                ],
            }
        ],
    }


def _wa_text(
    body: str, wamid: str = "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
):
    return {
        "from": "16505551234",
        "id": wamid,
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": body},
    }


def post_whatsapp(client, connection, payload, *, secret=APP_SECRET, body: bytes | None = None):
    raw = body if body is not None else json.dumps(payload).encode()
    response = client.post(
        f"/webhooks/whatsapp/{connection.public_id}",
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": whatsapp_signature(secret, raw)},
    )
    response.applied = apply_webhooks()  # what the intake worker made of it
    return response


def test_whatsapp_signature_is_the_hex_hmac_sha256_of_the_raw_body():
    # Computed independently: HMAC-SHA256("meta-app-secret", b'{"object":"x"}').
    import hashlib
    import hmac

    body = b'{"object":"x"}'
    expected = hmac.new(b"meta-app-secret", body, hashlib.sha256).hexdigest()
    assert whatsapp_signature(APP_SECRET, body) == f"sha256={expected}"


def test_whatsapp_text_starts_a_contact_named_after_the_profile(client, tenant):
    whatsapp = _whatsapp_connection(tenant)
    response = post_whatsapp(client, whatsapp, _whatsapp([_wa_text("My parcel is late")]))
    assert response.applied == ["processed"]
    thread_received()
    contact = Contact.objects.get(tenant=tenant)
    assert (contact.channel, contact.customer_name) == ("whatsapp", "Grace")
    assert contact.customer.phone == "+16505551234"
    assert contact.messages.get().body == "My parcel is late"


def test_whatsapp_media_and_locations_are_kept_but_start_nothing(client, tenant):
    whatsapp = _whatsapp_connection(tenant)
    image = {
        "from": "16505551234",
        "id": "wamid.IMG",
        "timestamp": "1749416383",
        "type": "image",
        "image": {"mime_type": "image/jpeg", "sha256": "abc", "id": "1003383421387256"},
    }
    location = {
        "from": "16505551234",
        "id": "wamid.LOC",
        "timestamp": "1749416384",
        "type": "location",
        "location": {"latitude": 37.48, "longitude": -122.14, "name": "Home"},
    }
    assert post_whatsapp(client, whatsapp, _whatsapp([image, location])).status_code == 200
    assert thread_received() == []
    assert dict(InboundMessage.objects.values_list("kind", "state")) == {
        "image": "unsupported",
        "location": "unsupported",
    }
    assert not Contact.objects.exists()


def test_whatsapp_redelivery_is_acknowledged_without_a_second_message(client, tenant):
    whatsapp = _whatsapp_connection(tenant)
    payload = _whatsapp([_wa_text("Where is my order?")])
    assert post_whatsapp(client, whatsapp, payload).status_code == 200
    thread_received()
    assert post_whatsapp(client, whatsapp, payload).status_code == 200
    thread_received()
    assert InboundMessage.objects.count() == 1
    assert Message.objects.filter(contact__tenant=tenant).count() == 1


def test_whatsapp_reply_joins_the_open_whatsapp_contact(client, tenant):
    whatsapp = _whatsapp_connection(tenant)
    customer = make_customer(tenant, phone="+16505551234")
    contact = make_contact(tenant, customer=customer, channel="whatsapp", status="escalated")
    post_whatsapp(client, whatsapp, _whatsapp([_wa_text("Any update?", wamid="wamid.2")]))
    [threaded] = thread_received()
    assert threaded.contact_public_id == contact.public_id
    assert contact.messages.last().body == "Any update?"


def test_whatsapp_malformed_body_and_bad_signature_are_refused(client, tenant):
    whatsapp = _whatsapp_connection(tenant)
    assert post_whatsapp(client, whatsapp, None, body=b"{not json").status_code == 400
    payload = _whatsapp([_wa_text("hi")])
    assert post_whatsapp(client, whatsapp, payload, secret="wrong").status_code == 401
    assert not InboundMessage.objects.exists()


# --- Email through Postmark's inbound webhook ----------------------------------------------


def _postmark(
    *,
    sender: str = "ada@example.com",
    subject: str = "Re: Your order",
    text: str = "Thanks, but it still has not arrived.",
    message_id: str = "73e6d360-66eb-11e1-8e72-a8904824019b",
    headers: list[dict] | None = None,
) -> dict:
    """An inbound email as Postmark's documentation shows it."""
    return {
        "FromName": "Ada Lovelace",
        "MessageStream": "inbound",
        "From": sender,
        "FromFull": {"Email": sender, "Name": "Ada Lovelace", "MailboxHash": ""},
        "To": '"Care" <yourhash+SampleHash@inbound.postmarkapp.com>',
        "ToFull": [
            {
                "Email": "yourhash+SampleHash@inbound.postmarkapp.com",
                "Name": "Care",
                "MailboxHash": "SampleHash",
            }
        ],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "yourhash+SampleHash@inbound.postmarkapp.com",
        "Subject": subject,
        "MessageID": message_id,
        "ReplyTo": "",
        "MailboxHash": "SampleHash",
        "Date": "Fri, 1 Aug 2014 16:45:32 -04:00",
        "TextBody": f"{text}\n\nOn Thu, Care wrote:\n> Your parcel is on its way.",
        "HtmlBody": f"<p>{text}</p>",
        "StrippedTextReply": text,
        "Tag": "",
        "Headers": [
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "Message-ID", "Value": "<CAGXpo@mail.example.com>"},
            *(headers or []),
        ],
        "Attachments": [
            {
                "Name": "photo.jpg",
                "Content": "/9j/4AAQSkZJRgABAQEAYABgAAD/",
                "ContentType": "image/jpeg",
                "ContentLength": 21,
            }
        ],
    }


def post_email(client, connection, payload, *, password=INBOUND_PASSWORD, body=None):
    credentials = base64.b64encode(f"postmark:{password}".encode()).decode()
    response = client.post(
        f"/webhooks/email/{connection.public_id}",
        data=body if body is not None else json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Basic {credentials}"},
    )
    response.applied = apply_webhooks()  # what the intake worker made of it
    return response


def test_email_from_an_unknown_sender_starts_an_email_contact(client, tenant):
    inbox = _email_connection(tenant)
    response = post_email(client, inbox, _postmark())
    assert response.applied == ["processed"]
    thread_received()
    contact = Contact.objects.get(tenant=tenant)
    assert (contact.channel, contact.customer_email) == ("email", "ada@example.com")
    assert contact.subject == "Re: Your order"
    # The reply only, without the quoted history.
    assert contact.messages.get().body == "Thanks, but it still has not arrived."
    assert contact.customer.email == "ada@example.com"
    kept = InboundMessage.objects.get()
    assert kept.raw["Attachments"] == ["photo.jpg"]


def test_email_reply_threads_by_the_message_id_our_outbound_email_carried(client, tenant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    inbox = _email_connection(tenant)
    answered = make_contact(tenant, customer_email="ada@example.com", channel="api")
    answered.status = "escalated"
    answered.save()
    reply = Message.objects.create(
        contact=answered, direction="outbound", author_type="member", body="Which size?"
    )
    message, _ = queue_message(
        tenant,
        Draft(
            channel="email",
            to="ada@example.com",
            body="Which size?",
            idempotency_key=f"desk-message:{reply.pk}",
        ),
        enqueue=False,
    )
    assert send_now(message.pk) == "sent"
    message.refresh_from_db()
    sent_id = mail.outbox[0].extra_headers["Message-ID"]
    assert message.provider_id == sent_id
    # A newer open contact of the same customer must not capture the reply.
    newer = make_contact(tenant, customer_email="ada@example.com", channel="email")

    payload = _postmark(
        text="Size M please",
        headers=[
            {"Name": "In-Reply-To", "Value": sent_id},
            {"Name": "References", "Value": f"<older@shop.example> {sent_id}"},
        ],
    )
    post_email(client, inbox, payload)
    [threaded] = thread_received()

    assert threaded.contact_public_id == answered.public_id
    assert answered.messages.filter(direction="inbound").last().body == "Size M please"
    assert newer.messages.count() == 1


def test_email_without_headers_joins_the_customers_open_contact(client, tenant):
    inbox = _email_connection(tenant)
    open_contact = make_contact(tenant, customer_email="ada@example.com", status="escalated")
    post_email(client, inbox, _postmark(text="One more thing"))
    [threaded] = thread_received()
    assert threaded.state == "threaded"
    assert open_contact.messages.last().body == "One more thing"


def test_email_is_not_threaded_onto_an_sms_contact(client, tenant):
    inbox = _email_connection(tenant)
    customer = make_customer(tenant, "ada@example.com", phone=PHONE)
    sms = make_contact(tenant, customer=customer, channel="sms", status="escalated")
    post_email(client, inbox, _postmark())
    [threaded] = thread_received()
    assert threaded.state == "new_contact"
    assert sms.messages.count() == 1


def test_redelivered_email_changes_nothing(client, tenant):
    inbox = _email_connection(tenant)
    assert post_email(client, inbox, _postmark()).status_code == 200
    thread_received()
    again = post_email(client, inbox, _postmark())
    thread_received()
    assert again.status_code == 200 and again.applied == ["ignored"]
    assert Contact.objects.filter(tenant=tenant).count() == 1
    assert Message.objects.filter(contact__tenant=tenant).count() == 1


def test_unsubscribe_email_opts_out_and_starts_no_contact(client, tenant):
    inbox = _email_connection(tenant)
    post_email(client, inbox, _postmark(subject="unsubscribe", text=""))
    assert thread_received() == []
    assert OptOut.objects.filter(tenant=tenant, channel="email", address="ada@example.com").exists()


def test_out_of_office_replies_start_no_contact(client, tenant):
    inbox = _email_connection(tenant)
    auto = [{"Name": "Auto-Submitted", "Value": "auto-replied"}]
    post_email(client, inbox, _postmark(subject="Out of office", headers=auto))
    assert thread_received() == []
    assert InboundMessage.objects.get().state == "unsupported"


def test_email_with_wrong_or_missing_credentials_is_refused(client, tenant):
    inbox = _email_connection(tenant)
    assert post_email(client, inbox, _postmark(), password="guess").status_code == 401
    anonymous = client.post(
        f"/webhooks/email/{inbox.public_id}",
        data=json.dumps(_postmark()),
        content_type="application/json",
    )
    assert anonymous.status_code == 401
    assert not InboundMessage.objects.exists()


def test_malformed_email_payload_is_refused(client, tenant):
    inbox = _email_connection(tenant)
    assert post_email(client, inbox, None, body="[1, 2").status_code == 400
    assert not InboundMessage.objects.exists()


def test_two_customers_known_only_by_phone_do_not_share_a_history(client, tenant, twilio):
    from agents.tools import get_customer_history

    post_twilio(client, twilio, _sms("First", sid="SM1", sender="+14155550001"))
    post_twilio(client, twilio, _sms("Second", sid="SM2", sender="+14155550002"))
    post_twilio(client, twilio, _sms("Third", sid="SM3", sender="+14155550003"))
    thread_received()
    contact = Contact.objects.get(tenant=tenant, customer__phone="+14155550001")
    assert contact.customer_email == ""
    assert get_customer_history(contact, contact.customer)["contacts_90d"] == 0


@pytest.mark.django_db(transaction=True)
def test_first_messages_from_one_new_number_at_once_make_one_customer():
    """Two workers applying two first messages from the same new number at the same
    moment must not each create a customer: phones carry no unique constraint."""
    import threading

    from django.db import connection as db

    from integrations.messaging.actions import find_or_create_customer

    tenant = make_tenant()
    start = threading.Barrier(4)
    found: list[int] = []

    def first_message() -> None:
        try:
            start.wait()
            found.append(find_or_create_customer(tenant, "sms", "+1 (415) 555-0199").pk)
        finally:
            db.close()

    workers = [threading.Thread(target=first_message) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(found) == 4 and len(set(found)) == 1
    assert Customer.objects.filter(tenant=tenant).count() == 1
