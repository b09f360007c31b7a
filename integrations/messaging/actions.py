"""Every state change of the outbox: queue, send, record a provider's status, opt out.

Sending is at most once per message: a worker claims a queued message with a
conditional update (queued → sending) before calling the provider, so two
workers, a retried task or a redelivered task cannot both send it. A worker
that dies mid-call leaves the message in ``sending``; it is not resent
automatically, because neither Twilio nor the Cloud API lets us ask whether
the first call went through, and a second copy is worse than a late one.

What one transaction queues is handed over together when it commits: to one
send task, or, inside ``send_after_commit_here``, to the worker task that
queued it, which sends it itself.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db import connection as db
from django.utils import timezone

from integrations.connected import tenants_with
from integrations.messaging.clients import (
    EmailClient,
    OutgoingMessage,
    PermanentError,
    SendError,
    TemporaryError,
    TwilioClient,
    WhatsAppClient,
)
from integrations.messaging.models import (
    Channel,
    ConversationWindow,
    InboundMessage,
    OptOut,
    OutboundMessage,
)
from integrations.messaging.signals import delivery_changed
from integrations.models import Connection, Customer, Order, Shipment
from tenants.actions import audit
from tenants.actor import Actor
from tenants.models import Tenant

log = logging.getLogger(__name__)

# Connection.provider of each channel's sender; email works without one.
CHANNEL_PROVIDER = {Channel.EMAIL: "email", Channel.SMS: "twilio", Channel.WHATSAPP: "whatsapp"}

# Words carriers and Twilio treat as an opt-out or an opt-in (CTIA keywords).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES"}

MAX_ATTEMPTS = 6


def backoff_seconds(attempts: int) -> int:
    """30 s, 1 min, 2 min, 4 min, … capped at an hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)


# A queued message with no task in sight after this long is re-enqueued by the sweep.
LOST_TASK_GRACE = timedelta(minutes=2)
# A message still "sending" this long after its claim has lost its sender (a worker
# killed between the claim and the provider's answer, or an error nobody planned for):
# longer than any task that sends may run (tests/integrations/messaging keeps it so).
INTERRUPTED_SEND_GRACE = timedelta(minutes=10)
INTERRUPTED_SEND_ERROR = (
    "Interrupted while sending: the provider may or may not have it. "
    "Not sent again on its own, so the customer never gets it twice."
)


def normalize_address(channel: str, address: str) -> str:
    """One spelling per address, so an opt-out matches every later message to it."""
    address = (address or "").strip()
    if channel == Channel.EMAIL:
        return address.lower()
    if address.lower().startswith("whatsapp:"):
        address = address[len("whatsapp:") :]
    digits = re.sub(r"\D", "", address)
    if address.startswith("00"):
        digits = digits[2:]
    return f"+{digits}" if digits else ""


def address_for(channel: str, customer: Customer | None, order: Order | None = None) -> str:
    if channel == Channel.EMAIL:
        email = (customer.email if customer else "") or (order.email if order else "")
        return normalize_address(channel, email)
    phone = customer.phone if customer else ""
    if not phone and order is not None:
        phone = (order.shipping_address or {}).get("phone") or ""
    return normalize_address(channel, phone)


def is_opted_out(tenant: Tenant, channel: str, address: str) -> bool:
    return OptOut.objects.filter(
        tenant=tenant, channel=channel, address=normalize_address(channel, address)
    ).exists()


def opt_out(tenant: Tenant, channel: str, address: str, *, source: str) -> OptOut:
    """Record that a customer wants nothing more on this channel. Idempotent. Messages
    already queued to the address are skipped when their turn comes."""
    address = normalize_address(channel, address)
    entry, _ = OptOut.objects.get_or_create(
        tenant=tenant, channel=channel, address=address, defaults={"source": source}
    )
    return entry


def opt_in(tenant: Tenant, channel: str, address: str) -> int:
    """The customer texted START: lift their opt-out. Returns how many were lifted."""
    address = normalize_address(channel, address)
    deleted, _ = OptOut.objects.filter(tenant=tenant, channel=channel, address=address).delete()
    return deleted


def record_inbound(tenant: Tenant, channel: str, address: str, at: datetime) -> None:
    """The customer wrote to us: their WhatsApp session is open for 24 hours from ``at``."""
    address = normalize_address(channel, address)
    window, created = ConversationWindow.objects.get_or_create(
        tenant=tenant, channel=channel, address=address, defaults={"last_inbound_at": at}
    )
    if not created and window.last_inbound_at < at:
        ConversationWindow.objects.filter(pk=window.pk, last_inbound_at__lt=at).update(
            last_inbound_at=at
        )


