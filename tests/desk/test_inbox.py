"""The inbox: ordering by due time, filters, search, keyset paging, query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from desk import actions
from desk.actions import ProposalDraft, submit_proposal
from desk.models import Contact
from desk.queries import PAGE_SIZE
from integrations.models import Customer
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_customer, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_tasks(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def escalate(
    tenant,
    *,
    kind="refund",
    amount="300.00",
    intent="refund_request",
    body="refund please",
    customer=None,
):
    order = make_order(tenant, total="300.00", customer=customer)
    contact = make_contact(tenant, order=order, body=body, intent=intent, customer=order.customer)
    actions.refresh_search(contact)
    submit_proposal(
        contact,
        ProposalDraft(
            kind=kind,
            amount=Decimal(amount) if amount else None,
            currency="USD",
            reply_draft="",
            confidence=Decimal("0.9"),
            rationale="",
        ),
        guardrails=[{"name": "x", "passed": False, "detail": "needs a human"}],
        actor=Actor.agent(),
    )
    contact.refresh_from_db()
    return contact


def ids(response):
    return [c.pk for c in response.context["contacts"]]


def test_inbox_is_ordered_by_decision_due_time(client):
    tenant = make_tenant()
    first, second = escalate(tenant), escalate(tenant)
    Contact.objects.filter(pk=second.pk).update(sla_due_at=timezone.now() + timedelta(minutes=1))
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert ids(client.get(reverse("desk:inbox"))) == [second.pk, first.pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"intent": "wismo"}, ["wismo"]),
        ({"kind": "none"}, ["wismo", "vip"]),
        ({"band": "200-500"}, ["refund"]),
        ({"band": "under-50"}, []),
        ({"vip": "on"}, ["vip"]),
    ],
)
def test_inbox_filters(client, params, expected):
    tenant = make_tenant()
    made = {
        "refund": escalate(tenant),
        "wismo": escalate(tenant, kind="none", amount=None, intent="wismo", body="where is it"),
        "vip": escalate(
            tenant,
            kind="none",
            amount=None,
            intent="other",
            customer=make_customer(tenant, is_vip=True),
        ),
    }
    client.force_login(make_member(tenant, Role.SPECIALIST))
    got = ids(client.get(reverse("desk:inbox"), params))
    assert sorted(got) == sorted(made[name].pk for name in expected)


def test_mine_and_unassigned_scopes(client):
    tenant = make_tenant()
    me = make_member(tenant, Role.SPECIALIST)
    mine, free = escalate(tenant), escalate(tenant)
    actions.claim_contact(mine, me)
    client.force_login(me)
    assert ids(client.get(reverse("desk:inbox"), {"scope": "mine"})) == [mine.pk]
    assert ids(client.get(reverse("desk:inbox"), {"scope": "unassigned"})) == [free.pk]


def test_search_finds_order_numbers_emails_and_message_words(client):
    tenant = make_tenant()
    parka = escalate(tenant, body="the zipper on my parka broke")
    other = escalate(tenant, body="never arrived")
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert ids(client.get(reverse("desk:inbox"), {"q": "zipper"})) == [parka.pk]
    assert ids(client.get(reverse("desk:inbox"), {"q": other.order.number})) == [other.pk]
    assert ids(client.get(reverse("desk:inbox"), {"q": parka.customer_email})) == [parka.pk]


def test_keyset_pages_cover_every_escalation_once(client):
    tenant = make_tenant()
    made = {escalate(tenant).pk for _ in range(PAGE_SIZE + 7)}
    client.force_login(make_member(tenant, Role.SPECIALIST))
    first = client.get(reverse("desk:inbox"))
    cursor = first.context["next_cursor"]
    assert cursor and len(first.context["contacts"]) == PAGE_SIZE
    second = client.get(reverse("desk:inbox"), {"after": cursor})
    assert second.context["next_cursor"] is None
    seen = ids(first) + ids(second)
    assert len(seen) == len(set(seen)) and set(seen) == made


def test_a_garbled_cursor_shows_the_first_page(client):
    tenant = make_tenant()
    contact = escalate(tenant)
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert ids(client.get(reverse("desk:inbox"), {"after": "!!not-a-cursor"})) == [contact.pk]


def _count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_inbox_query_count_does_not_grow_with_rows(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.SPECIALIST))
    escalate(tenant)
    few = _count_queries(client, reverse("desk:inbox"))
    for _ in range(15):
        escalate(tenant)
    many = _count_queries(client, reverse("desk:inbox"))
    # session, user, memberships (tenants), contacts page, their proposals,
    # per-tenant open counts, memberships for the navigation
    assert few == many <= 8


def test_decision_packet_query_count_does_not_grow_with_history(client):
    tenant = make_tenant()
    user = make_member(tenant, Role.SPECIALIST)
    client.force_login(user)
    contact = escalate(tenant)
    url = reverse("desk:contact", kwargs={"contact_id": contact.public_id})
    few = _count_queries(client, url)
    for i in range(10):
        actions.add_note(contact, user, f"note {i}")
    assert _count_queries(client, url) == few


def test_customers_are_not_shared_between_tenants():
    a, b = make_tenant(), make_tenant()
    make_customer(a, email="same@example.com")
    make_customer(b, email="same@example.com")
    assert Customer.objects.filter(email="same@example.com").count() == 2
