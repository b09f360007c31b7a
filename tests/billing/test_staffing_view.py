"""The staffing planner page: leads plan, merchants cannot."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tenants.roles import Role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


def _url(tenant):
    return reverse("billing:staffing", kwargs={"slug": tenant.slug})


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.LEAD, 200),
        (Role.ACCOUNT_MANAGER, 200),
        (Role.MERCHANT_ADMIN, 403),
        (Role.SPECIALIST, 403),
    ],
)
def test_staffing_page_checks_the_role(client, role, expected):
    tenant = make_tenant()
    client.force_login(make_member(tenant, role))
    assert client.get(_url(tenant)).status_code == expected


def test_staffing_page_of_another_tenant_is_404(client):
    tenant = make_tenant()
    client.force_login(make_member(make_tenant(), Role.LEAD))
    assert client.get(_url(tenant)).status_code == 404


def test_staffing_page_defaults_to_the_reference_case(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.LEAD))
    html = client.get(_url(tenant)).content.decode()
    row = html.split('<tr id="peak-1">', 1)[1].split("</tr>", 1)[0]
    assert "<b>14</b>" in row
    assert "<b>20</b>" in row
    assert "0.888" in row
    assert "0.714" in row
    assert "0.174" in row
    assert 'id="peak-5"' in html


def test_staffing_htmx_request_returns_the_plan_partial(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.LEAD))
    query = "?arrivals=200&interval_minutes=30&handle_seconds=180&target_seconds=20&service_level_percent=80&shrinkage_percent=0"
    html = client.get(_url(tenant) + query, headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<section id="staffing-plan"')


def test_staffing_form_rejects_bad_input(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.LEAD))
    html = client.get(_url(tenant) + "?arrivals=-5").content.decode()
    assert "Check the figures above." in html