def handle_keyword(tenant: Tenant, channel: str, address: str, text: str) -> str:
    """STOP / START sent by the customer. Returns "stop", "start" or ""."""
    word = (text or "").strip().upper().rstrip(".!")
    if word in STOP_WORDS:
        opt_out(tenant, channel, address, source="keyword")
        return "stop"
    if word in START_WORDS:
        opt_in(tenant, channel, address)
        return "start"
    return ""


@dataclass
class Incoming:
    """One customer message as a provider's webhook described it, before it is kept."""

    channel: str
    provider_id: str
    sender: str
    body: str
    sent_at: datetime
    kind: str = "text"
    sender_name: str = ""
    subject: str = ""
    thread_refs: list[str] | None = None
    raw: dict[str, Any] | None = None
    # The provider's own reading of an opt-out keyword (Twilio's OptOutType).
    keyword: str = ""


def _is_keyword(tenant: Tenant, provider: str, sender: str, incoming: Incoming) -> bool:
    """Apply STOP / START and say whether the message was only that keyword.

    A START word ("yes") from someone who never opted out is an answer, not a
    keyword: it must reach the contact it answers."""
    texts = [incoming.keyword] if incoming.keyword else [incoming.body]
    if incoming.channel == Channel.EMAIL:
        # Mail clients unsubscribe by mailing us with the subject "unsubscribe".
        texts.append(incoming.subject)
    words = {text.strip().upper().rstrip(".!") for text in texts}
    if words & STOP_WORDS:
        source = provider if incoming.keyword else "keyword"
        opt_out(tenant, incoming.channel, sender, source=source)
        return True
    if words & START_WORDS:
        return opt_in(tenant, incoming.channel, sender) > 0
    return False


def receive_message(connection: Connection, incoming: Incoming) -> InboundMessage | None:
    """Keep a customer's message once and hand it to the desk to thread into a contact.

    Returns None for a redelivery of a message already kept (nothing happens
    again). Keywords (STOP, START) are handled here and never become contacts;
    kinds we cannot read are kept for the record but not handed on. Runs inside
    the webhook's transaction: the desk is told on commit, by task name, since
    this app does not import the desk."""
    tenant = connection.tenant
    sender = normalize_address(incoming.channel, incoming.sender)
    if not (sender and incoming.provider_id):
        raise ValueError("An inbound message needs a sender and the provider's message id")
    if InboundMessage.objects.filter(
        tenant=tenant, provider=connection.provider, provider_id=incoming.provider_id
    ).exists():
        return None
    record_inbound(tenant, incoming.channel, sender, incoming.sent_at)
    state = InboundMessage.State.RECEIVED
    if incoming.kind != "text":
        state = InboundMessage.State.UNSUPPORTED
    elif _is_keyword(tenant, connection.provider, sender, incoming):
        state = InboundMessage.State.OPTED_OUT
    now = timezone.now()
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                tenant=tenant,
                connection=connection,
                channel=incoming.channel,
                provider=connection.provider,
                provider_id=incoming.provider_id[:255],
                kind=incoming.kind[:32],
                sender=sender,
                sender_name=incoming.sender_name[:160],
                subject=incoming.subject[:255],
                body=incoming.body,
                thread_refs=incoming.thread_refs or [],
                raw=incoming.raw or {},
                state=state,
                sent_at=incoming.sent_at,
                created_at=now,
                processed_at=None if state == InboundMessage.State.RECEIVED else now,
            )
    except IntegrityError:
        # The same message on two parallel deliveries: the other one keeps it.
        return None
    if state == InboundMessage.State.RECEIVED:
        message_id = message.pk
        transaction.on_commit(
            lambda: current_app.send_task(
                "desk.thread_inbound", kwargs={"inbound_message_id": message_id}
            )
        )
    return message


def same_phone(stored: str, address: str) -> bool:
    """Whether a phone number as a store kept it is ``address`` (+digits). Stores often
    keep national numbers ("(415) 555-2345", "07700 900123"): those match the
    international number they end, trunk zero dropped."""
    if normalize_address(Channel.SMS, stored) == address:
        return True
    stored = stored.strip()
    national = re.sub(r"\D", "", stored).lstrip("0")
    if stored.startswith(("+", "00")) or len(national) < 8:
        return False
    return address.endswith(national)


