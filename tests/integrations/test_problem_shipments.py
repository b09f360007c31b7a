"""The problem shipments board: each kind of trouble shows up, counted and filtered, per tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import Shipment, TrackingStatus
from integrations.queries import Problem, ProblemFilters, problem_counts, problem_shipments
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db

S = TrackingStatus


def _shipment(tenant, number, *, status, last_scan_days=None, eta_days=None, shipped_days=None):
    now = timezone.now()
    return Shipment.objects.create(
        tenant=tenant,
        order=make_order(tenant, shipment_status=None),
        carrier="ups" if number != "FDX-LATE" else "fedex",
        tracking_number=number,
        status=status,
        last_event_at=now - timedelta(days=last_scan_days) if last_scan_days is not None else None,
        estimated_delivery=(now + timedelta(days=eta_days)).date()
        if eta_days is not None
        else None,
        shipped_at=now - timedelta(days=shipped_days) if shipped_days is not None else None,
    )


@pytest.fixture
def board(db):
    tenant = make_tenant()
    shipments = {
        "exception": _shipment(tenant, "EXC", status=S.EXCEPTION, last_scan_days=1),
        "stalled": _shipment(tenant, "STALL", status=S.IN_TRANSIT, last_scan_days=9),
        "late": _shipment(tenant, "FDX-LATE", status=S.IN_TRANSIT, last_scan_days=1, eta_days=-2),
        "failed": _shipment(tenant, "ATTEMPT", status=S.FAILED_ATTEMPT, last_scan_days=1),
        "unscanned": _shipment(tenant, "LABEL", status=S.INFO_RECEIVED, shipped_days=6),
        # Fine: moving and recent, delivered long ago past its date, a fresh label.
        "moving": _shipment(tenant, "OK1", status=S.IN_TRANSIT, last_scan_days=1, eta_days=2),
        "delivered": _shipment(tenant, "OK2", status=S.DELIVERED, last_scan_days=20, eta_days=-20),
        "fresh_label": _shipment(tenant, "OK3", status=S.INFO_RECEIVED, shipped_days=1),
    }
    return tenant, shipments


def _numbers(tenant, **filters):
    qs = problem_shipments(tenant, ProblemFilters(**filters), timezone.now())
    return {s.tracking_number for s in qs}


def test_each_problem_kind_finds_its_shipment_and_nothing_healthy(board):
    tenant, _ = board

    assert _numbers(tenant, kind=Problem.EXCEPTION) == {"EXC"}
    assert _numbers(tenant, kind=Problem.STALLED) == {"STALL"}
    assert _numbers(tenant, kind=Problem.LATE) == {"FDX-LATE"}
    assert _numbers(tenant, kind=Problem.FAILED_ATTEMPT) == {"ATTEMPT"}
    assert _numbers(tenant, kind=Problem.NOT_SCANNED) == {"LABEL"}
    assert _numbers(tenant) == {"EXC", "STALL", "FDX-LATE", "ATTEMPT", "LABEL"}


def test_carrier_filter_narrows_the_list_and_the_counts(board):
    tenant, _ = board

    assert _numbers(tenant, carrier="fedex") == {"FDX-LATE"}
    counts = problem_counts(tenant, "fedex", timezone.now())
    assert counts == {k: int(k == Problem.LATE) for k in Problem.values}


def test_another_tenants_problems_are_not_listed(board):
    tenant, _ = board
    other = make_tenant()
    _shipment(other, "THEIRS", status=S.EXCEPTION, last_scan_days=1)

    assert "THEIRS" not in _numbers(tenant)


def test_page_shows_counts_rows_and_links_the_contact(client, board):
    tenant, shipments = board
    contact = make_contact(tenant, order=shipments["stalled"].order, subject="Where is it?")
    client.force_login(make_member(tenant, "specialist"))
    url = reverse("shipments:problems", kwargs={"slug": tenant.slug})

    page = client.get(url).content.decode()

    for kind in Problem.values:
        assert f'data-kind="{kind}">1<' in page
    for number in ("EXC", "STALL", "FDX-LATE", "ATTEMPT", "LABEL"):
        assert number in page
    assert "OK1" not in page and "OK2" not in page and "OK3" not in page
    assert reverse("desk:contact", kwargs={"contact_id": contact.public_id}) in page


def test_page_filters_by_kind(client, board):
    tenant, _ = board
    client.force_login(make_member(tenant, "lead"))
    url = reverse("shipments:problems", kwargs={"slug": tenant.slug})

    page = client.get(url, {"kind": "stalled"}).content.decode()

    assert "STALL" in page and "EXC" not in page


def test_htmx_refresh_returns_only_the_board(client, board):
    tenant, _ = board
    client.force_login(make_member(tenant, "specialist"))
    url = reverse("shipments:problems", kwargs={"slug": tenant.slug})

    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert partial.lstrip().startswith('<div id="problem-board"')
    assert 'hx-trigger="every 30s"' in partial
    assert "<html" not in partial


def test_board_query_count_stays_flat(client, board, django_assert_num_queries):
    tenant, _ = board
    client.force_login(make_member(tenant, "specialist"))
    url = reverse("shipments:problems", kwargs={"slug": tenant.slug})
    client.get(url)  # warm the session

    # session, user, membership; the page of rows with their orders; the
    # latest contact per order; 5 counts (one per kind); the memberships the
    # template context processor lists.
    with django_assert_num_queries(11):
        client.get(url, headers={"HX-Request": "true"})


def test_merchant_admin_is_refused_and_other_tenant_is_not_found(client, board):
    tenant, _ = board
    url = reverse("shipments:problems", kwargs={"slug": tenant.slug})

    client.force_login(make_member(tenant, "merchant_admin"))
    assert client.get(url).status_code == 403
    client.force_login(make_member(make_tenant(), "specialist"))
    assert client.get(url).status_code == 404
