"""Real Chromium: an account manager onboards a merchant to go-live; a specialist
of another merchant then finds none of its pages."""

from __future__ import annotations

import pytest

from tenants.models import Tenant
from tenants.roles import Role
from tests.browser.conftest import HAS_CHROMIUM, sign_in
from tests.factories import make_member, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed"),
]


def test_account_manager_takes_a_merchant_live_and_outsiders_get_404(browser, asgi_server):
    make_member(make_tenant(), Role.ACCOUNT_MANAGER, email="am@example.com")
    page = sign_in(browser, asgi_server, "am@example.com")

    page.goto(f"{asgi_server}/t/")
    page.click("#new-tenant")
    page.fill("input[name=name]", "Acme Apparel")
    page.fill("input[name=slug]", "acme")
    page.select_option("select[name=time_zone]", "Europe/Paris")
    page.fill("input[name=currency]", "EUR")
    page.click("#create-tenant")
    page.wait_for_url(f"{asgi_server}/t/acme/onboarding/")
    assert page.locator(".checklist li.fail").count() > 0

    page.goto(f"{asgi_server}/t/acme/connections/")
    for provider, name in (("sandbox", "Store"), ("sandbox_carrier", "Carrier feed")):
        page.select_option("select[name=provider]", provider)
        page.fill("input[name=name]", name)
        page.click("#connect")
        page.wait_for_selector(f"td:text('{name}')")

    page.goto(f"{asgi_server}/t/acme/billing/contracts/")
    page.fill("input[name=ai_resolution_price]", "1.20")
    page.fill("input[name=human_resolution_price]", "5.00")
    page.fill("input[name=starts_on]", "2026-11-01")
    page.click("#add-contract")
    page.wait_for_selector("td:text('1.20 EUR')")

    page.goto(f"{asgi_server}/t/acme/settings/")
    page.click("#save-settings")
    for email, role in (("spec@example.com", "specialist"), ("lead@example.com", "lead")):
        page.goto(f"{asgi_server}/t/acme/members/")
        page.fill("form:has(#invite) input[name=email]", email)
        page.select_option("form:has(#invite) select[name=role]", role)
        page.click("#invite")
        page.wait_for_selector(f"td:has-text('{email}')")

    # The normal priority's SLA targets, as the page proposes them.
    page.goto(f"{asgi_server}/t/acme/sla/")
    page.click("#save-sla-normal")
    page.wait_for_selector("text=Normal priority targets saved.")

    page.goto(f"{asgi_server}/t/acme/api-keys/")
    page.fill("input[name=name]", "intake")
    page.click("#issue-key")
    page.wait_for_selector("#new-key")

    # The returns policy has its own editor (tested on its own); publish a starter one here.
    from agents.policy.actions import create_draft, publish_version
    from tenants.actor import Actor

    tenant = Tenant.objects.get(slug="acme")
    document = {
        "format": 1,
        "name": "Acme",
        "rules": [{"id": "all", "when": {}, "then": {"outcome": "review"}}],
    }
    publish_version(create_draft(tenant, document, Actor.system()), Actor.system())

    page.goto(f"{asgi_server}/t/acme/onboarding/")
    assert page.locator(".checklist li.fail").count() == 0
    page.click("#go-live")
    page.wait_for_selector("text=Live since")
    tenant.refresh_from_db()
    assert tenant.went_live_at is not None

    outsider = sign_in(
        browser,
        asgi_server,
        make_member(make_tenant(), Role.ACCOUNT_MANAGER, email="other@example.com").email,
    )
    for path in (
        "onboarding/",
        "settings/",
        "members/",
        "api-keys/",
        "audit/",
        "connections/",
        "billing/",
        "board/",
    ):
        response = outsider.goto(f"{asgi_server}/t/acme/{path}")
        assert response.status == 404, path