def find_or_create_customer(tenant: Tenant, channel: str, address: str, name: str = "") -> Customer:
    """The tenant's customer behind an email address or a phone number, created when
    nobody has written from it before. Phones are compared in one spelling (+digits),
    whatever format the store mirrored them in."""
    address = normalize_address(channel, address)
    if channel == Channel.EMAIL:
        customer, _ = Customer.objects.get_or_create(
            tenant=tenant, email__iexact=address, defaults={"email": address, "name": name}
        )
        return customer
    # Phones have no unique constraint (stores keep them in many spellings), so two
    # first messages from one new number, applied at once, would each create a
    # customer: the look-up and the creation hold a lock on that number until
    # the transaction ends, and the second finds the first's customer.
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"customer-phone:{tenant.pk}:{address}"],
        )
        # Narrow by the last digits in SQL, compare the full number in Python.
        for customer in Customer.objects.filter(
            tenant=tenant, phone__contains=address[-4:]
        ).order_by("created_at"):
            if same_phone(customer.phone, address):
                return customer
        return Customer.objects.create(tenant=tenant, email="", phone=address, name=name)


@dataclass
class Draft:
    """A message to put in the outbox (or to record as skipped)."""

    channel: str
    to: str
    body: str
    idempotency_key: str
    subject: str = ""
    locale: str = ""
    template: str = ""
    template_language: str = ""
    template_params: list[str] | None = None
    trigger: str = ""
    customer: Customer | None = None
    shipment: Shipment | None = None
    order: Order | None = None
    send_after: datetime | None = None
    defer_reason: str = ""
    skip_reason: str = ""
    context: dict[str, Any] | None = None

    def build(self, tenant: Tenant, now: datetime) -> OutboundMessage:
        return OutboundMessage(
            tenant=tenant,
            channel=self.channel,
            to=normalize_address(self.channel, self.to),
            subject=self.subject[:255],
            body=self.body,
            locale=self.locale,
            template=self.template,
            template_language=self.template_language,
            template_params=self.template_params or [],
            state=(
                OutboundMessage.State.SKIPPED if self.skip_reason else OutboundMessage.State.QUEUED
            ),
            skip_reason=self.skip_reason,
            send_after=None if self.skip_reason else self.send_after,
            defer_reason="" if self.skip_reason else self.defer_reason,
            idempotency_key=self.idempotency_key[:160],
            trigger=self.trigger,
            customer=self.customer,
            shipment=self.shipment,
            order=self.order,
            context=self.context or {},
            created_at=now,
        )


# --- handing queued messages over to be sent ---------------------------------------

# The most messages one send task takes. A bigger commit (a nudge sweep) is split, so
# its messages still go out in parallel and each task stays well inside its time limit.
SEND_BATCH_SIZE = 20

# Inside ``send_after_commit_here``: the committed messages this process sends itself.
_sending_here: ContextVar[list[int] | None] = ContextVar("outbox_sending_here", default=None)


class _Batch:
    """The messages one transaction queues, handed over together when it commits.

    It is the transaction's commit hook, registered once; later messages of the
    same transaction join it. A batch belongs to one savepoint level: rolling a
    savepoint back drops its hooks, this batch with them, so what was queued
    inside it is never handed over."""

    def __init__(self, message_ids: list[int]) -> None:
        self.message_ids = list(message_ids)
        # Tests run captured hooks in place, where the transaction still lists them.
        self.handed_over = False

    def __call__(self) -> None:
        self.handed_over = True
        _hand_over(self.message_ids)


def _pending_batch() -> _Batch | None:
    """The batch this transaction's commit will hand over, registered at the current
    savepoint level, if there is one yet. Django keeps a transaction's hooks as
    (active savepoints, hook, robust) and forgets those of a rolled-back savepoint
    or transaction, so only a batch still due to run is found.

    Those are Django's internals: should their shape change, no batch is found and
    each call registers a hook of its own, which sends the same messages in more
    tasks (tests/integrations/messaging/test_outbox.py notices)."""
    try:
        here = {sid for sid in db.savepoint_ids if sid}
        for savepoints, hook, *_ in reversed(db.run_on_commit):
            if (
                isinstance(hook, _Batch)
                and not hook.handed_over
                and {sid for sid in savepoints if sid} == here
            ):
                return hook
    except (AttributeError, TypeError, ValueError):
        log.warning("Cannot read the transaction's commit hooks; messages go in separate tasks")
    return None


