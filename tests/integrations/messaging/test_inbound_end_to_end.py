"""A customer's SMS through the real webhook, the real Celery worker and the agent,
back out through the outbox on SMS. Only Twilio's HTTP API is mocked."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
import respx

from desk.models import Contact
from integrations.messaging.models import InboundMessage, OutboundMessage
from integrations.messaging.webhooks import twilio_signature
from integrations.models import Connection
from tests.conftest import wait_for
from tests.factories import make_customer, make_order, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)

SID = "AC" + "0" * 32
TOKEN = "twilio-auth-token"
SENT_SID = "SM" + "e" * 32


def test_inbound_sms_becomes_a_contact_the_agent_answers_by_sms(client, celery_worker):
    tenant = make_tenant()
    twilio = Connection.objects.create(
        tenant=tenant,
        provider="twilio",
        kind="messaging",
        name="Twilio",
        credentials={"account_sid": SID, "auth_token": TOKEN, "from_number": "+15005550006"},
    )
    customer = make_customer(tenant, phone="+14155552345", name="Ada")
    order = make_order(tenant, customer=customer, total="60.00")
    params = {
        "MessageSid": "SM" + "a" * 32,
        "SmsSid": "SM" + "a" * 32,
        "AccountSid": SID,
        "From": "+14155552345",
        "To": "+15005550006",
        "Body": f"hi, where is my order #{order.number}?",
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    url = f"http://testserver/webhooks/twilio/{twilio.public_id}"

    with respx.mock(assert_all_called=True) as twilio_api:
        sent = twilio_api.post(f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json")
        sent.mock(return_value=httpx.Response(201, json={"sid": SENT_SID, "status": "queued"}))
        response = client.post(
            url,
            data=urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": twilio_signature(TOKEN, url, list(params.items()))},
        )
        assert response.json()["status"] == "accepted"  # the intake worker applies it

        contact = wait_for(lambda: Contact.objects.filter(tenant=tenant).first(), timeout=20)
        # The answer (the satisfaction survey that follows a resolution goes out too).
        reply = wait_for(
            lambda: (
                OutboundMessage.objects.filter(tenant=tenant, state="sent")
                .filter(body__contains="on its way")
                .first()
            ),
            timeout=30,
        )

    contact.refresh_from_db()
    assert contact.channel == "sms" and contact.customer == customer
    assert contact.status == "resolved" and contact.resolution == "ai"
    assert InboundMessage.objects.get().state == "new_contact"
    assert (reply.channel, reply.to, reply.provider_id) == ("sms", "+14155552345", SENT_SID)
    forms = [dict(httpx.QueryParams(call.request.content.decode())) for call in sent.calls]
    answer = next(form for form in forms if "on its way" in form["Body"])
    assert answer["To"] == "+14155552345" and answer["From"] == "+15005550006"
