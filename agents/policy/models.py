"""A merchant's returns policy and its numbered versions.

A version is a draft while the account manager works on it; publishing freezes
it. Decisions record the version number and rule id, so a published version
must never change underneath them: ``save``, ``delete`` and queryset
``update``/``delete`` all refuse to touch a published row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from tenants.models import Tenant

__all__ = ["ImmutableVersionError", "Policy", "PolicyVersion"]


class ImmutableVersionError(Exception):
    """Raised on any attempt to change or delete a published policy version."""


class Policy(models.Model):
    """The returns policy of one merchant: a name and its history of versions."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="returns_policy")
    name = models.CharField(max_length=120, default="Returns policy")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return f"{self.tenant.slug}: {self.name}"

    def current(self) -> PolicyVersion | None:
        """The published version in force: the highest-numbered one."""
        return (
            self.versions.filter(status=PolicyVersion.Status.PUBLISHED).order_by("-number").first()
        )


class PolicyVersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(status=PolicyVersion.Status.PUBLISHED).exists():
            raise ImmutableVersionError("Published policy versions cannot be changed")
        return super().update(**kwargs)

    def delete(self):
        if self.filter(status=PolicyVersion.Status.PUBLISHED).exists():
            raise ImmutableVersionError("Published policy versions cannot be deleted")
        return super().delete()


class PolicyVersion(models.Model):
    """One numbered version of a policy document (rules as JSON, in the file format)."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    document = models.JSONField(help_text="The policy file as JSON: format, default and rules.")
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_version_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        # Check the stored row, not this instance: a stale draft object must not overwrite a
        # version someone else has just published.
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.PUBLISHED:
                raise ImmutableVersionError(f"Version {self.number} is published and cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise ImmutableVersionError(f"Version {self.number} is published and cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def rules(self) -> list[dict]:
        return self.document.get("rules", [])


class PolicyBacktest(models.Model):
    """A draft run over recent real cases against the version in force."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="policy_backtests")
    draft = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="backtests")
    baseline = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    days = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"backtest of v{self.draft.number} over {self.days} days ({self.status})"

    @property
    def percent(self) -> int:
        return (
            100
            if self.status == self.Status.DONE
            else int(100 * self.done / self.total)
            if self.total
            else 0
        )