def enqueue_send_on_commit(message_ids: list[int]) -> None:
    """Hand due messages over to be sent once the transaction that wrote them commits,
    all the messages of one transaction together."""
    if not message_ids:
        return
    batch = _pending_batch() if db.in_atomic_block else None
    if batch is not None:
        batch.message_ids.extend(message_ids)
    else:
        transaction.on_commit(_Batch(message_ids))


def enqueue_send(message_ids: list[int]) -> None:
    """Give messages to the send task, ``SEND_BATCH_SIZE`` a task."""
    from integrations.messaging.tasks import send_messages

    for start in range(0, len(message_ids), SEND_BATCH_SIZE):
        send_messages.delay(message_ids=message_ids[start : start + SEND_BATCH_SIZE])


def _hand_over(message_ids: list[int]) -> None:
    here = _sending_here.get()
    if here is not None:
        here.extend(message_ids)
    else:
        enqueue_send(message_ids)


@contextmanager
def send_after_commit_here() -> Iterator[None]:
    """Messages queued by transactions that commit inside this block are sent by this
    process as the block ends, instead of by a send task: for a worker task whose work
    ends in messages (the agent's reply and survey), which then cost no task of their
    own. Sent at the end rather than in the commit hook, so the commit's other hooks
    (the inbox's live push) never wait on a provider. Never around a web request,
    whose response must not wait on one either.

    Never raises for the sending: the transactions are committed, and a message not
    sent here goes to the send task. A temporary error retries from the task after
    its backoff, as from the task itself. A block that raises hands its messages to
    the task. If the process dies first, the messages are still queued, and the
    due-message sweep sends them once their task seems lost (``LOST_TASK_GRACE``)."""
    if _sending_here.get() is not None:
        # An outer block sends them.
        yield
        return
    committed: list[int] = []
    token = _sending_here.set(committed)
    completed = False
    try:
        yield
        completed = True
    finally:
        _sending_here.reset(token)
        if committed and completed:
            _send_here(committed)
        elif committed:
            _enqueue_or_leave(committed)


def _send_here(message_ids: list[int]) -> None:
    from integrations.messaging.tasks import retry_later

    try:
        outcome = send_batch(message_ids)
        retry_later(outcome.retry_in)
        if outcome.errors:
            enqueue_send(outcome.errors)
    except Exception:
        # A claimed message is never sent twice, so the task may safely try them all.
        log.exception("Sending messages %s failed; the send task takes them over", message_ids)
        _enqueue_or_leave(message_ids)


def _enqueue_or_leave(message_ids: list[int]) -> None:
    try:
        enqueue_send(message_ids)
    except Exception:
        log.exception("Messages %s left for the due-message sweep", message_ids)


# One transaction when called alone; inside the caller's, no savepoint of its own:
# nothing here is worth keeping if the rest fails (the insert's race has its own).
@transaction.atomic(savepoint=False)
def queue_message(
    tenant: Tenant, draft: Draft, *, enqueue: bool = True
) -> tuple[OutboundMessage, bool]:
    """Put one message in the outbox, once per (tenant, idempotency key).

    Returns the message and whether this call created it; asking again with the
    same key returns the first message untouched. An opted-out address is
    recorded as skipped. A due message is handed to the send task on commit.
    (Messages keyed by rows the caller has just written: ``queue_new_messages``.)"""
    existing = OutboundMessage.objects.filter(
        tenant=tenant, idempotency_key=draft.idempotency_key
    ).first()
    if existing is not None:
        return existing, False
    if not draft.skip_reason and is_opted_out(tenant, draft.channel, draft.to):
        draft.skip_reason = OutboundMessage.SkipReason.OPTED_OUT
    message = draft.build(tenant, timezone.now())
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return OutboundMessage.objects.get(
            tenant=tenant, idempotency_key=draft.idempotency_key
        ), False
    if enqueue and message.state == OutboundMessage.State.QUEUED and message.send_after is None:
        enqueue_send_on_commit([message.pk])
    return message, True


def queue_new_messages(tenant: Tenant, drafts: list[Draft]) -> list[OutboundMessage]:
    """Put messages in the outbox in one insert, each keyed by a row the caller's
    transaction has just written, so no earlier entry can exist and none is looked
    for. Due ones are handed over when it commits; opt-outs are read when they are
    sent, not twice."""
    now = timezone.now()
    messages = OutboundMessage.objects.bulk_create([draft.build(tenant, now) for draft in drafts])
    enqueue_send_on_commit(
        [m.pk for m in messages if m.state == OutboundMessage.State.QUEUED and m.send_after is None]
    )
    return messages


