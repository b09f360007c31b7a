"""Contacts (cases), their messages, the action on the table and the human decision."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.utils import timezone

from integrations.models import Customer, Order
from tenants.models import Tenant


class Intent(models.TextChoices):
    WISMO = "wismo", "Where is my order"
    DELIVERY_EXCEPTION = "delivery_exception", "Delivery exception"
    RETURN_REQUEST = "return_request", "Return request"
    REFUND_REQUEST = "refund_request", "Refund request"
    REPLACEMENT_REQUEST = "replacement_request", "Replacement request"
    CANCEL_ORDER = "cancel_order", "Cancel order"
    CHANGE_ADDRESS = "change_address", "Change address"
    OTHER = "other", "Other"


class Contact(models.Model):
    """One customer case, from first message to resolution."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        CHAT = "chat"
        FORM = "form"
        WHATSAPP = "whatsapp"
        SMS = "sms"
        API = "api"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"  # waiting for the agent
        ESCALATED = "escalated", "Escalated"  # waiting for a human decision
        EXECUTING = "executing", "Executing"  # decided; the store is being changed
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        AI = "ai", "AI"
        HUMAN = "human", "Human"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed by the (tenant, status, escalated_at) index, which leads with it.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    customer_email = models.EmailField(blank=True)
    customer_name = models.CharField(max_length=160, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    order_number_given = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    intent = models.CharField(max_length=24, choices=Intent.choices, blank=True)
    intent_confidence = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    escalation_reason = models.CharField(max_length=255, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_contacts",
    )
    resolution = models.CharField(max_length=8, choices=Resolution.choices, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    # Risk signal names the agent raised (explanations live in the proposal's evidence).
    risk_flags = models.JSONField(default=list, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # When a human decision is due; the inbox is ordered by it.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # Customer, order number, subject and messages, for the inbox search.
    search_vector = SearchVectorField(null=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Set when retention anonymised the customer's data; the case itself stays.
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    # The client's Idempotency-Key: the same submission sent again (a timeout,
    # a retry after an outage) is the same contact, never a second one.
    idempotency_key = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "status", "escalated_at"]),
            models.Index(fields=["status", "sla_due_at", "id"], name="inbox_order"),
            GinIndex(fields=["search_vector"], name="contact_search"),
            # The agent reads a customer's earlier contacts by address, in any case:
            # without this a big merchant's every contact scans all of its contacts.
            models.Index(F("tenant"), Upper("customer_email"), name="contact_by_email"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="contact_submitted_once",
            )
        ]

    def __str__(self) -> str:
        return self.subject or f"Contact {self.public_id}"

    CLAIM_TTL = timedelta(minutes=15)

    def claim_is_live(self, now) -> bool:
        return bool(self.assigned_to_id and self.claim_expires_at and self.claim_expires_at > now)

    def sla_state(self, now) -> str:
        """'breached', 'due-soon' (under 30 minutes left) or 'ok', for the inbox colours."""
        if self.sla_due_at is None:
            return "ok"
        left = (self.sla_due_at - now).total_seconds()
        if left < 0:
            return "breached"
        return "due-soon" if left < 1800 else "ok"

    @property
    def current_proposal(self) -> Proposal | None:
        return self.proposals.order_by("-created_at").first()


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"
        INTERNAL = "internal"  # a note between specialists; never sent

    class Author(models.TextChoices):
        CUSTOMER = "customer"
        AGENT = "agent"
        MEMBER = "member"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    author_type = models.CharField(max_length=8, choices=Author.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.direction}: {self.body[:40]}"


class Proposal(models.Model):
    """The action on the table for a contact, with its evidence and guardrail verdicts."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply only"
        REFUND = "refund", "Refund"
        REPLACEMENT = "replacement", "Replacement"
        RETURN_LABEL = "return_label", "Return label"
        STORE_CREDIT = "store_credit", "Store credit"
        ADDRESS_CHANGE = "address_change", "Address change"
        CANCEL_ORDER = "cancel_order", "Cancel order"
        NONE = "none", "Needs a human"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        AWAITING_LEAD = "awaiting_lead", "Awaiting a lead's co-approval"
        APPROVED = "approved", "Approved"
        EXECUTED = "executed", "Executed"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="proposals")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    reply_draft = models.TextField(blank=True)
    confidence = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0"))
    rationale = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    guardrails = models.JSONField(
        default=list, blank=True, help_text="[{name, passed, detail}] in the order checked."
    )
    agent_run_ref = models.UUIDField(null=True, blank=True)
    execution_result = models.JSONField(default=dict, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount or ''}".strip()

    @property
    def idempotency_key(self) -> str:
        """Same proposal, same key: every executor call for it lands once."""
        return f"proposal:{self.public_id}"

    @property
    def failed_guardrails(self) -> list[dict]:
        return [g for g in self.guardrails if not g.get("passed")]

    # Kinds whose approval pays out: a cancellation refunds what was paid.
    MONEY_KINDS = frozenset({Kind.REFUND, Kind.STORE_CREDIT, Kind.CANCEL_ORDER})

    @property
    def moves_money(self) -> bool:
        return self.kind in self.MONEY_KINDS


class Decision(models.Model):
    """One person's verdict on a proposal. Usually one per proposal; an approval
    above the specialist's limit gets a second row, the lead's co-approval."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", "Approved"
        EDIT = "edit", "Edited and approved"
        OVERRIDE = "override", "Overridden"
        CO_APPROVE = "co_approve", "Co-approved"
        REJECT = "reject", "Rejected"

    class Reason(models.TextChoices):
        POLICY_OK = "policy_ok", "Within policy"
        GOODWILL = "goodwill", "Goodwill gesture"
        POLICY_DENIES = "policy_denies", "Policy does not allow it"
        FRAUD_RISK = "fraud_risk", "Fraud risk"
        NEEDS_INFO = "needs_info", "Need more information from the customer"
        WRONG_ACTION = "wrong_action", "Wrong action proposed"
        OTHER = "other", "Other"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="decisions")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="decisions")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions"
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason_code = models.CharField(max_length=24, choices=Reason.choices)
    note = models.TextField(blank=True)
    # What the human changed, field by field: {"amount": ["300.00", "150.00"], "kind": [...]}.
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # The same person never fills both seats of a two-person approval.
            models.UniqueConstraint(
                fields=["proposal", "decided_by"], name="one_decision_per_person"
            )
        ]
        indexes = [
            # The agent weighs a customer's past fraud rejections on every contact: it
            # reads the merchant's few, not all of its decisions.
            models.Index(
                fields=["tenant", "created_at"],
                condition=models.Q(reason_code="fraud_risk"),
                name="decision_fraud_rejections",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome} by {self.decided_by}"


class AutoPayoutDay(models.Model):
    """What the agent paid out on its own (refunds, store credit, cancellations) on
    one of the merchant's days: the running total the daily cap reads. A payout is
    added in the transaction that approves it, only while the total stays within the
    cap, and given back if its execution fails (``desk.payouts``)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # in the merchant's time zone
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="one_payout_total_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.total}"


# --- SLA: policies, clocks, breaches and lead alerts ----------------------------------


class Priority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


def default_business_hours() -> dict:
    """Monday to Friday, 09:00-17:00 (weekday numbers as Python counts them)."""
    return {str(day): [["09:00", "17:00"]] for day in range(5)}


class SlaPolicy(models.Model):
    """A tenant's targets for one priority, counted in business time.

    ``business_hours`` maps a weekday (``"0"`` = Monday) to its open intervals
    in the tenant's time zone; an empty mapping means around the clock.
    ``holidays`` are whole days, in the tenant's time zone, that never count."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    first_response_minutes = models.PositiveIntegerField(default=60)
    resolution_minutes = models.PositiveIntegerField(default=24 * 60)
    decision_minutes = models.PositiveIntegerField(default=4 * 60)
    # An exception scan (lost, damaged, returned to sender) opens a clock to reach the customer.
    carrier_response_minutes = models.PositiveIntegerField(default=4 * 60)
    business_hours = models.JSONField(default=default_business_hours, blank=True)
    holidays = models.JSONField(default=list, blank=True, help_text='["2026-12-25", …]')
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "priority"], name="one_sla_policy_per_priority"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug} {self.priority}"


