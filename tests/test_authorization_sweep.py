"""Every URL pattern has a declared access rule, and the rule holds.

Adding a URL without adding it here fails the suite. For each tenant-scoped
page the tenant trio is checked: a member with the right role gets through,
a member with too low a role gets 403, a member of another tenant gets 404;
anonymous visitors are sent to the login page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from desk.actions import ProposalDraft, submit_proposal
from desk.models import Proposal
from integrations.models import Connection
from tenants.actions import issue_api_key
from tenants.actor import Actor
from tenants.models import ApiKey
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db

# Open to anyone: authenticated by other means (API key, signature, token) or public by nature.
PUBLIC_NAMES = {
    "healthz",
    "api:contacts",
    "api:contact",
    "api:openapi",
    "webhooks:receive",
    "desk:csat",
    "whatsapp-webhook",
    "postmark-tracking",
}
PUBLIC_PREFIXES = ("account_", "mfa_", "admin:")

# Signed-in members, no tenant in the URL: (method, role that may, role that may not or None).
MEMBER_PAGES: dict[str, tuple[str, str, str | None]] = {
    "desk:home": ("get", Role.SPECIALIST, None),
    "desk:inbox": ("get", Role.SPECIALIST, Role.MERCHANT_ADMIN),
    "desk:next": ("post", Role.SPECIALIST, Role.MERCHANT_ADMIN),
    "tenants:list": ("get", Role.SPECIALIST, None),
    "tenants:create": ("get", Role.ACCOUNT_MANAGER, Role.SPECIALIST),
    "desk:board": ("get", Role.LEAD, Role.SPECIALIST),
    "desk:board-csv": ("get", Role.LEAD, Role.SPECIALIST),
    "carriers:unmapped": ("get", Role.ADMIN, Role.ACCOUNT_MANAGER),
}


@dataclass(frozen=True)
class TenantPage:
    method: str
    allowed: str
    too_low: str
    kwargs: Callable[[dict[str, Any]], dict[str, Any]]


def slug(world):
    return {"slug": world["tenant"].slug}


def contact(world):
    return {"contact_id": world["contact"].public_id}


def proposal(world):
    return {**contact(world), "proposal_id": world["proposal"].public_id}


def version(world):
    return {**slug(world), "version_id": world["version"].public_id}


def simulation(world):
    return {**slug(world), "simulation_id": world["simulation"].public_id}


def month(world):
    return {**slug(world), "month": "2026-11"}


TENANT_PAGES: dict[str, TenantPage] = {
    "desk:contact": TenantPage("get", Role.SPECIALIST, Role.MERCHANT_ADMIN, contact),
    "agents:trace": TenantPage("get", Role.SPECIALIST, Role.MERCHANT_ADMIN, contact),
    "desk:approve": TenantPage("post", Role.SPECIALIST, Role.ACCOUNT_MANAGER, proposal),
    "desk:reject": TenantPage("post", Role.SPECIALIST, Role.ACCOUNT_MANAGER, proposal),
    "desk:co-approve": TenantPage("post", Role.LEAD, Role.SPECIALIST, proposal),
    "desk:claim": TenantPage("post", Role.SPECIALIST, Role.ACCOUNT_MANAGER, contact),
    "desk:release": TenantPage("post", Role.SPECIALIST, Role.ACCOUNT_MANAGER, contact),
    "desk:reassign": TenantPage("post", Role.LEAD, Role.SPECIALIST, contact),
    "desk:note": TenantPage("post", Role.SPECIALIST, Role.MERCHANT_ADMIN, contact),
    "desk:reply": TenantPage("post", Role.SPECIALIST, Role.ACCOUNT_MANAGER, contact),
    "desk:carrier-claim": TenantPage("post", Role.SPECIALIST, Role.ACCOUNT_MANAGER, contact),
    "desk:deliveries": TenantPage("get", Role.SPECIALIST, Role.MERCHANT_ADMIN, contact),
    "desk:send-again": TenantPage(
        "post",
        Role.SPECIALIST,
        Role.ACCOUNT_MANAGER,
        lambda w: {**contact(w), "message_id": w["reply"].pk},
    ),
    "billing:page": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "desk:overrides": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "desk:macros": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "desk:macro-delete": TenantPage(
        "post", Role.LEAD, Role.SPECIALIST, lambda w: {**slug(w), "macro_id": w["macro"].public_id}
    ),
    "desk:qa": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "nudges:rules": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "nudges:preview": TenantPage("post", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "nudges:rule": TenantPage(
        "get",
        Role.ACCOUNT_MANAGER,
        Role.LEAD,
        lambda w: {**slug(w), "rule_id": w["nudge_rule"].public_id},
    ),
    "nudges:outbox": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "nudges:send-nudge-again": TenantPage(
        "post",
        Role.ACCOUNT_MANAGER,
        Role.LEAD,
        lambda w: {**slug(w), "message_id": w["nudge"].public_id},
    ),
    "desk:tenant-board": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "desk:tenant-board-csv": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "desk:sla": TenantPage("get", Role.ACCOUNT_MANAGER, Role.SPECIALIST, slug),
    "billing:statements": TenantPage("get", Role.LEAD, Role.SPECIALIST, slug),
    "billing:statement": TenantPage("get", Role.LEAD, Role.SPECIALIST, month),
    "billing:statement-csv": TenantPage("get", Role.LEAD, Role.SPECIALIST, month),
    "billing:ledger-csv": TenantPage("get", Role.LEAD, Role.SPECIALIST, month),
    "billing:statement-print": TenantPage("get", Role.LEAD, Role.SPECIALIST, month),
    "billing:staffing": TenantPage("get", Role.LEAD, Role.MERCHANT_ADMIN, slug),
    "billing:contracts": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "policy:page": TenantPage("get", Role.ACCOUNT_MANAGER, Role.SPECIALIST, slug),
    "policy:new-draft": TenantPage("post", Role.ACCOUNT_MANAGER, Role.SPECIALIST, slug),
    "policy:diff": TenantPage("get", Role.ACCOUNT_MANAGER, Role.SPECIALIST, slug),
    "policy:version": TenantPage("get", Role.ACCOUNT_MANAGER, Role.SPECIALIST, version),
    "policy:save": TenantPage("post", Role.ACCOUNT_MANAGER, Role.SPECIALIST, version),
    "policy:change-rule": TenantPage("post", Role.ACCOUNT_MANAGER, Role.SPECIALIST, version),
    "policy:publish": TenantPage("post", Role.ACCOUNT_MANAGER, Role.SPECIALIST, version),
    "policy:try": TenantPage("post", Role.ACCOUNT_MANAGER, Role.SPECIALIST, version),
    "policy:backtest-start": TenantPage("post", Role.ACCOUNT_MANAGER, Role.SPECIALIST, version),
    "policy:backtest": TenantPage(
        "get",
        Role.ACCOUNT_MANAGER,
        Role.SPECIALIST,
        lambda w: {**slug(w), "backtest_id": w["backtest"].public_id},
    ),
    "connections:page": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "connections:test": TenantPage(
        "post",
        Role.ACCOUNT_MANAGER,
        Role.LEAD,
        lambda w: {**slug(w), "connection_id": w["connection"].public_id},
    ),
    "shipments:problems": TenantPage("get", Role.SPECIALIST, Role.MERCHANT_ADMIN, slug),
    "simulator:page": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "simulator:sample": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "simulator:run": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, simulation),
    "simulator:rerun": TenantPage("post", Role.ACCOUNT_MANAGER, Role.LEAD, simulation),
    "tenants:onboarding": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "tenants:settings": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "tenants:members": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "tenants:member-role": TenantPage("post", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "tenants:api-keys": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
    "tenants:api-key-revoke": TenantPage(
        "post",
        Role.ACCOUNT_MANAGER,
        Role.LEAD,
        lambda w: {**slug(w), "key_id": w["api_key"].public_id},
    ),
    "tenants:audit": TenantPage("get", Role.ACCOUNT_MANAGER, Role.LEAD, slug),
}


def _all_names(patterns=None, namespace: str = "") -> list[str]:
    names = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            names += _all_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            if pattern.name is None:
                names.append(f"{namespace}:<unnamed {pattern.pattern}>")
            else:
                names.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def _declared(name: str) -> bool:
    return (
        name in PUBLIC_NAMES
        or name.startswith(PUBLIC_PREFIXES)
        or name in MEMBER_PAGES
        or name in TENANT_PAGES
    )


def test_every_url_pattern_has_a_declared_access_rule():
    undeclared = sorted({name for name in _all_names() if not _declared(name)})
    assert undeclared == [], f"Declare who may use these URLs in {__name__}: {undeclared}"


def _world(tenant) -> dict[str, Any]:
    from agents.policy.actions import create_draft

    order = make_order(tenant, total="300.00", shipment_status="delivered")
    case = make_contact(tenant, order=order, body="refund please")
    draft = ProposalDraft(
        kind=Proposal.Kind.REFUND,
        amount=Decimal("300"),
        currency="USD",
        reply_draft="",
        confidence=Decimal("0.9"),
        rationale="",
    )
    offer = submit_proposal(
        case, draft, guardrails=[{"name": "x", "passed": False, "detail": "x"}], actor=Actor.agent()
    )
    document = {
        "format": 1,
        "name": "Sweep",
        "rules": [{"id": "all", "when": {}, "then": {"outcome": "review"}}],
    }
    issue_api_key(tenant, "sweep", Actor.system())
    from agents.nudges.demo import seed_demo_nudges
    from agents.nudges.models import NudgeRule

    seed_demo_nudges([tenant])
    from agents.policy.backtest import start as start_backtest

    draft_version = create_draft(tenant, document, Actor.system())
    from agents.simulator.actions import start_simulation

    simulation = start_simulation(
        tenant,
        Actor.system(),
        csv_text="body\nwhere is my order\n",
        file_name="sweep.csv",
        currency="USD",
        ai_resolution_price=Decimal("1.40"),
        human_resolution_price=Decimal("5.20"),
        deflection_floor=Decimal("0.700"),
    )
    from desk.delivery import deliver
    from desk.models import Macro, Message

    reply = Message.objects.create(
        contact=case, direction="outbound", author_type="agent", body="On its way"
    )
    deliver(reply)
    from integrations.messaging.models import OutboundMessage

    return {
        "reply": reply,
        "nudge": OutboundMessage.objects.create(
            tenant=tenant, channel="email", trigger="shipped", state="failed", idempotency_key="n1"
        ),
        "macro": Macro.objects.create(tenant=tenant, name="Sorry", body="Sorry {customer_name}"),
        "connection": Connection.objects.create(
            tenant=tenant,
            provider=Connection.Provider.SANDBOX_CARRIER,
            kind=Connection.Kind.CARRIER,
            name="Feed",
            credentials={"webhook_secret": "s"},
        ),
        "backtest": start_backtest(draft_version, days=30),
        "simulation": simulation,
        "nudge_rule": NudgeRule.objects.filter(tenant=tenant).first(),
        "tenant": tenant,
        "contact": case,
        "proposal": offer,
        "version": draft_version,
        "api_key": ApiKey.objects.get(tenant=tenant),
    }


def _call(client, method: str, url: str):
    return client.post(url, {}) if method == "post" else client.get(url)


@pytest.fixture
def worlds(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield _world(make_tenant()), make_tenant()


@pytest.mark.parametrize("name", sorted(TENANT_PAGES))
def test_tenant_page_trio(client, worlds, name):
    world, other_tenant = worlds
    page = TENANT_PAGES[name]
    url = reverse(name, kwargs=page.kwargs(world))

    assert _call(client, page.method, url).status_code == 302, "anonymous must be sent to log in"

    client.force_login(make_member(world["tenant"], page.allowed))
    allowed = _call(client, page.method, url).status_code
    assert allowed not in (403, 404, 500), f"{page.allowed} got {allowed}"

    client.force_login(make_member(world["tenant"], page.too_low))
    assert _call(client, page.method, url).status_code == 403

    client.force_login(make_member(other_tenant, page.allowed))
    assert _call(client, page.method, url).status_code == 404


@pytest.mark.parametrize("name", sorted(MEMBER_PAGES))
def test_member_pages(client, name):
    method, allowed, too_low = MEMBER_PAGES[name]
    url = reverse(name)
    assert _call(client, method, url).status_code == 302
    tenant = make_tenant()
    client.force_login(make_member(tenant, allowed))
    assert _call(client, method, url).status_code in (200, 302)
    if too_low:
        client.force_login(make_member(tenant, too_low))
        assert _call(client, method, url).status_code == 403