def _connection(tenant_id: int, channel: str) -> Connection | None:
    return (
        Connection.objects.filter(
            tenant_id=tenant_id,
            kind=Connection.Kind.MESSAGING,
            provider=CHANNEL_PROVIDER[channel],
            is_active=True,
        )
        .order_by("-created_at")
        .first()
    )


# The credential that names the sender, per provider, in order of preference.
IDENTITY_FIELDS = {
    "twilio": ("from_number", "messaging_service_sid"),
    "whatsapp": ("phone_number_id",),
    "email": ("from_email",),
}


def sender_identity(connection: Connection) -> str:
    """Who a messaging connection sends as: a number, a Messaging Service, a WhatsApp
    phone-number id or a From address. Not a secret, so it may be shown."""
    credentials = connection.credentials
    for field in IDENTITY_FIELDS.get(connection.provider, ()):
        if credentials.get(field):
            return credentials[field]
    return ""


@dataclass
class Sender:
    channel: str
    connection: Connection | None
    identity: str


def outbox_senders(tenant: Tenant) -> list[Sender]:
    """Which connection, and so which identity, the outbox uses on each channel: the
    newest active one (see ``client_for``); email falls back to the site's address."""
    senders = []
    for channel in (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP):
        connection = _connection(tenant.pk, channel)
        identity = sender_identity(connection) if connection else ""
        if channel == Channel.EMAIL and not identity:
            identity = settings.DEFAULT_FROM_EMAIL
        senders.append(Sender(channel, connection, identity))
    return senders


def configured_channels(tenant_ids: list[int]) -> dict[int, set[str]]:
    """The channels each tenant can send on: email always, SMS and WhatsApp with a sender."""
    by_provider = {v: k for k, v in CHANNEL_PROVIDER.items()}
    channels: dict[int, set[str]] = {t: {Channel.EMAIL} for t in tenant_ids}
    for tenant_id, provider in Connection.objects.filter(
        tenant_id__in=tenant_ids,
        kind=Connection.Kind.MESSAGING,
        provider__in=list(by_provider),
        is_active=True,
    ).values_list("tenant_id", "provider"):
        channels[tenant_id].add(by_provider[provider])
    return channels


def client_for(tenant_id: int, channel: str):
    """The tenant's sender on ``channel``, built from its encrypted connection credentials."""
    return _client(channel, _connection(tenant_id, channel))


def _client(channel: str, connection: Connection | None):
    credentials = connection.credentials if connection else {}
    if channel == Channel.EMAIL:
        return EmailClient(
            from_email=credentials.get("from_email", ""),
            reply_to=credentials.get("reply_to", ""),
            postmark_server_token=credentials.get("postmark_server_token", ""),
        )
    if connection is None:
        raise PermanentError(f"No {channel} sender is configured for this tenant")
    if channel == Channel.SMS:
        return TwilioClient(
            account_sid=credentials.get("account_sid", ""),
            auth_token=credentials.get("auth_token", ""),
            from_number=credentials.get("from_number", ""),
            messaging_service_sid=credentials.get("messaging_service_sid", ""),
            status_callback=credentials.get("status_callback", ""),
        )
    return WhatsAppClient(
        phone_number_id=credentials.get("phone_number_id", ""),
        access_token=credentials.get("access_token", ""),
        api_version=credentials.get("api_version", "v21.0"),
    )


# The newest active messaging connection per (tenant, channel), read once per batch.
Connections = dict[tuple[int, str], Connection | None]


def _sender_for(message: OutboundMessage, connections: Connections):
    """A reply on a helpdesk ticket goes back through the helpdesk; the rest by channel."""
    if (message.context or {}).get("gorgias"):
        from integrations.gorgias.outbox import GorgiasSender

        return GorgiasSender.for_message(message)
    key = (message.tenant_id, message.channel)
    if key not in connections:
        # Most merchants send email as the desk: no sender of their own to read. (A
        # sender added in another process is used within connected.TTL seconds; until
        # then mail goes out as the desk, as before it was added.)
        own_sender = message.channel != Channel.EMAIL or message.tenant_id in tenants_with(
            CHANNEL_PROVIDER[Channel.EMAIL]
        )
        connections[key] = _connection(*key) if own_sender else None
    return _client(message.channel, connections[key])


# Channels with a session window: WhatsApp's 24 hours after the customer last wrote, in
# which free text may be sent. Email and SMS have none, so sending them never asks.
SESSION_CHANNELS = {Channel.WHATSAPP}