class SlaClock(models.Model):
    """One target running for one contact, in business seconds.

    The deadline is stored absolute (``due_at``) so a sweep after any restart
    finds it with one indexed comparison; time used before a pause is kept in
    ``consumed_seconds`` and the clock restarts from ``running_since``."""

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        RESOLUTION = "resolution", "Resolution"
        DECISION = "decision", "Approval decision"
        CARRIER_RESPONSE = "carrier_response", "Carrier exception response"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    class PauseReason(models.TextChoices):
        CUSTOMER = "customer", "Waiting on the customer"
        CARRIER = "carrier", "Waiting on the carrier"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sla_clocks")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sla_clocks")
    target = models.CharField(max_length=20, choices=Target.choices)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    pause_reason = models.CharField(max_length=8, choices=PauseReason.choices, blank=True)
    budget_seconds = models.PositiveIntegerField()
    consumed_seconds = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "target"], name="one_sla_clock_per_target")
        ]
        indexes = [
            # The sweep's only question: running clocks not yet breached, by deadline.
            models.Index(
                fields=["due_at"],
                name="sla_clock_due",
                condition=models.Q(state="running", breached_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} for contact {self.contact_id} ({self.state})"


class SlaBreach(models.Model):
    """A target missed: written once per contact and target, by the sweep."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sla_breaches")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sla_breaches")
    clock = models.OneToOneField(SlaClock, on_delete=models.CASCADE, related_name="breach")
    target = models.CharField(max_length=20, choices=SlaClock.Target.choices)
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "target"], name="one_breach_per_target")
        ]
        indexes = [models.Index(fields=["tenant", "breached_at"])]

    def __str__(self) -> str:
        return f"{self.target} breach on contact {self.contact_id}"


class SlaAlert(models.Model):
    """What a team lead sees in the app: a breach, or one predicted within minutes.
    An alert stays on the board while its contact is open and drops off when it resolves."""

    class Kind(models.TextChoices):
        BREACH = "breach", "Breached"
        WARNING = "warning", "Will breach soon"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sla_alerts")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sla_alerts")
    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["clock", "kind"], name="one_sla_alert_per_kind")
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="sla_alert_recent")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.clock}"


# --- CSAT ---------------------------------------------------------------------------------


class CsatResponse(models.Model):
    """The customer's 1-5 rating of a resolved contact, at most one per contact.
    ``resolution`` copies who resolved it, so boards split AI / human without a join."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="csat_responses")
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="csat")
    resolution = models.CharField(max_length=8, choices=Contact.Resolution.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="csat_score_one_to_five"
            )
        ]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.score}/5 for contact {self.contact_id}"


