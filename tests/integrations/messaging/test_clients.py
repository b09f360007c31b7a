"""Channel clients against the providers' documented request and response shapes."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from django.core import mail

from integrations.messaging import clients
from integrations.messaging.clients import (
    EmailClient,
    OutgoingMessage,
    PermanentError,
    TemporaryError,
    TwilioClient,
    WhatsAppClient,
)
from tests.smtp_relay import SmtpRelay

SID = "AC" + "0" * 32
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
WA_URL = "https://graph.facebook.com/v21.0/106540352242922/messages"

# Shape of Twilio's Message resource as its Messages API answers a create.
TWILIO_CREATED = {
    "account_sid": SID,
    "api_version": "2010-04-01",
    "body": "Your parcel is out for delivery",
    "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
    "direction": "outbound-api",
    "error_code": None,
    "error_message": None,
    "from": "+14155552345",
    "messaging_service_sid": None,
    "num_segments": "1",
    "sid": "SM" + "a" * 32,
    "status": "queued",
    "to": "+14155552345",
    "uri": f"/2010-04-01/Accounts/{SID}/Messages/SM{'a' * 32}.json",
}


def _twilio(**kw) -> TwilioClient:
    return TwilioClient(account_sid=SID, auth_token="tok", from_number="+15005550006", **kw)


@respx.mock
def test_twilio_posts_a_form_with_basic_auth_and_returns_the_sid():
    route = respx.post(TWILIO_URL).mock(return_value=httpx.Response(201, json=TWILIO_CREATED))
    sent = _twilio(status_callback="https://desk.example/webhooks/twilio/x").send(
        OutgoingMessage(to="+14155552345", body="Your parcel is out for delivery")
    )
    assert sent.provider_id == "SM" + "a" * 32
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SID}:tok".encode()).decode()
    )
    form = parse_qs(request.content.decode())
    assert form == {
        "To": ["+14155552345"],
        "Body": ["Your parcel is out for delivery"],
        "From": ["+15005550006"],
        "StatusCallback": ["https://desk.example/webhooks/twilio/x"],
    }


@respx.mock
def test_twilio_messaging_service_replaces_the_from_number():
    route = respx.post(TWILIO_URL).mock(return_value=httpx.Response(201, json=TWILIO_CREATED))
    TwilioClient(account_sid=SID, auth_token="tok", messaging_service_sid="MG" + "1" * 32).send(
        OutgoingMessage(to="+14155552345", body="hi")
    )
    form = parse_qs(route.calls.last.request.content.decode())
    assert form["MessagingServiceSid"] == ["MG" + "1" * 32]
    assert "From" not in form


@respx.mock
def test_twilio_unsubscribed_recipient_is_permanent_and_means_opted_out():
    respx.post(TWILIO_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "code": 21610,
                "message": "Attempt to send to unsubscribed recipient",
                "more_info": "https://www.twilio.com/docs/errors/21610",
                "status": 400,
            },
        )
    )
    with pytest.raises(PermanentError) as caught:
        _twilio().send(OutgoingMessage(to="+14155552345", body="hi"))
    assert caught.value.message == "Attempt to send to unsubscribed recipient"
    assert caught.value.means_opted_out


@pytest.mark.parametrize("status", [429, 500, 503])
@respx.mock
def test_twilio_throttling_and_server_errors_are_temporary(status):
    respx.post(TWILIO_URL).mock(
        return_value=httpx.Response(status, json={"code": 20429, "message": "Too Many Requests"})
    )
    with pytest.raises(TemporaryError):
        _twilio().send(OutgoingMessage(to="+14155552345", body="hi"))


@respx.mock
def test_twilio_timeout_is_temporary():
    respx.post(TWILIO_URL).mock(side_effect=httpx.ConnectTimeout("timed out"))
    with pytest.raises(TemporaryError):
        _twilio().send(OutgoingMessage(to="+14155552345", body="hi"))


def _wa() -> WhatsAppClient:
    return WhatsAppClient(phone_number_id="106540352242922", access_token="EAAG-token")


WA_ACCEPTED = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "16505551234", "wa_id": "16505551234"}],
    "messages": [{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA"}],
}


@respx.mock
def test_whatsapp_sends_free_text_inside_the_24_hour_session():
    route = respx.post(WA_URL).mock(return_value=httpx.Response(200, json=WA_ACCEPTED))
    sent = _wa().send(
        OutgoingMessage(
            to="+16505551234", body="Out for delivery today", template="shipping_update"
        ),
        session_open=True,
    )
    assert sent.provider_id.startswith("wamid.")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer EAAG-token"
    assert json.loads(request.content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "Out for delivery today"},
    }


@respx.mock
def test_whatsapp_sends_the_approved_template_outside_the_session():
    route = respx.post(WA_URL).mock(return_value=httpx.Response(200, json=WA_ACCEPTED))
    _wa().send(
        OutgoingMessage(
            to="+16505551234",
            body="ignored outside the session",
            template="shipping_update",
            template_language="en_US",
            template_params=["Ada", "1042"],
        ),
        session_open=False,
    )
    body = json.loads(route.calls.last.request.content)
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "shipping_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "1042"}],
            }
        ],
    }


def test_whatsapp_without_a_template_cannot_open_a_closed_session():
    with pytest.raises(PermanentError, match="24-hour"):
        _wa().send(OutgoingMessage(to="+16505551234", body="hi"), session_open=False)


@respx.mock
def test_whatsapp_re_engagement_error_is_permanent_with_metas_words():
    respx.post(WA_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {
                    "message": "(#131047) Re-engagement message",
                    "type": "OAuthException",
                    "code": 131047,
                    "error_data": {
                        "messaging_product": "whatsapp",
                        "details": "Message failed to send because more than 24 hours have passed",
                    },
                    "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
                }
            },
        )
    )
    with pytest.raises(PermanentError) as caught:
        _wa().send(OutgoingMessage(to="+16505551234", body="hi"), session_open=True)
    assert "Re-engagement" in caught.value.message
    assert "24 hours" in caught.value.message
    assert caught.value.code == "131047"


@respx.mock
def test_whatsapp_rate_limit_is_temporary():
    respx.post(WA_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {
                    "message": "(#130429) Rate limit hit",
                    "code": 130429,
                    "type": "OAuthException",
                }
            },
        )
    )
    with pytest.raises(TemporaryError):
        _wa().send(OutgoingMessage(to="+16505551234", body="hi"), session_open=True)


def test_email_goes_through_the_django_mail_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sent = EmailClient(from_email="orders@shop.example").send(
        OutgoingMessage(to="ada@example.com", subject="On its way", body="Hello", reference="r-1")
    )
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert (email.subject, email.to, email.from_email) == (
        "On its way",
        ["ada@example.com"],
        "orders@shop.example",
    )
    assert email.extra_headers["Message-ID"] == sent.provider_id


@pytest.fixture
def relay(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    with SmtpRelay() as running:
        settings.EMAIL_PORT = running.port
        yield running
    clients.relay_sessions.drop_all()


def _mail(n: int) -> OutgoingMessage:
    return OutgoingMessage(to="ada@example.com", subject=f"Update {n}", body="Hello")


def test_messages_to_the_mail_relay_share_one_session(relay):
    for n in range(3):
        EmailClient().send(_mail(n))

    assert (relay.received, relay.sessions) == (3, 1)


def test_a_session_idle_too_long_is_replaced_rather_than_trusted(relay, monkeypatch):
    EmailClient().send(_mail(1))
    monkeypatch.setattr(clients, "RELAY_IDLE_SECONDS", -1)
    EmailClient().send(_mail(2))

    assert (relay.received, relay.sessions) == (2, 2)


def test_a_session_the_relay_dropped_fails_once_as_temporary_then_a_new_one_sends(relay):
    relay.hang_up_after = 1
    EmailClient().send(_mail(1))

    with pytest.raises(TemporaryError):
        EmailClient().send(_mail(2))
    EmailClient().send(_mail(2))

    assert (relay.received, relay.sessions) == (2, 2)