def session_is_open(message: OutboundMessage, now: datetime) -> bool:
    window = ConversationWindow.objects.filter(
        tenant_id=message.tenant_id, channel=message.channel, address=message.to
    ).first()
    return window is not None and window.is_open(now)


def _finish(message: OutboundMessage, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=[*fields, "updated_at"])
    if "state" in fields:
        transaction.on_commit(lambda: _announce(message))


def withdraw(tenant_id: int, idempotency_keys: list[str]) -> list[OutboundMessage]:
    """Take back the messages with these keys that still wait in the queue (held back,
    or not yet claimed by a sender): they are recorded as skipped, withdrawn, and never
    sent. One a sender has claimed goes on. Inside the caller's transaction: the rows
    are locked first, so a claim that comes meanwhile finds them skipped."""
    waiting = list(
        OutboundMessage.objects.select_for_update()
        .filter(
            tenant_id=tenant_id,
            idempotency_key__in=idempotency_keys,
            state=OutboundMessage.State.QUEUED,
        )
        .order_by("pk")
    )
    for message in waiting:
        _finish(
            message,
            state=OutboundMessage.State.SKIPPED,
            skip_reason=OutboundMessage.SkipReason.WITHDRAWN,
        )
    return waiting


def _announce(message: OutboundMessage) -> None:
    """Tell whoever shows this message (the desk's open conversations) that it moved.
    A receiver's failure is logged: the change itself is committed and stands."""
    for receiver, outcome in delivery_changed.send_robust(OutboundMessage, message=message):
        if isinstance(outcome, Exception):
            log.error(
                "Announcing outbox message %s failed in %s",
                message.pk,
                getattr(receiver, "__qualname__", receiver),
                exc_info=outcome,
            )


def _superseded(message: OutboundMessage) -> bool:
    """A held-back message about a shipment that has since moved to another status."""
    expected = (message.context or {}).get("shipment_status")
    if not (message.defer_reason and expected and message.shipment_id):
        return False
    current = (
        Shipment.objects.filter(pk=message.shipment_id).values_list("status", flat=True).first()
    )
    return current is not None and current != expected


def send_now(
    message_id: int, *, now: datetime | None = None, connections: Connections | None = None
) -> str:
    """Send one queued, due message and return its state afterwards.

    Idempotent: only the caller whose conditional update moves the message from
    queued to sending calls the provider; any other call returns the current
    state. Raises ``TemporaryError`` after putting the message back in the queue,
    so the task can retry it with backoff. ``connections`` carries the senders
    already read from one message of a batch to the next."""
    now = now or timezone.now()
    message = _claim(message_id, now)
    if message is None:
        state = OutboundMessage.objects.filter(pk=message_id).values_list("state", flat=True)
        return state.first() or "missing"
    if message.opted_out:
        _finish(
            message,
            state=OutboundMessage.State.SKIPPED,
            skip_reason=OutboundMessage.SkipReason.OPTED_OUT,
        )
        return message.state
    if _superseded(message):
        _finish(
            message,
            state=OutboundMessage.State.SKIPPED,
            skip_reason=OutboundMessage.SkipReason.SUPERSEDED,
        )
        return message.state
    outgoing = OutgoingMessage(
        to=message.to,
        body=message.body,
        subject=message.subject,
        template=message.template,
        template_language=message.template_language,
        template_params=list(message.template_params or []),
        reference=str(message.public_id),
    )
    try:
        client = _sender_for(message, {} if connections is None else connections)
        session_open = message.channel in SESSION_CHANNELS and session_is_open(message, now)
        sent = client.send(outgoing, session_open=session_open)
    except TemporaryError as exc:
        if message.attempts >= MAX_ATTEMPTS:
            fail(message, exc, now=now, prefix=f"Gave up after {message.attempts} attempts: ")
            return message.state
        # Back in the queue with a later send_after, so the due-message sweep
        # honours the backoff too; the task retries at the same time.
        exc.retry_in = backoff_seconds(message.attempts)
        _finish(
            message,
            state=OutboundMessage.State.QUEUED,
            error=exc.message,
            send_after=now + timedelta(seconds=exc.retry_in),
            provider_responses=[*message.provider_responses, _answer(exc, now)],
        )
        raise
    except PermanentError as exc:
        fail(message, exc, now=now)
        return message.state
    _finish(
        message,
        state=OutboundMessage.State.SENT,
        provider=sent.provider,
        provider_id=sent.provider_id,
        email_message_id=sent.email_message_id,
        sent_at=now,
        error="",
        provider_responses=[*message.provider_responses, {"at": now.isoformat(), **sent.response}],
    )
    return message.state


