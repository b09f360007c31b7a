"""Who may see what: users, merchant tenants, memberships, API keys, audit."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tenants.roles import Role, role_grants


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in: specialist, lead, account manager or merchant admin.

    Signs in with the email address; there is no username."""

    username = None
    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


def default_reply_languages() -> list[str]:
    """Every language the agent's replies are written in (agents/replies.py)."""
    return ["en", "es", "de", "fr", "it", "pt"]


class Tenant(models.Model):
    """A merchant served by the desk, with its autonomy settings for the agent."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="UTC")
    currency = models.CharField(max_length=3, default="USD")
    locale = models.CharField(max_length=16, default="en")
    # Languages the agent may answer in when the customer writes in one of them;
    # any other language gets ``locale``. Empty: always ``locale``.
    reply_languages = models.JSONField(default=default_reply_languages, blank=True)
    # Autonomy: what the agent may do without a human (guardrails read these).
    auto_refund_limit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("200"))
    daily_auto_refund_cap = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("2000")
    )
    specialist_approval_limit = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("500")
    )
    confidence_threshold = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0.70")
    )
    # Hours a human decision on an escalation may take before it breaches.
    decision_sla_hours = models.PositiveSmallIntegerField(default=4)
    auto_action_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text="Proposal kinds the agent may execute alone; empty means the default set.",
    )
    is_active = models.BooleanField(default=True)
    # Quality: the share of AI resolutions sampled for blind review, in percent.
    qa_sample_percent = models.PositiveSmallIntegerField(default=5)
    # Hours the satisfaction survey waits after a resolution, so the customer answers
    # once they know whether the answer held (the parcel came, the refund landed);
    # a contact that reopens meanwhile is not surveyed. 0 sends it with the answer.
    csat_survey_delay_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MaxValueValidator(168)]
    )
    # Sent to the customer when a case goes to a human; blank sends nothing.
    holding_message = models.TextField(blank=True)
    # Retention, in days: personal data of resolved contacts, raw webhook
    # deliveries, and the inputs/outputs of agent traces. Past it, a nightly task
    # anonymises or blanks them and keeps the rows (desk/retention.py).
    personal_data_retention_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(30), MaxValueValidator(3650)]
    )
    webhook_payload_retention_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(7), MaxValueValidator(3650)]
    )
    agent_trace_retention_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(7), MaxValueValidator(3650)]
    )
    # Onboarding: when an account manager confirmed the autonomy settings, and
    # when it went live.
    autonomy_confirmed_at = models.DateTimeField(null=True, blank=True)
    went_live_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role at one tenant; a user may belong to several tenants."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    def can(self, permission: str) -> bool:
        return role_grants(self.role, permission)


class ApiKey(models.Model):
    """A tenant's key for the intake API. Only a SHA-256 of the secret is kept:
    keys are long random strings, so a slow hash buys nothing."""

    PREFIX = "pd"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    lookup = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant.slug}: {self.name}"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def split(cls, raw_key: str) -> tuple[str, str] | None:
        parts = raw_key.split("_", 2)
        if len(parts) != 3 or parts[0] != cls.PREFIX:
            return None
        return parts[1], parts[2]

    @classmethod
    def new_raw_key(cls) -> tuple[str, str, str]:
        lookup = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return lookup, secret, f"{cls.PREFIX}_{lookup}_{secret}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """Append-only record of every state change that matters, human or agent."""

    class ActorType(models.TextChoices):
        MEMBER = "member"
        AGENT = "agent"
        API = "api"
        SYSTEM = "system"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="audit_events")
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor_label or self.actor_type} {self.verb} {self.object_type}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only")
        super().save(*args, **kwargs)
