"""What one agent run costs the database: a ceiling on queries per contact, so a
change that reads a row once per use again (an N+1, a read-back) fails here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.tasks import handle_contact
from desk.models import Contact
from integrations.messaging import actions as outbox
from integrations.messaging.models import OutboundMessage
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db


def _queries_of_one_run(contact: Contact, capture) -> int:
    # A desk in service has its per-process caches warm (content types, which
    # tenants have Klaviyo or Gorgias): one run first, so the count is the same
    # whichever test ran before.
    warm = make_contact(contact.tenant, order=make_order(contact.tenant), body="where is it?")
    with capture(execute=False):
        handle_contact.run(contact_id=warm.pk)
    # What the commit sets off (the live push, the outbox sends) is counted apart;
    # here only the task's body is.
    with capture(execute=False), CaptureQueriesContext(connection) as queries:
        handle_contact.run(contact_id=contact.pk)
    return len(queries.captured_queries)


def test_a_wismo_contact_is_answered_within_its_query_budget(django_capture_on_commit_callbacks):
    # Out of the blind QA sample (a hash of the contact's random id picks it):
    # the count is the common path's, not one run in twenty's.
    tenant = make_tenant(qa_sample_percent=0)
    order = make_order(tenant)
    contact = make_contact(tenant, order=order, body="where is my order??")

    count = _queries_of_one_run(contact, django_capture_on_commit_callbacks)

    contact.refresh_from_db()
    assert contact.status == Contact.Status.RESOLVED
    # Read the contact (with tenant, order, customer) and its messages; order lines,
    # refunds, shipments and their events; the customer's counts for the history and
    # the risk signals (1); the guardrails reuse both; lock the contact's row alone,
    # insert the proposal already executed, resolve it with what the agent understood
    # in the same UPDATE (the reply and the survey in one insert and their outbox rows
    # in another, opt-outs read when they are sent; the usage record priced by the
    # insert itself, rollup, SLA clocks, both audit rows in one insert); the run and
    # its trace in one insert as it ends; the order's returns.
    assert count <= 21, f"{count} queries"


def test_an_escalated_refund_stays_within_its_query_budget(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want a refund")

    count = _queries_of_one_run(contact, django_capture_on_commit_callbacks)

    contact.refresh_from_db()
    assert contact.status == Contact.Status.ESCALATED
    # As for WISMO up to the guardrails, which here also check the money (the remainder
    # from the refunds the evidence read, today's auto-refunds against the cap) and
    # reuse the risk signals of the evidence; then the proposal, the escalation (with the
    # understanding and the risk flags in its UPDATE) with its SLA clocks and holding
    # message, and the audit row; the order's returns, as evidence.
    assert count <= 20, f"{count} queries"


def test_the_reply_and_survey_of_a_wismo_resolution_leave_within_their_query_budget(
    django_capture_on_commit_callbacks,
):
    # The survey sent with the answer (no delay), the costlier case.
    tenant = make_tenant(qa_sample_percent=0, csat_survey_delay_hours=0)
    contact = make_contact(tenant, order=make_order(tenant), body="where is my order??")
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        handle_contact.run(contact_id=contact.pk)

    # What the resolution's commit sets off, as the agent's task runs it: each message
    # is claimed (read back with its opt-out in the same statement) and marked sent;
    # the tenant's email sender is read once; email has no session window; nobody has
    # the contact open, so the live pushes read nothing.
    with CaptureQueriesContext(connection) as queries, outbox.send_after_commit_here():
        for hook in after_commit:
            hook()

    sent = OutboundMessage.objects.filter(to=contact.customer_email)
    assert sorted(sent.values_list("state", flat=True)) == ["sent", "sent"]
    count = len(queries.captured_queries)
    assert count <= 5, f"{count} queries"