# Claims one due, queued message for its sender and reads it back, with whether its
# address has opted out as of this moment, in one statement: only the caller that
# gets the row may call the provider. ``to`` is stored normalised, as opt-outs are.
# The columns are named, not ``m.*``: a prepared statement whose result changes
# shape (a migration adding a column while a worker runs) fails instead of re-planning.
_CLAIM_SQL = """
UPDATE integrations_outboundmessage m
   SET state = 'sending', attempts = m.attempts + 1, updated_at = %(now)s
 WHERE m.id = %(id)s AND m.state = 'queued' AND (m.send_after IS NULL OR m.send_after <= %(now)s)
RETURNING {columns}, EXISTS (
  SELECT 1 FROM integrations_optout o
   WHERE o.tenant_id = m.tenant_id AND o.channel = m.channel AND o.address = m."to"
) AS opted_out
""".format(  # noqa: S608 (the model's own column names; values are parameters)
    columns=", ".join(f'm."{field.column}"' for field in OutboundMessage._meta.concrete_fields)
)


def _claim(message_id: int, now: datetime) -> OutboundMessage | None:
    """The message, claimed (state "sending", one more attempt), or None if it was not
    queued and due. Its tenant is read only if a path needs it."""
    return next(iter(OutboundMessage.objects.raw(_CLAIM_SQL, {"id": message_id, "now": now})), None)


@dataclass
class BatchOutcome:
    """What sending several messages came to."""

    states: dict[int, str] = dataclasses.field(default_factory=dict)
    # Put back in the queue by a temporary error: seconds until each is tried again.
    retry_in: dict[int, int] = dataclasses.field(default_factory=dict)
    # Failed in a way nobody planned for (logged); left queued, or claimed and left alone.
    errors: list[int] = dataclasses.field(default_factory=list)


def send_batch(message_ids: list[int]) -> BatchOutcome:
    """Send several queued messages, each as ``send_now`` does (its own claim, its own
    opt-out check), reading each tenant's sender once for all of them. One message's
    failure stops no other."""
    outcome = BatchOutcome()
    connections: Connections = {}
    for message_id in message_ids:
        try:
            outcome.states[message_id] = send_now(message_id, connections=connections)
        except TemporaryError as exc:
            outcome.states[message_id] = OutboundMessage.State.QUEUED
            outcome.retry_in[message_id] = exc.retry_in
        except SoftTimeLimitExceeded:
            # Out of time: the rest stay queued for the sweep.
            raise
        except Exception:
            log.exception("Sending outbox message %s failed", message_id)
            outcome.errors.append(message_id)
    return outcome


def _answer(exc: SendError, now: datetime) -> dict[str, Any]:
    return {"at": now.isoformat(), "error": exc.message, "code": exc.code, **exc.response}


def fail(
    message: OutboundMessage, exc: SendError, *, now: datetime | None = None, prefix: str = ""
) -> None:
    """Mark a message failed with the provider's message; an "unsubscribed" answer also
    records the opt-out, so the next message to that address is not even tried."""
    now = now or timezone.now()
    _finish(
        message,
        state=OutboundMessage.State.FAILED,
        error=f"{prefix}{exc.message}",
        failed_at=now,
        provider_responses=[*message.provider_responses, _answer(exc, now)],
    )
    if exc.means_opted_out:
        opt_out(message.tenant, message.channel, message.to, source=f"provider:{exc.code}")


# Provider status → our state. Statuses not listed (queued, accepted, sending, …)
# say nothing we do not know already.
_PROVIDER_STATES = {
    "sent": OutboundMessage.State.SENT,
    "deferred": OutboundMessage.State.SENT,
    "bounced": OutboundMessage.State.FAILED,
    "rejected": OutboundMessage.State.FAILED,
    "delivered": OutboundMessage.State.DELIVERED,
    "read": OutboundMessage.State.DELIVERED,
    "undelivered": OutboundMessage.State.FAILED,
    "failed": OutboundMessage.State.FAILED,
}
_RANK = {
    OutboundMessage.State.QUEUED: 0,
    OutboundMessage.State.SENDING: 1,
    OutboundMessage.State.SENT: 2,
    OutboundMessage.State.DELIVERED: 3,
    OutboundMessage.State.FAILED: 3,
}