class Macro(models.Model):
    """A reply a tenant's team reuses; ``{customer_name}``-style variables are filled
    from the case (never from a template engine, so customer text cannot run code)."""

    VARIABLES = ("customer_name", "order_number", "tracking_number", "carrier", "merchant")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="macros")
    name = models.CharField(max_length=80)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="macro_name_per_tenant")
        ]

    def __str__(self) -> str:
        return self.name


class QaReview(models.Model):
    """A sampled AI resolution waiting for (or given) a blind human verdict."""

    class Verdict(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        CORRECT = "correct", "Correct"
        INCORRECT = "incorrect", "Should not have been done"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="qa_reviews")
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="qa_review")
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"QA {self.contact_id}: {self.verdict}"


class DeadLetter(models.Model):
    """A task set aside instead of retried forever: it failed for good, or its
    worker died every time it ran it (a poison message). Kept with its
    arguments so an operator can see why and send it again."""

    task_name = models.CharField(max_length=128)
    task_id = models.CharField(max_length=64, unique=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    deliveries = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when an operator sent it again (or decided it needs nothing more).
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"


# --- board rollups: one tenant's closed local day, summarised -------------------------


class BoardDay(models.Model):
    """Marks a tenant's local day whose board figures are summarised in
    ``BoardDayFigure``. A day is only summarised once it has ended in the
    tenant's time zone; the day in progress is always read from the raw tables."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="one_board_day_per_tenant_day")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}"


class BoardDayFigure(models.Model):
    """One count of a summarised day: ``metric`` names what was counted and
    ``value`` the bucket (a duration in whole seconds, a CSAT score, or 0 for a
    plain count). Durations round to the second below an hour, to the minute
    below two days and to the hour beyond (see ``desk.rollups``)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    metric = models.CharField(max_length=32)
    value = models.BigIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="board_figure_tenant_day")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day} {self.metric}={self.value}×{self.count}"


class BoardDayChange(models.Model):
    """Something that counts on a board happened (or was recorded late) on this
    local day: its summary, if any, must be recomputed. Append-only, so writers
    never contend on a row; the refresh deletes what it has taken into account."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="board_change_tenant_day")]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}"
