"""Connections to merchants' systems and the data we mirror from them.

Orders, shipments and tracking are mirrors: the merchant's store and the
carriers are the source of truth, and every mirrored row keeps the raw payload
it came from.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Sum
from django.db.models.functions import Upper
from django.utils import timezone

from tenants.crypto import EncryptedJSONField
from tenants.models import Tenant


class Connection(models.Model):
    """A tenant's link to one provider, with credentials encrypted at rest."""

    class Provider(models.TextChoices):
        SANDBOX = "sandbox", "Sandbox store"
        SANDBOX_CARRIER = "sandbox_carrier", "Sandbox carrier feed"
        SHOPIFY = "shopify", "Shopify"
        UPS = "ups", "UPS Track API"
        AFTERSHIP = "aftership", "AfterShip"
        TWILIO = "twilio", "Twilio SMS"
        WHATSAPP = "whatsapp", "WhatsApp Cloud API"
        EMAIL = "email", "Email (Postmark inbound)"

    class Kind(models.TextChoices):
        COMMERCE = "commerce"
        CARRIER = "carrier"
        CX = "cx"
        MESSAGING = "messaging"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="connections")
    # A code from integrations.providers; the built-in ones are named in Provider.
    provider = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    credentials = EncryptedJSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last "test connection": when, whether the provider answered, what it said.
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_message = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant.slug}: {self.name}"

    @property
    def provider_name(self) -> str:
        from integrations import providers

        spec = providers.find(self.provider)
        return spec.name if spec else self.provider

    @property
    def webhook_secret(self) -> str:
        return self.credentials.get("webhook_secret", "")


class WebhookEvent(models.Model):
    """A raw inbound webhook exactly as received, kept whether or not it was valid."""

    class Status(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        REJECTED = "rejected"
        FAILED = "failed"

    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks"
    )
    provider = models.CharField(max_length=32)
    delivery_id = models.CharField(max_length=128, blank=True)
    topic = models.CharField(max_length=128, blank=True)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Processing attempts started; an event that keeps crashing is set aside.
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            # The sweep's look-up of events whose task was lost.
            models.Index(
                fields=["received_at"],
                condition=models.Q(status="received"),
                name="webhook_waiting",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "delivery_id"],
                # Rejected and failed deliveries leave the index, so the
                # provider's retry of one is processed instead of called a duplicate.
                condition=~models.Q(delivery_id="") & ~models.Q(status__in=["rejected", "failed"]),
                name="webhook_delivered_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.topic or '-'} {self.delivery_id or self.pk} ({self.status})"


class MirrorVersion(models.Model):
    """The provider's timestamp of the newest event applied to one mirrored resource.

    Webhooks arrive out of order and are redelivered; an event stamped older
    than this one is stored but never applied, so stale state cannot overwrite
    newer state."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=32)
    external_id = models.CharField(max_length=64)
    version_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "resource", "external_id"], name="mirror_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.external_id} @ {self.version_at:%Y-%m-%d %H:%M:%S}"


class Customer(models.Model):
    """A merchant's customer. Someone who first wrote by SMS or WhatsApp may have no
    email address yet, only a phone number."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="customers")
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=160, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    is_vip = models.BooleanField(default=False)
    external_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=~models.Q(email=""),
                name="customer_email_per_tenant",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "phone"]),
            # Addresses are matched case-insensitively (UPPER on both sides).
            models.Index(F("tenant"), Upper("email"), name="customer_by_email"),
        ]

    def __str__(self) -> str:
        return self.name or self.email