@transaction.atomic
def apply_status(
    provider: str,
    provider_id: str,
    status: str,
    *,
    raw: dict[str, Any],
    error: str = "",
    code: str = "",
    at: datetime | None = None,
) -> OutboundMessage | None:
    """Apply a provider's delivery-status callback to the message it is about.

    Callbacks arrive out of order and more than once; a state only moves
    forward (a late "sent" never undoes "delivered"), and the raw callback is
    kept either way. Returns None for a message we did not send."""
    message = (
        OutboundMessage.objects.select_for_update()
        .filter(provider=provider, provider_id=provider_id)
        .first()
    )
    if message is None or not provider_id:
        return None
    at = at or timezone.now()
    new = _PROVIDER_STATES.get(status)
    fields: dict[str, Any] = {
        "provider_responses": [*message.provider_responses, {"at": at.isoformat(), "callback": raw}]
    }
    if new and message.state in _RANK and _RANK[new] > _RANK[message.state]:
        fields["state"] = new
        if new == OutboundMessage.State.DELIVERED:
            fields["delivered_at"] = at
        if new == OutboundMessage.State.FAILED:
            fields["failed_at"] = at
            fields["error"] = error or f"{provider} reported {status}"
    _finish(message, **fields)
    if new == OutboundMessage.State.FAILED and str(code) in {"21610", "131050"}:
        opt_out(message.tenant, message.channel, message.to, source=f"provider:{code}")
    return message


def fail_interrupted_sends(now: datetime | None = None, *, limit: int = 500) -> list[int]:
    """Mark failed the messages whose sending was interrupted, so they show on the
    desk instead of staying "sending" for ever. Sending them again is a person's
    call (``send_again``): whether the first try reached the customer is unknown.
    Returns the messages it failed; safe to overlap."""
    now = now or timezone.now()
    stalled = list(
        OutboundMessage.objects.filter(
            state=OutboundMessage.State.SENDING, updated_at__lt=now - INTERRUPTED_SEND_GRACE
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    failed = []
    with transaction.atomic():
        for message in OutboundMessage.objects.select_for_update(skip_locked=True).filter(
            pk__in=stalled, state=OutboundMessage.State.SENDING
        ):
            _finish(
                message,
                state=OutboundMessage.State.FAILED,
                error=INTERRUPTED_SEND_ERROR,
                failed_at=now,
                provider_responses=[
                    *message.provider_responses,
                    {"at": now.isoformat(), "error": INTERRUPTED_SEND_ERROR, "code": "interrupted"},
                ],
            )
            failed.append(message.pk)
    if failed:
        log.warning("Marked %d interrupted outbox messages failed: %s", len(failed), failed)
    return failed


class NotFailed(Exception):
    """Only a failed message can be sent again."""


@transaction.atomic
def send_again(message: OutboundMessage, actor: Actor) -> OutboundMessage:
    """Put a failed message back in the queue, as a person decided after reading why it
    failed; it leaves once the transaction commits. Raises ``NotFailed`` for any other
    state, so a double click sends it once. An opt-out recorded since is still honoured
    when it is sent."""
    now = timezone.now()
    locked = OutboundMessage.objects.select_for_update().select_related("tenant").get(pk=message.pk)
    if locked.state != OutboundMessage.State.FAILED:
        raise NotFailed(f"This message is {locked.get_state_display().lower()}, not failed.")
    previous = locked.error
    _finish(
        locked,
        state=OutboundMessage.State.QUEUED,
        error="",
        failed_at=None,
        send_after=None,
        # A fresh run of tries: the attempt limit counts from here.
        attempts=0,
        provider_responses=[
            *locked.provider_responses,
            {"at": now.isoformat(), "sent_again_by": actor.label, "previous_error": previous},
        ],
    )
    audit(
        locked.tenant,
        actor,
        "message.sent_again",
        locked,
        {"channel": locked.channel, "previous_error": previous[:200]},
    )
    enqueue_send_on_commit([locked.pk])
    return locked


def due_message_ids(now: datetime, *, limit: int = 500) -> list[int]:
    """Queued messages whose time has come: held-back ones past their ``send_after`` and
    due ones whose send task seems lost."""
    from django.db.models import Q

    return list(
        OutboundMessage.objects.filter(state=OutboundMessage.State.QUEUED)
        .filter(
            Q(send_after__lte=now)
            | Q(send_after__isnull=True, updated_at__lt=now - LOST_TASK_GRACE)
        )
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )
