"""Statement pages and exports: the tenant trio, frozen vs preview, HTMX partials."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from billing.actions import convert_on_reopen, freeze_statement, record_usage
from tenants.roles import Role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
APRIL = datetime(2026, 4, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _url(name, tenant, month="2026-04"):
    kwargs = {"slug": tenant.slug}
    if name not in ("billing:statements", "billing:staffing"):
        kwargs["month"] = month
    return reverse(name, kwargs=kwargs)


STATEMENT_VIEWS = [
    "billing:statements",
    "billing:statement",
    "billing:statement-csv",
    "billing:ledger-csv",
    "billing:statement-print",
]


@pytest.mark.parametrize("name", STATEMENT_VIEWS)
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.LEAD, 200),
        (Role.ACCOUNT_MANAGER, 200),
        (Role.MERCHANT_ADMIN, 200),
        (Role.SPECIALIST, 403),
    ],
)
def test_statement_views_check_the_role(client, name, role, expected):
    tenant = make_tenant()
    client.force_login(make_member(tenant, role))
    assert client.get(_url(name, tenant)).status_code == expected


@pytest.mark.parametrize("name", STATEMENT_VIEWS)
def test_statement_views_of_another_tenant_are_404(client, name):
    tenant = make_tenant()
    client.force_login(make_member(make_tenant(), Role.ACCOUNT_MANAGER))
    assert client.get(_url(name, tenant)).status_code == 404


@pytest.mark.parametrize("month", ["2026-13", "nonsense", "2026-06"])
def test_a_malformed_or_future_month_is_404(client, month):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.LEAD))
    assert client.get(_url("billing:statement", tenant, month)).status_code == 404


def _april(tenant):
    refs = [uuid.uuid4() for _ in range(4)]
    for ref in refs[:3]:
        record_usage(tenant, ref, by_ai=True, occurred_at=APRIL)
    record_usage(tenant, refs[3], by_ai=False, occurred_at=APRIL)
    convert_on_reopen(tenant, refs[0], reopened_at=APRIL + timedelta(hours=3))
    return refs


def test_statement_page_shows_line_items_deflection_and_the_floor_credit(client):
    tenant = make_tenant()
    _april(tenant)  # 2 AI, 2 human (one converted): 50% against a 70% floor
    client.force_login(make_member(tenant, Role.MERCHANT_ADMIN))

    html = client.get(_url("billing:statement", tenant)).content.decode()

    assert '<b id="statement-ai">2</b>' in html
    assert '<b id="statement-human">2</b>' in html
    assert '<b id="statement-deflection">50%</b>' in html
    assert "below floor, 10% credit" in html
    assert "AI resolutions reopened within 72 h, credited back" in html
    # 3×1.40 + 5.20 − 1.40 + 5.20 = 13.20; 10% credit 1.32 → 11.88
    assert "-1.32" in html
    assert '<b id="statement-total">11.88 USD</b>' in html
    assert "Provisional" in html


def test_a_frozen_month_is_shown_as_final(client):
    tenant = make_tenant()
    _april(tenant)
    freeze_statement(tenant, date(2026, 4, 1))
    record_usage(tenant, uuid.uuid4(), by_ai=False, occurred_at=APRIL)  # after the freeze
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))

    html = client.get(_url("billing:statement", tenant)).content.decode()

    assert "Final" in html
    assert '<b id="statement-human">2</b>' in html


def test_the_current_month_is_a_live_preview(client):
    tenant = make_tenant()
    record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=NOW)
    client.force_login(make_member(tenant, Role.LEAD))
    html = client.get(_url("billing:statement", tenant, "2026-05")).content.decode()
    assert "Live preview" in html
    assert '<b id="statement-ai">1</b>' in html


def test_statement_page_queries(client, django_assert_num_queries):
    tenant = make_tenant()
    _april(tenant)
    client.force_login(make_member(tenant, Role.LEAD))
    # session, user, membership with tenant, frozen statement lookup, grouped ledger,
    # contract version, and the page chrome's memberships for the menu
    with django_assert_num_queries(7):
        client.get(_url("billing:statement", tenant))


def test_htmx_month_navigation_returns_only_the_statement_partial(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.LEAD))
    response = client.get(_url("billing:statement", tenant), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="statement"')
    assert "<html" not in html


def test_statement_csv_export(client):
    tenant = make_tenant()
    _april(tenant)
    client.force_login(make_member(tenant, Role.MERCHANT_ADMIN))
    response = client.get(_url("billing:statement-csv", tenant))
    assert response["Content-Type"] == "text/csv"
    assert f"{tenant.slug}-statement-2026-04.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["ai_resolution", "AI-resolved contacts", "3", "1.40", "4.20"] in rows
    assert ["total", "11.88"] in rows


def test_ledger_csv_export_streams_every_row(client):
    tenant = make_tenant()
    refs = _april(tenant)
    client.force_login(make_member(tenant, Role.MERCHANT_ADMIN))
    response = client.get(_url("billing:ledger-csv", tenant))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 6  # 4 resolutions, 1 reversal, 1 conversion
    assert sorted(r["kind"] for r in rows if r["contact"] == str(refs[0])) == [
        "ai_resolution",
        "ai_reversal",
        "human_conversion",
    ]


def test_printable_statement_has_print_css_and_totals(client):
    tenant = make_tenant()
    _april(tenant)
    client.force_login(make_member(tenant, Role.LEAD))
    html = client.get(_url("billing:statement-print", tenant)).content.decode()
    assert "@media print" in html
    assert "@page" in html
    assert '<td class="num" id="print-total">11.88</td>' in html


def test_statement_list_shows_frozen_totals(client):
    tenant = make_tenant()
    _april(tenant)
    freeze_statement(tenant, date(2026, 4, 1))
    client.force_login(make_member(tenant, Role.LEAD))
    html = client.get(_url("billing:statements", tenant)).content.decode()
    assert "11.88 USD" in html
    assert "Live preview" in html
