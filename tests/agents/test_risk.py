"""Risk signals: each raised from system data, each with an explanation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agents import risk
from agents.tools import get_customer_history
from desk.models import Contact, Decision, Message, Proposal
from integrations.models import Order, Refund
from tenants.roles import Role
from tests.agents.helpers import analyze, rows_read
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


def _names(signals) -> list[str]:
    return [s.name for s in signals]


def test_an_ordinary_customer_raises_nothing():
    tenant = make_tenant()
    order = make_order(tenant, total="80.00")
    assert risk.assess(tenant, order=order, customer=order.customer) == []


def test_refund_velocity_counts_recent_refunds_to_the_same_email():
    tenant = make_tenant()
    order = make_order(tenant)
    for n in range(2):
        earlier = make_order(tenant, customer=order.customer)
        Refund.objects.create(
            tenant=tenant,
            order=earlier,
            amount=Decimal("30"),
            currency="USD",
            idempotency_key=f"k{n}",
        )
    signals = risk.assess(tenant, order=order, customer=order.customer)
    assert _names(signals) == ["refund_velocity"]
    assert "2 refunds totalling 60.00" in signals[0].explanation


def test_repeat_not_received_needs_an_earlier_claim_from_the_same_customer():
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="delivered")
    make_order(tenant, customer=order.customer)  # not a first order
    contact = make_contact(tenant, order=order, body="It never arrived")
    assert (
        risk.assess(
            tenant, order=order, customer=order.customer, contact=contact, claim="not_received"
        )
        == []
    )
    earlier = make_contact(tenant, order=make_order(tenant, customer=order.customer))
    Message.objects.create(
        contact=earlier, direction="inbound", author_type="customer", body="parcel not received"
    )
    signals = risk.assess(
        tenant, order=order, customer=order.customer, contact=contact, claim="not_received"
    )
    assert _names(signals) == ["repeat_not_received"]


def test_high_value_starts_at_twice_the_auto_limit():
    tenant = make_tenant(auto_refund_limit=Decimal("100"))
    assert risk.assess(tenant, order=make_order(tenant, total="199.99"), customer=None) == []
    signals = risk.assess(tenant, order=make_order(tenant, total="200.00"), customer=None)
    assert _names(signals) == ["high_value"]


def test_new_customer_only_counts_with_an_unverifiable_claim():
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="delivered")
    assert risk.assess(tenant, order=order, customer=order.customer) == []
    signals = risk.assess(tenant, order=order, customer=order.customer, claim="not_received")
    assert _names(signals) == ["new_customer"]


def test_address_mismatch_compares_billing_and_shipping():
    tenant = make_tenant()
    order = make_order(tenant)
    Order.objects.filter(pk=order.pk).update(
        shipping_address={"country_code": "US", "zip": "10001"},
        raw={"billing_address": {"country_code": "NG", "zip": "100001"}},
    )
    order.refresh_from_db()
    signals = risk.assess(tenant, order=order, customer=None)
    assert _names(signals) == ["address_mismatch"]
    assert "NG" in signals[0].explanation


def test_flagged_by_store_tag_or_by_an_earlier_fraud_rejection():
    tenant = make_tenant()
    tagged = make_order(tenant)
    Order.objects.filter(pk=tagged.pk).update(raw={"customer": {"tags": "vip, chargeback"}})
    tagged.refresh_from_db()
    assert _names(risk.assess(tenant, order=tagged, customer=None)) == ["flagged_customer"]

    order = make_order(tenant)
    old = make_contact(tenant, order=make_order(tenant, customer=order.customer))
    proposal = Proposal.objects.create(tenant=tenant, contact=old, kind="refund")
    Decision.objects.create(
        tenant=tenant,
        proposal=proposal,
        decided_by=make_member(tenant, Role.SPECIALIST),
        outcome="reject",
        reason_code=Decision.Reason.FRAUD_RISK,
        created_at=timezone.now() - timedelta(days=20),
    )
    signals = risk.assess(tenant, order=order, customer=order.customer)
    assert _names(signals) == ["flagged_customer"]
    assert "fraud" in signals[0].explanation


def test_risk_signals_land_in_the_evidence_and_stop_a_refund(django_capture_on_commit_callbacks):
    from tests.agents.helpers import failed, run_agent

    tenant = make_tenant()
    order = make_order(tenant, total="50.00", shipment_status="delivered")
    Order.objects.filter(pk=order.pk).update(raw={"tags": "fraud"})
    contact = make_contact(tenant, order=order, body="I want a refund please")
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.ESCALATED
    proposal = contact.current_proposal
    assert failed(proposal.guardrails) == ["no_risk_flags"]
    assert proposal.evidence["risk"][0]["name"] == "flagged_customer"
    assert proposal.evidence["risk"][0]["explanation"]
    assert contact.risk_flags == ["flagged_customer"]


def test_a_customer_s_counts_are_read_once_by_address_in_any_case_within_the_merchant():
    tenant = make_tenant()
    order = make_order(tenant)
    email = order.email
    now = timezone.now()
    older = make_order(tenant, customer=order.customer)
    for n, days_ago in enumerate([5, 45, 200]):  # velocity, history, neither
        refund = Refund.objects.create(
            tenant=tenant,
            order=older,
            amount=Decimal("10"),
            currency="USD",
            idempotency_key=f"r{n}",
        )
        Refund.objects.filter(pk=refund.pk).update(created_at=now - timedelta(days=days_ago))
    this = make_contact(tenant, order=order)
    make_contact(tenant, customer_email=email.upper())  # an earlier one, in capitals
    Contact.objects.filter(pk=make_contact(tenant, customer_email=email).pk).update(
        created_at=now - timedelta(days=120)
    )
    # Another merchant's customer with the same address counts for nothing here.
    elsewhere = make_tenant()
    make_contact(elsewhere, customer_email=email)
    Refund.objects.create(
        tenant=elsewhere,
        order=make_order(elsewhere),
        amount=Decimal("99"),
        currency="USD",
        idempotency_key="other",
    )

    facts = risk.customer_facts(tenant, email.upper(), besides_contact=this.pk)

    assert facts == risk.CustomerFacts(
        orders=2,
        contacts_90d=1,
        refunds_90d=2,
        refunded_90d=Decimal("20"),
        velocity_refunds=1,
        velocity_refunded=Decimal("10"),
        fraud_rejections=0,
    )
    assert risk.customer_facts(tenant, "") is None


def test_a_customer_s_counts_read_their_own_refunds_not_all_the_merchant_s():
    # A merchant that grew since PostgreSQL last took its statistics now refunds
    # thousands of orders a month: the counts behind every contact must not read them.
    tenant = make_tenant()
    mine = make_order(tenant)
    Refund.objects.create(tenant=tenant, order=mine, amount=10, currency="USD", idempotency_key="m")
    analyze("integrations_refund", "integrations_order")
    theirs = make_order(tenant)
    Refund.objects.bulk_create(
        Refund(tenant=tenant, order=theirs, amount=1, currency="USD", idempotency_key=f"t{n}")
        for n in range(5_000)
    )

    assert risk.customer_facts(tenant, mine.email).refunds_90d == 1
    values = risk._customer_facts_values(tenant, mine.email)
    assert rows_read(risk._CUSTOMER_FACTS_SQL, values, "integrations_refund") <= 1


def test_a_customer_s_earlier_contacts_are_counted_up_to_a_cap():
    # Someone who wrote hundreds of times is "50 or more" to a specialist, and each
    # new contact must not read all of their earlier ones to say so.
    tenant = make_tenant()
    order = make_order(tenant)
    Contact.objects.bulk_create(
        Contact(tenant=tenant, order=order, customer_email=order.email, subject=f"#{n}")
        for n in range(risk.CONTACTS_COUNTED + 30)
    )
    this = make_contact(tenant, order=order)
    analyze("desk_contact")

    assert risk.customer_facts(tenant, order.email, besides_contact=this.pk).contacts_90d == (
        risk.CONTACTS_COUNTED
    )
    values = risk._customer_facts_values(tenant, order.email, besides_contact=this.pk)
    assert rows_read(risk._CUSTOMER_FACTS_SQL, values, "desk_contact") <= risk.CONTACTS_COUNTED + 1
    history = get_customer_history(this, order.customer)
    assert history["contacts_90d"] == risk.CONTACTS_COUNTED
    assert history["contacts_90d_or_more"] is True


def test_below_the_cap_the_count_is_exact():
    tenant = make_tenant()
    order = make_order(tenant)
    this = make_contact(tenant, order=order)
    make_contact(tenant, order=order)

    history = get_customer_history(this, order.customer)

    assert (history["contacts_90d"], history["contacts_90d_or_more"]) == (1, False)
