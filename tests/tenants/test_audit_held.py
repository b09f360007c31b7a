"""Audit rows an action writes together go in with one insert, inside its transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from tenants.actions import audit, audits_in_one_insert
from tenants.actor import Actor
from tenants.models import AuditEvent
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def test_rows_written_in_the_block_go_in_with_one_insert_in_their_order():
    tenant = make_tenant()
    with CaptureQueriesContext(connection) as queries, audits_in_one_insert():
        audit(tenant, Actor.agent(), "proposal.submit", tenant)
        audit(tenant, Actor.agent(), "contact.resolve", tenant, {"by": "ai"})
        assert not AuditEvent.objects.exists()  # held until the block ends

    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    rows = list(AuditEvent.objects.order_by("created_at", "id"))
    assert [r.verb for r in rows] == ["proposal.submit", "contact.resolve"]
    assert rows[1].data == {"by": "ai"}


def test_each_held_row_is_announced_as_saved_once_written():
    tenant = make_tenant()
    announced = []

    def receiver(sender, instance, created, **kwargs):
        announced.append((instance.verb, instance.pk is not None, created))

    post_save.connect(receiver, sender=AuditEvent, dispatch_uid="test-held-audit")
    try:
        with audits_in_one_insert():
            audit(tenant, Actor.agent(), "proposal.submit", tenant)
            audit(tenant, Actor.agent(), "contact.resolve", tenant)
            assert announced == []
    finally:
        post_save.disconnect(dispatch_uid="test-held-audit", sender=AuditEvent)
    assert announced == [("proposal.submit", True, True), ("contact.resolve", True, True)]


def test_a_block_that_raises_writes_none_of_its_rows():
    tenant = make_tenant()
    with pytest.raises(RuntimeError), transaction.atomic(), audits_in_one_insert():
        audit(tenant, Actor.agent(), "proposal.submit", tenant)
        raise RuntimeError("the action failed")
    assert not AuditEvent.objects.exists()
    # And an audit after it is written at once again.
    audit(tenant, Actor.agent(), "contact.note", tenant)
    assert AuditEvent.objects.count() == 1


def test_a_nested_block_writes_with_the_outer_one():
    tenant = make_tenant()
    with audits_in_one_insert():
        with audits_in_one_insert():
            audit(tenant, Actor.agent(), "inner", tenant)
        assert not AuditEvent.objects.exists()
        audit(tenant, Actor.agent(), "outer", tenant)
    assert sorted(AuditEvent.objects.values_list("verb", flat=True)) == ["inner", "outer"]
