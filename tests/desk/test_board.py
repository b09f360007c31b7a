"""SLA boards: who may see them, what they show, CSV export, and a query count
that stays flat however many contacts there are."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.actions import record_usage
from desk import boards
from desk.models import Contact, CsatResponse, Proposal
from tenants.models import Membership
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_tenant

pytestmark = pytest.mark.django_db


def _resolved(tenant, *, by: str, minutes: float, intent: str = "wismo", **fields) -> Contact:
    now = timezone.now()
    contact = make_contact(tenant, intent=intent, **fields)
    Contact.objects.filter(pk=contact.pk).update(
        status=Contact.Status.RESOLVED,
        resolution=by,
        created_at=now - timedelta(minutes=minutes),
        resolved_at=now,
    )
    contact.refresh_from_db()
    return contact


def _board(tenant) -> str:
    return reverse("desk:tenant-board", kwargs={"slug": tenant.slug})


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.mark.parametrize("role", [Role.LEAD, Role.ACCOUNT_MANAGER])
def test_lead_and_account_manager_see_the_tenant_board(client, tenant, role):
    client.force_login(make_member(tenant, role))
    response = client.get(_board(tenant))
    assert response.status_code == 200
    assert "SLA board" in response.content.decode()


def test_specialist_cannot_see_the_tenant_board(client, tenant):
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert client.get(_board(tenant)).status_code == 403


def test_member_of_another_tenant_gets_404(client, tenant):
    client.force_login(make_member(make_tenant(), Role.LEAD))
    assert client.get(_board(tenant)).status_code == 404


def test_overview_lists_the_leads_tenants_only(client, tenant):
    other = make_tenant(name="Other shop")
    stranger = make_tenant(name="Not mine")
    lead = make_member(tenant, Role.LEAD)
    from tenants.models import Membership

    Membership.objects.create(user=lead, tenant=other, role=Role.ACCOUNT_MANAGER)
    client.force_login(lead)
    body = client.get(reverse("desk:board")).content.decode()
    assert f"board-row-{tenant.slug}" in body
    assert f"board-row-{other.slug}" in body
    assert stranger.name not in body


def test_specialist_has_no_overview(client, tenant):
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert client.get(reverse("desk:board")).status_code == 403


def test_figures_split_ai_and_human_with_medians(tenant):
    for minutes in (1, 2, 3):
        _resolved(tenant, by="ai", minutes=minutes)
    human = _resolved(tenant, by="human", minutes=60)
    CsatResponse.objects.create(tenant=tenant, contact=human, resolution="human", score=5)
    ai = Contact.objects.filter(resolution="ai").first()
    CsatResponse.objects.create(tenant=tenant, contact=ai, resolution="ai", score=2)
    make_contact(tenant, status=Contact.Status.ESCALATED)  # open backlog
    now = timezone.now()
    [f] = boards.figures([tenant], boards.period("7d", now, timezone.get_current_timezone()), now)
    assert (f.ai_resolved, f.human_resolved) == (3, 1)
    assert f.ai_share == Decimal("0.750")
    assert f.floor == Decimal("0.700")
    assert f.resolution[0] == pytest.approx(150, abs=2)  # median of 1, 2, 3 and 60 minutes
    assert f.wismo_handle_ai == pytest.approx(120, abs=2)
    assert f.backlog_total == 1
    assert (f.csat_ai.percent, f.csat_human.percent) == (0.0, 100.0)


def test_refund_cycle_is_escalation_to_refund_executed(tenant):
    done = timezone.now() - timedelta(minutes=1)
    for hours in (1, 2, 3, 6):
        contact = _resolved(tenant, by="human", minutes=hours * 60 + 5)
        Contact.objects.filter(pk=contact.pk).update(escalated_at=done - timedelta(hours=hours))
        Proposal.objects.create(
            tenant=tenant,
            contact=contact,
            kind="refund",
            status="executed",
            amount=10,
            executed_at=done,
        )
    now = timezone.now()
    [f] = boards.figures([tenant], boards.period("24h", now, timezone.get_current_timezone()), now)
    assert f.refunds == 4
    assert f.refund_share_under_target == 75.0
    assert f.refund_cycle_p80 == pytest.approx(4.2 * 3600)  # 3 h + 0.4 × (6 h - 3 h)


def test_cost_per_contact_comes_from_the_ledger(tenant, client):
    for by_ai in (True, True, True, False):
        contact = _resolved(tenant, by="ai" if by_ai else "human", minutes=5)
        record_usage(tenant, contact.public_id, by_ai=by_ai, occurred_at=timezone.now())
    client.force_login(make_member(tenant, Role.LEAD))
    body = client.get(_board(tenant)).content.decode()
    # (3 × 1.40 + 5.20) / 4 at the factory contract's prices
    assert "2.35 USD" in body
    assert "6.20" in body


def test_the_boards_show_how_many_ai_resolutions_came_back(tenant, client):
    from billing.actions import convert_on_reopen

    contacts = [_resolved(tenant, by="ai", minutes=5) for _ in range(8)]
    for contact in contacts:
        record_usage(tenant, contact.public_id, by_ai=True, occurred_at=timezone.now())
    # One customer answered within 72 hours: that deflection did not hold.
    convert_on_reopen(tenant, contacts[0].public_id, reopened_at=timezone.now())
    lead = make_member(tenant, Role.LEAD)
    client.force_login(lead)
    now = timezone.now()
    [f] = boards.figures([tenant], boards.period("7d", now, timezone.get_current_timezone()), now)
    assert (f.ai_reopened, f.reopen_rate, f.reopen_percent) == (1, Decimal("0.125"), 12.5)
    tile = client.get(_board(tenant)).content.decode()
    assert "12.5%" in tile and "1 of 8 AI resolutions reopened within 72 h" in tile
    overview = client.get(reverse("desk:board")).content.decode()
    assert "12.5%" in overview
    csv_lines = client.get(reverse("desk:tenant-board-csv", kwargs={"slug": tenant.slug}))
    header, row = csv_lines.content.decode().strip().splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=True))["ai_reopen_rate"] == "0.125"


def test_htmx_range_change_returns_only_the_figures(client, tenant):
    client.force_login(make_member(tenant, Role.LEAD))
    response = client.get(_board(tenant), {"range": "30d"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="board-figures">')
    assert "Last 30 days" in body
    assert "<html" not in body


def test_csv_export_has_a_row_per_tenant(client, tenant):
    _resolved(tenant, by="ai", minutes=1)
    client.force_login(make_member(tenant, Role.LEAD))
    response = client.get(reverse("desk:tenant-board-csv", kwargs={"slug": tenant.slug}))
    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("tenant,period_start")
    assert len(lines) == 2 and lines[1].startswith(f"{tenant.slug},")


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_tenant_board_query_count_is_constant(client, tenant):
    client.force_login(make_member(tenant, Role.LEAD))
    _resolved(tenant, by="ai", minutes=1)
    url = _board(tenant)
    # session, user, membership (access), memberships (menu); the last 24 h raw
    # (no whole day in range): resolved contacts, then refunds, breaches and CSAT;
    # backlog; ledger totals and contracts; burn-down ledger days; alert counts,
    # alert list.
    assert _count(client, url) == 12
    for minutes in range(20):
        _resolved(tenant, by="human", minutes=minutes)
        make_contact(tenant, status=Contact.Status.ESCALATED)
    assert _count(client, url) == 12
    # Over 30 days, once the closed days are summarised: stale days (none) and the
    # summed rollup come in, the partial days at both ends are still two queries.
    boards.figures(
        [tenant],
        boards.period("30d", timezone.now(), timezone.get_current_timezone()),
        timezone.now(),
    )
    assert _count(client, url + "?range=30d") == 14


def test_overview_query_count_does_not_grow_with_tenants_or_contacts(client, tenant):
    lead = make_member(tenant, Role.LEAD)
    client.force_login(lead)
    url = reverse("desk:board")
    # session, user, memberships (access), memberships (menu); the last 24 h raw
    # (two), backlog; ledger totals and contracts for all tenants; alert counts,
    # alert list.
    assert _count(client, url) == 11
    for minutes in range(20):
        _resolved(tenant, by="ai", minutes=minutes)
    other = make_tenant()
    Membership.objects.create(user=lead, tenant=other, role=Role.LEAD)
    _resolved(other, by="human", minutes=5)
    assert _count(client, url) == 11
