"""The three channel clients: HTTP (or the mail backend) only, no database.

Each ``send`` returns a ``Sent`` or raises ``TemporaryError`` (worth retrying
later: timeouts, rate limits, the provider's 5xx) or ``PermanentError``
(retrying cannot help: a bad number, an unsubscribed recipient, a closed
WhatsApp session), carrying the provider's own message and raw answer.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import time
from dataclasses import dataclass, field
from email.utils import make_msgid
from typing import Any

import httpx
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass
class Sent:
    provider: str
    provider_id: str
    response: dict[str, Any] = field(default_factory=dict)
    # The Message-ID header of an email, which replies quote back.
    email_message_id: str = ""


class SendError(Exception):
    def __init__(
        self, message: str, *, response: dict[str, Any] | None = None, code: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.response = response or {}
        self.code = str(code or "")
        self.retry_in = 0

    # The recipient told the provider to stop (Twilio 21610, WhatsApp 131050).
    @property
    def means_opted_out(self) -> bool:
        return self.code in {"21610", "131050"}


class TemporaryError(SendError):
    pass


class PermanentError(SendError):
    pass


@dataclass
class OutgoingMessage:
    """What a client needs to send, independent of the outbox row."""

    to: str
    body: str
    subject: str = ""
    template: str = ""
    template_language: str = ""
    template_params: list[str] = field(default_factory=list)
    reference: str = ""


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"status_code": response.status_code, "text": response.text[:2000]}
    return data if isinstance(data, dict) else {"data": data}


# A relay session is kept this long between messages; an older one may have been
# dropped by the relay, so it is closed and a new one opened instead.
RELAY_IDLE_SECONDS = 30


class _RelaySessions:
    """One session with the mail relay per process and backend, reused from message
    to message: an SMTP connection costs a handshake (and TLS) that a busy outbox
    would otherwise pay for every message. Made again in a forked process."""

    def __init__(self) -> None:
        self._pid = 0
        self._sessions: dict[str, tuple[Any, float]] = {}

    def get(self) -> Any:
        if self._pid != os.getpid():
            self._pid, self._sessions = os.getpid(), {}
        backend = settings.EMAIL_BACKEND
        connection, last_used = self._sessions.get(backend, (None, 0.0))
        if connection is not None and time.monotonic() - last_used > RELAY_IDLE_SECONDS:
            self.drop(connection)
            connection = None
        if connection is None:
            connection = get_connection(backend)
            connection.open()
        self._sessions[backend] = (connection, time.monotonic())
        return connection

    def drop_all(self) -> None:
        for connection, _ in list(self._sessions.values()):
            self.drop(connection)

    def drop(self, connection: Any) -> None:
        """Forget a session that failed or went stale; the next message opens another."""
        self._sessions = {k: v for k, v in self._sessions.items() if v[0] is not connection}
        # A session already broken has nothing left to close.
        with contextlib.suppress(Exception):
            connection.close()


relay_sessions = _RelaySessions()


class EmailClient:
    """Email through Django's configured mail backend (console, SMTP), or through
    Postmark's API (django-anymail) when the tenant's sender has a server token,
    which also brings delivery, bounce and complaint events back."""

    provider = "email"

    def __init__(
        self, *, from_email: str = "", reply_to: str = "", postmark_server_token: str = ""
    ) -> None:
        self.from_email = from_email or settings.DEFAULT_FROM_EMAIL
        self.reply_to = reply_to
        self.postmark_server_token = postmark_server_token

    def send(self, message: OutgoingMessage, *, session_open: bool = False) -> Sent:
        domain = self.from_email.rpartition("@")[2] or "localhost"
        # Ours, so a customer's reply (In-Reply-To) finds its way back to the case.
        message_id = make_msgid(domain=domain)
        connection = (
            get_connection(
                "anymail.backends.postmark.EmailBackend", server_token=self.postmark_server_token
            )
            if self.postmark_server_token
            else None
        )
        relay = None
        email = EmailMessage(
            subject=message.subject or message.body.splitlines()[0][:120],
            body=message.body,
            from_email=self.from_email,
            to=[message.to],
            reply_to=[self.reply_to] if self.reply_to else None,
            headers={"Message-ID": message_id, "X-Desk-Reference": message.reference},
            connection=connection,
        )
        try:
            if connection is None:
                email.connection = relay = relay_sessions.get()
            email.send(fail_silently=False)
        except AnymailRecipientsRefused as exc:
            raise PermanentError(f"Recipient refused: {exc}") from exc
        except AnymailAPIError as exc:
            # Postmark answers 422 for what no retry fixes (inactive recipient,
            # unverified sender); 401 for a bad token; 5xx and 429 are temporary.
            if exc.status_code in {401, 403, 422}:
                raise PermanentError(
                    f"Postmark refused the message: {exc.describe_response()}"
                ) from exc
            raise TemporaryError(f"Postmark: {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"Recipient refused: {exc.recipients}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            if relay is not None:
                relay_sessions.drop(relay)
            raise TemporaryError(f"Mail server: {exc}") from exc
        if connection is not None:
            status = email.anymail_status
            if not status.message_id or status.status & {"rejected", "invalid"}:
                raise PermanentError(f"Postmark did not accept the message ({status.status})")
            return Sent(
                "postmark",
                status.message_id or "",
                {"message_id": message_id, "postmark_message_id": status.message_id},
                email_message_id=message_id,
            )
        return Sent(
            self.provider, message_id, {"message_id": message_id}, email_message_id=message_id
        )


class TwilioClient:
    """SMS through Twilio's Messages API: form-encoded POST, HTTP Basic auth with the account
    SID and auth token."""

    provider = "twilio"
    base_url = "https://api.twilio.com"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str = "",
        messaging_service_sid: str = "",
        status_callback: str = "",
        http: httpx.Client | None = None,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise PermanentError("Twilio needs a sender: a From number or a Messaging Service SID")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.http = http

    @property
    def url(self) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def send(self, message: OutgoingMessage, *, session_open: bool = False) -> Sent:
        form = {"To": message.to, "Body": message.body}
        # A Messaging Service picks the sender itself and handles STOP for us.
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.from_number
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        try:
            response = (self.http or httpx).post(
                self.url, data=form, auth=(self.account_sid, self.auth_token), timeout=TIMEOUT
            )
        except httpx.TransportError as exc:
            raise TemporaryError(f"Twilio unreachable: {exc}") from exc
        data = _json(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryError(
                f"Twilio {response.status_code}: {data.get('message', '')}".strip(),
                response=data,
                code=data.get("code", ""),
            )
        if response.status_code >= 400:
            raise PermanentError(
                data.get("message") or f"Twilio refused the message ({response.status_code})",
                response=data,
                code=data.get("code", ""),
            )
        if data.get("error_code"):
            raise PermanentError(
                data.get("error_message") or "Twilio refused the message",
                response=data,
                code=data["error_code"],
            )
        return Sent(self.provider, str(data.get("sid", "")), data)


# Graph API error codes that mean "later" rather than "never": throttling,
# pair rate limits and Meta's own temporary failures.
WHATSAPP_TEMPORARY_CODES = {4, 80007, 130429, 131000, 131016, 131056, 133004}


class WhatsAppClient:
    """WhatsApp through Meta's Cloud API: free text inside the customer's 24-hour session,
    an approved template outside it."""

    provider = "whatsapp"
    base_url = "https://graph.facebook.com"

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        api_version: str = "v21.0",
        http: httpx.Client | None = None,
    ) -> None:
        self.phone_number_id = phone_number_id
        self.access_token = access_token
        self.api_version = api_version
        self.http = http

    @property
    def url(self) -> str:
        return f"{self.base_url}/{self.api_version}/{self.phone_number_id}/messages"

    @staticmethod
    def payload(message: OutgoingMessage, *, session_open: bool) -> dict[str, Any]:
        """The request body: text in an open session, otherwise the approved template."""
        to = message.to.lstrip("+")
        if session_open:
            return {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": {"preview_url": False, "body": message.body},
            }
        if not message.template:
            raise PermanentError(
                "The 24-hour WhatsApp session is closed and no approved template is set"
            )
        template: dict[str, Any] = {
            "name": message.template,
            "language": {"code": message.template_language or "en"},
        }
        if message.template_params:
            template["components"] = [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": str(p)} for p in message.template_params
                    ],
                }
            ]
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": template,
        }

    def send(self, message: OutgoingMessage, *, session_open: bool = False) -> Sent:
        body = self.payload(message, session_open=session_open)
        try:
            response = (self.http or httpx).post(
                self.url,
                json=body,
                headers={"Authorization": f"Bearer {self.access_token}"},
                timeout=TIMEOUT,
            )
        except httpx.TransportError as exc:
            raise TemporaryError(f"WhatsApp unreachable: {exc}") from exc
        data = _json(response)
        if response.status_code >= 400 or "error" in data:
            error = data.get("error") or {}
            code = error.get("code")
            details = (error.get("error_data") or {}).get("details", "")
            text = error.get("message") or f"WhatsApp {response.status_code}"
            if details:
                text = f"{text}: {details}"
            temporary = response.status_code >= 500 or response.status_code == 429
            if temporary or code in WHATSAPP_TEMPORARY_CODES:
                raise TemporaryError(text, response=data, code=code or "")
            raise PermanentError(text, response=data, code=code or "")
        messages = data.get("messages") or [{}]
        return Sent(self.provider, str(messages[0].get("id", "")), data)
