"""Twilio and WhatsApp callbacks through the signed webhook intake."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from integrations.messaging.models import ConversationWindow, OptOut, OutboundMessage
from integrations.messaging.webhooks import twilio_signature, whatsapp_signature
from integrations.models import Connection, WebhookEvent
from tests.factories import apply_webhooks, make_tenant

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token"
APP_SECRET = "meta-app-secret"


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.fixture
def twilio(tenant):
    return Connection.objects.create(
        tenant=tenant,
        provider="twilio",
        kind="messaging",
        name="Twilio",
        credentials={"account_sid": "AC1", "auth_token": TOKEN, "from_number": "+15005550006"},
    )


@pytest.fixture
def whatsapp(tenant):
    return Connection.objects.create(
        tenant=tenant,
        provider="whatsapp",
        kind="messaging",
        name="WhatsApp",
        credentials={
            "phone_number_id": "106540352242922",
            "access_token": "EAAG",
            "webhook_secret": APP_SECRET,
            "verify_token": "verify-me",
        },
    )


def _post_twilio(client, connection, params: dict, *, token=TOKEN, idem="idem-1"):
    url = f"http://testserver/webhooks/twilio/{connection.public_id}"
    response = client.post(
        url,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={
            "X-Twilio-Signature": twilio_signature(token, url, list(params.items())),
            "I-Twilio-Idempotency-Token": idem,
        },
    )
    response.applied = apply_webhooks()  # what the worker made of it
    return response


def test_twilio_signature_matches_twilios_documented_example():
    # The worked example in Twilio's "Validating requests" guide.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    signature = twilio_signature(
        "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", list(params.items())
    )
    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_inbound_stop_records_an_opt_out(client, tenant, twilio):
    response = _post_twilio(
        client,
        twilio,
        {
            "MessageSid": "SM" + "c" * 32,
            "SmsStatus": "received",
            "From": "+14155552345",
            "To": "+15005550006",
            "Body": "Stop",
            "NumMedia": "0",
        },
    )
    assert response.status_code == 200, response.content
    assert OptOut.objects.filter(tenant=tenant, channel="sms", address="+14155552345").exists()


def test_inbound_start_lifts_the_opt_out(client, tenant, twilio):
    OptOut.objects.create(tenant=tenant, channel="sms", address="+14155552345")
    params = {"MessageSid": "SM2", "From": "+14155552345", "To": "+1500", "Body": "START"}
    assert _post_twilio(client, twilio, params).status_code == 200
    assert not OptOut.objects.filter(tenant=tenant).exists()


def test_twilio_advanced_opt_out_type_is_honoured(client, tenant, twilio):
    params = {
        "MessageSid": "SM3",
        "From": "+14155552345",
        "To": "+1",
        "Body": "arrêt",
        "OptOutType": "STOP",
    }
    assert _post_twilio(client, twilio, params).status_code == 200
    assert OptOut.objects.filter(tenant=tenant, address="+14155552345").exists()


def test_twilio_bad_signature_is_rejected_and_kept(client, tenant, twilio):
    params = {"MessageSid": "SM4", "From": "+14155552345", "To": "+1", "Body": "STOP"}
    response = _post_twilio(client, twilio, params, token="wrong")
    assert response.status_code == 401
    assert not OptOut.objects.exists()
    assert WebhookEvent.objects.get(provider="twilio").status == "rejected"


def test_twilio_status_callback_marks_delivered_and_redelivery_is_a_duplicate(
    client, tenant, twilio
):
    message = OutboundMessage.objects.create(
        tenant=tenant,
        channel="sms",
        to="+14155552345",
        body="hi",
        idempotency_key="k",
        state="sent",
        provider="twilio",
        provider_id="SM" + "d" * 32,
    )
    params = {
        "AccountSid": "AC1",
        "ApiVersion": "2010-04-01",
        "From": "+15005550006",
        "MessageSid": "SM" + "d" * 32,
        "MessageStatus": "delivered",
        "SmsSid": "SM" + "d" * 32,
        "SmsStatus": "delivered",
        "To": "+14155552345",
    }
    first = _post_twilio(client, twilio, params)
    assert first.json()["status"] == "accepted"
    assert first.applied == ["processed"]
    again = _post_twilio(client, twilio, params)
    assert again.json() == {"status": "duplicate"}
    assert again.applied == []
    message.refresh_from_db()
    assert message.state == "delivered"


def _whatsapp_post(client, connection, payload, *, secret=APP_SECRET):
    body = json.dumps(payload).encode()
    response = client.post(
        f"/webhooks/whatsapp/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": whatsapp_signature(secret, body)},
    )
    response.applied = apply_webhooks()  # what the worker made of it
    return response


def _notification(value: dict) -> dict:
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
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def test_whatsapp_failed_status_carries_metas_error(client, tenant, whatsapp):
    message = OutboundMessage.objects.create(
        tenant=tenant,
        channel="whatsapp",
        to="+16505551234",
        idempotency_key="k",
        state="sent",
        provider="whatsapp",
        provider_id="wamid.ABC",
    )
    payload = _notification(
        {
            "statuses": [
                {
                    "id": "wamid.ABC",
                    "status": "failed",
                    "timestamp": "1750857384",
                    "recipient_id": "16505551234",
                    "errors": [
                        {
                            "code": 131047,
                            "title": "Re-engagement message",
                            "message": "Re-engagement message",
                            "error_data": {"details": "More than 24 hours have passed"},
                        }
                    ],
                }
            ]
        }
    )
    assert _whatsapp_post(client, whatsapp, payload).status_code == 200
    message.refresh_from_db()
    assert message.state == "failed"
    assert "Re-engagement" in message.error


def test_whatsapp_inbound_opens_the_session_and_stop_opts_out(client, tenant, whatsapp):
    payload = _notification(
        {
            "contacts": [{"profile": {"name": "Ada"}, "wa_id": "16505551234"}],
            "messages": [
                {
                    "from": "16505551234",
                    "id": "wamid.IN1",
                    "timestamp": "1750857384",
                    "type": "text",
                    "text": {"body": "STOP"},
                }
            ],
        }
    )
    assert _whatsapp_post(client, whatsapp, payload).status_code == 200
    window = ConversationWindow.objects.get(tenant=tenant, channel="whatsapp")
    assert window.address == "+16505551234"
    assert OptOut.objects.filter(tenant=tenant, channel="whatsapp", address="+16505551234").exists()


def test_whatsapp_bad_signature_is_rejected(client, tenant, whatsapp):
    response = _whatsapp_post(client, whatsapp, _notification({}), secret="nope")
    assert response.status_code == 401


def test_whatsapp_subscription_handshake(rf, whatsapp):
    from integrations.messaging.webhooks import whatsapp_endpoint

    ok = rf.get(
        "/",
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    assert whatsapp_endpoint(ok, str(whatsapp.public_id)).content == b"1158201444"
    bad = rf.get("/", {"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"})
    assert whatsapp_endpoint(bad, str(whatsapp.public_id)).status_code == 403
