"""Email through Postmark (django-anymail): sent over its API, and its delivery,
bounce and complaint events move the outbox. Payloads are shaped as Postmark
documents them (POST /email answer; Delivery, Bounce, SpamComplaint webhooks)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.messaging.actions import Draft, is_opted_out, queue_message, send_now
from integrations.messaging.models import OutboundMessage
from integrations.models import Connection, WebhookEvent
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

TOKEN = "postmark-server-token"
POSTMARK_ID = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
WEBHOOK_USER, WEBHOOK_PASSWORD = "desk", "hook-secret"


class FakePostmark:
    """Postmark's POST /email on a local port: checks the server token, answers
    like the documentation, and can refuse a recipient the way Postmark does."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.inactive: set[str] = set()

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"token": self.headers["X-Postmark-Server-Token"], **body})
                if self.headers["X-Postmark-Server-Token"] != TOKEN:
                    status, answer = 401, {"ErrorCode": 10, "Message": "Bad or missing API token"}
                elif body["To"] in fake.inactive:
                    status, answer = (
                        422,
                        {
                            "ErrorCode": 406,
                            "Message": "You tried to send to a recipient that has been marked as "
                            f"inactive.\nFound inactive addresses: {body['To']}.\nInactive "
                            "recipients are ones that have generated a hard bounce or a spam "
                            "complaint. ",
                        },
                    )
                else:
                    status, answer = (
                        200,
                        {
                            "To": body["To"],
                            "SubmittedAt": "2026-11-26T10:00:00.0000000-05:00",
                            "MessageID": POSTMARK_ID,
                            "ErrorCode": 0,
                            "Message": "OK",
                        },
                    )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def postmark(settings):
    fake = FakePostmark()
    settings.ANYMAIL = {
        "POSTMARK_API_URL": fake.start(),
        "WEBHOOK_SECRET": f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}",
    }
    yield fake
    fake.stop()


@pytest.fixture
def tenant():
    tenant = make_tenant()
    Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.EMAIL,
        kind=Connection.Kind.MESSAGING,
        name="Care mailbox",
        credentials={
            "from_email": "care@shop.example",
            "reply_to": "reply@shop.example",
            "postmark_server_token": TOKEN,
            "webhook_secret": "inbound",
        },
    )
    return tenant


def _send(tenant, to="ada@example.com") -> OutboundMessage:
    message, _ = queue_message(
        tenant,
        Draft(
            channel="email",
            to=to,
            subject="Your parcel",
            body="It is on its way.",
            idempotency_key=f"test:{to}",
        ),
        enqueue=False,
    )
    send_now(message.pk)
    message.refresh_from_db()
    return message


def _event(client, payload: dict, *, password=WEBHOOK_PASSWORD):
    credentials = base64.b64encode(f"{WEBHOOK_USER}:{password}".encode()).decode()
    return client.post(
        "/webhooks/postmark/events",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Basic {credentials}"},
    )


def test_a_sender_with_a_server_token_sends_through_postmark(postmark, tenant):
    message = _send(tenant)
    [request] = postmark.requests
    assert request["token"] == TOKEN
    assert (request["From"], request["To"], request["ReplyTo"]) == (
        "care@shop.example",
        "ada@example.com",
        "reply@shop.example",
    )
    assert (message.state, message.provider, message.provider_id) == (
        "sent",
        "postmark",
        POSTMARK_ID,
    )
    # Our own Message-ID goes out too, so a reply threads onto the case.
    sent_id = next(h["Value"] for h in request["Headers"] if h["Name"] == "Message-ID")
    assert message.email_message_id == sent_id


def test_postmark_refusing_a_recipient_fails_the_message_without_retrying(postmark, tenant):
    postmark.inactive.add("gone@example.com")
    message = _send(tenant, to="gone@example.com")
    assert message.state == "failed"
    assert "rejected" in message.error
    assert len(postmark.requests) == 1


def test_delivery_event_marks_the_message_delivered(client, postmark, tenant):
    message = _send(tenant)
    response = _event(
        client,
        {
            "RecordType": "Delivery",
            "ServerID": 23,
            "MessageStream": "outbound",
            "MessageID": POSTMARK_ID,
            "Recipient": "ada@example.com",
            "Tag": "",
            "DeliveredAt": "2026-11-26T10:00:05Z",
            "Details": "Test delivery webhook details",
            "Metadata": {},
        },
    )
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.state == "delivered"
    assert message.delivered_at is not None
    kept = WebhookEvent.objects.get(provider="postmark")
    assert json.loads(kept.body)["RecordType"] == "Delivery"


def test_hard_bounce_fails_the_message_with_postmarks_reason(client, postmark, tenant):
    message = _send(tenant)
    _event(
        client,
        {
            "RecordType": "Bounce",
            "MessageStream": "outbound",
            "ID": 4323372036854775807,
            "Type": "HardBounce",
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Tag": "",
            "MessageID": POSTMARK_ID,
            "Metadata": {},
            "ServerID": 23,
            "Description": "The server was unable to deliver your message (ex: unknown user, "
            "mailbox not found).",
            "Details": "Test bounce details",
            "Email": "ada@example.com",
            "From": "care@shop.example",
            "BouncedAt": "2026-11-26T10:00:05Z",
            "DumpAvailable": True,
            "Inactive": True,
            "CanActivate": True,
            "Subject": "Your parcel",
            "Content": "",
        },
    )
    message.refresh_from_db()
    assert message.state == "failed"
    assert "unable to deliver" in message.error


def test_spam_complaint_stops_email_to_that_customer(client, postmark, tenant):
    _send(tenant)
    _event(
        client,
        {
            "RecordType": "SpamComplaint",
            "MessageStream": "outbound",
            "ID": 42,
            "Type": "SpamComplaint",
            "TypeCode": 512,
            "Name": "Spam complaint",
            "Tag": "",
            "MessageID": POSTMARK_ID,
            "Metadata": {},
            "ServerID": 1234,
            "Description": "",
            "Details": "Test spam complaint details",
            "Email": "ada@example.com",
            "From": "care@shop.example",
            "BouncedAt": "2026-11-26T10:00:05Z",
            "DumpAvailable": True,
            "Inactive": True,
            "CanActivate": False,
            "Subject": "Your parcel",
            "Content": "",
        },
    )
    assert is_opted_out(tenant, "email", "ada@example.com")


def test_events_without_the_webhook_credentials_are_refused(client, postmark, tenant):
    message = _send(tenant)
    response = _event(
        client,
        {"RecordType": "Delivery", "MessageID": POSTMARK_ID, "Recipient": "ada@example.com"},
        password="guess",
    )
    assert response.status_code in {400, 401, 403}
    message.refresh_from_db()
    assert message.state == "sent"