class Order(models.Model):
    """An order mirrored from the merchant's store (or living in the sandbox store)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="orders")
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    external_id = models.CharField(max_length=64, blank=True)
    number = models.CharField(max_length=32, help_text="As the customer sees it, without '#'.")
    email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    financial_status = models.CharField(max_length=32, default="paid")
    fulfillment_status = models.CharField(max_length=32, blank=True)
    sales_channel = models.CharField(max_length=32, default="online_store")
    shipping_address = models.JSONField(default=dict, blank=True)
    placed_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="order_number_per_tenant")
        ]
        indexes = [
            models.Index(fields=["tenant", "email"]),
            # A customer's orders, refunds and history are found by address, in any case.
            models.Index(F("tenant"), Upper("email"), name="order_by_email"),
            # And an order by the number a customer typed, in any case: without it every
            # contact naming an order read all of the merchant's orders.
            models.Index(F("tenant"), Upper("number"), name="order_by_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def refunded_total(self) -> Decimal:
        return self.refunds.aggregate(s=Sum("amount"))["s"] or Decimal("0")

    @property
    def refundable_remainder(self) -> Decimal:
        return max(self.total - self.refunded_total, Decimal("0"))


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    product_type = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    is_final_sale = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class TrackingStatus(models.TextChoices):
    """The nine statuses the tracking industry has converged on."""

    PENDING = "pending", "Pending"
    INFO_RECEIVED = "info_received", "Label created"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    FAILED_ATTEMPT = "failed_attempt", "Failed attempt"
    AVAILABLE_FOR_PICKUP = "available_for_pickup", "Available for pickup"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Exception"
    EXPIRED = "expired", "Expired"


class Shipment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="shipments")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=32)
    tracking_number = models.CharField(max_length=64)
    status = models.CharField(
        max_length=24, choices=TrackingStatus.choices, default=TrackingStatus.PENDING
    )
    substatus = models.CharField(max_length=48, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    estimated_delivery = models.DateField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # Carriers that push only numbers they were asked about, for a while
    # (UPS Track Alert: 14 days): when the carrier last accepted this number,
    # and when we last asked (the claim of a run, and the gate for asking
    # again after a refusal). See integrations.carriers.subscriptions.
    push_subscribed_at = models.DateTimeField(null=True, blank=True)
    push_asked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "carrier", "tracking_number"], name="tracking_number_per_carrier"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "status"]),
            # The problem board: exceptions, failed attempts, stalled and
            # unscanned shipments by status, longest silent first.
            models.Index(
                fields=["tenant", "status", "last_event_at"], name="shipment_status_last_scan"
            ),
            # Late shipments: only those still on their way have a date that matters.
            models.Index(
                fields=["tenant", "estimated_delivery"],
                condition=~models.Q(status__in=["delivered", "expired"]),
                name="shipment_open_eta",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class TrackingEvent(models.Model):
    """One normalized carrier scan, with the carrier's own code and the raw payload."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=24, choices=TrackingStatus.choices)
    substatus = models.CharField(max_length=48, blank=True)
    carrier_code = models.CharField(max_length=32, blank=True)
    description = models.CharField(max_length=255)
    city = models.CharField(max_length=80, blank=True)
    region = models.CharField(max_length=80, blank=True)
    country = models.CharField(max_length=2, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A stored scan waits for its follow-up (the nudge engine; the desk's wait for a
    # returned parcel), which clears this: a sweep finds scans whose follow-up task
    # was lost (a broker restart).
    follow_up_due = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "carrier_code"], name="tracking_event_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(follow_up_due=True),
                name="tracking_event_follow_up_due",
            ),
            # The unmapped-codes page and their re-mapping read only these few:
            # scans left unmapped and scans mapped by a staff override.
            models.Index(
                fields=["carrier_code"],
                condition=models.Q(raw__is_mapped=False) | models.Q(raw__override=True),
                name="tracking_event_unmapped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status}: {self.description}"

    @property
    def location(self) -> str:
        return ", ".join(part for part in (self.city, self.region, self.country) if part)


class CarrierCodeOverride(models.Model):
    """Our status for a carrier code the carrier's mapping does not know yet.

    Set by platform staff from the unmapped-codes page. Applies to scans
    stored from then on and, through a background task, to the scans already
    stored under that code. ``carrier`` is the mapping's code (an aggregator
    such as ``aftership`` has codes of its own)."""

    carrier = models.CharField(max_length=32)
    code = models.CharField(max_length=32)
    status = models.CharField(max_length=24, choices=TrackingStatus.choices)
    substatus = models.CharField(max_length=48, blank=True)
    created_by = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="carrier_code_override_once")
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.code} -> {self.status}"


class Refund(models.Model):
    """A refund that happened on the merchant's store, keyed so it happens once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=128)
    external_id = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="refund_once_per_key"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on #{self.order.number}"


class StoreCredit(models.Model):
    """Store credit put on a customer's account for an order, keyed so it happens once.

    Written before the store is asked (``PENDING``) and confirmed after, so an
    answer lost on the way can never turn into a second credit: a pending row
    left behind is a specialist's check in the store's admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "Asked of the store"
        ISSUED = "issued", "Issued"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="store_credits")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="store_credits")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="store_credits"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=128)
    external_id = models.CharField(max_length=128, blank=True)
    note = models.CharField(max_length=255, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="store_credit_once_per_key"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="store_credit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} store credit on #{self.order.number}"


from integrations.messaging.models import *  # noqa: E402, F403


class Return(models.Model):
    """A return opened on the merchant's store with a prepaid label, keyed so it happens once.

    ``lines`` are the order lines sent back, as the store took them: a list of
    ``{"sku", "title", "quantity", "reason"}``. The money follows later, when
    the parcel is back; this row only says the label exists.

    Returns that live in a returns platform (AfterShip Returns, Loop) are
    mirrored here too, from that platform's connection: they may still be
    only requested, carry the platform's own status word and the number the
    customer knows them by, and say how the customer wants to be made whole."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        LABEL_SENT = "label_sent", "Label sent"
        IN_TRANSIT = "in_transit", "On its way back"
        RECEIVED = "received", "Received"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="returns")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    lines = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.LABEL_SENT)
    label_carrier = models.CharField(max_length=32, blank=True)
    label_tracking_number = models.CharField(max_length=64, blank=True)
    label_url = models.URLField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=128)
    external_id = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=255, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # The returns platform the return lives in, when it is not the store itself.
    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider_status = models.CharField(max_length=32, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="As the customer sees it.")
    resolution = models.CharField(max_length=32, blank=True)  # refund, exchange, store_credit…
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="return_once_per_key"
            )
        ]
        indexes = [models.Index(fields=["connection", "external_id"], name="return_by_platform_id")]

    def __str__(self) -> str:
        return f"Return {self.external_id or self.pk} on #{self.order.number}"
