"""Backtest: a draft against the version in force over recent return cases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from agents.policy import backtest
from agents.policy.actions import create_draft, publish_version
from agents.policy.models import PolicyBacktest
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db

GENEROUS = {
    "format": 1,
    "name": "Generous",
    "rules": [{"id": "refund-all", "when": {}, "then": {"outcome": "refund"}}],
}
STRICT = {
    "format": 1,
    "name": "Generous",
    "rules": [
        {"id": "cheap-refund", "when": {"price": {"max": "50.00"}}, "then": {"outcome": "refund"}},
        {"id": "rest-review", "when": {}, "then": {"outcome": "review"}},
    ],
}


@pytest.fixture
def tenant():
    tenant = make_tenant()
    publish_version(create_draft(tenant, GENEROUS, Actor.system()), Actor.system())
    for total in ("30.00", "80.00", "120.00"):
        make_contact(
            tenant,
            order=make_order(tenant, total=total, shipment_status="delivered"),
            intent="return_request",
        )
    make_contact(
        tenant, order=make_order(tenant, total="500.00"), intent="wismo"
    )  # not a return case
    return tenant


def test_backtest_compares_decisions_money_and_billing(tenant, django_capture_on_commit_callbacks):
    draft = create_draft(tenant, STRICT, Actor.system())
    with django_capture_on_commit_callbacks(execute=False):
        run = backtest.start(draft, days=30)
    result = backtest.execute(run.pk).result

    assert (result["cases"], result["lines"], result["lines_changed"]) == (3, 3, 2)
    assert result["refunds"] == {"published": "230.00", "draft": "30.00"}
    assert result["agent_alone"] == {"published": 3, "draft": 1}
    # 3 × 1.40 before; 1 × 1.40 + 2 × 5.20 after
    assert result["billing"]["published"] == "4.20"
    assert result["billing"]["draft"] == "11.80"
    assert {e["after"]["rule"] for e in result["examples"]} == {"rest-review"}


def test_running_a_finished_backtest_again_changes_nothing(
    tenant, django_capture_on_commit_callbacks
):
    draft = create_draft(tenant, STRICT, Actor.system())
    with django_capture_on_commit_callbacks(execute=False):
        run = backtest.start(draft, days=30)
    first = backtest.execute(run.pk)
    again = backtest.execute(run.pk)
    assert again.finished_at == first.finished_at
    assert PolicyBacktest.objects.get(pk=run.pk).status == PolicyBacktest.Status.DONE


def test_the_backtest_page_shows_progress_then_the_comparison(
    client, tenant, django_capture_on_commit_callbacks
):
    draft = create_draft(tenant, STRICT, Actor.system())
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse(
                "policy:backtest-start", kwargs={"slug": tenant.slug, "version_id": draft.public_id}
            )
        )
    run = PolicyBacktest.objects.get()
    assert response["Location"] == reverse(
        "policy:backtest", kwargs={"slug": tenant.slug, "backtest_id": run.public_id}
    )
    assert 'id="backtest-progress"' in client.get(response["Location"]).content.decode()
    backtest.execute(run.pk)
    html = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'id="backtest-summary"' in html and "11.80" in html
    assert Decimal(run.tenant.contracts.get().ai_resolution_price) == Decimal("1.40")
