"""The policy editor: who may use it, and each screen on the HTMX and plain paths."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.policy import actions
from agents.policy.models import PolicyVersion
from agents.policy.schema import dump_text
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_member, make_tenant

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.agents.policy.urls")]

SYSTEM = Actor.system("test")
DOC = {
    "format": 1,
    "rules": [
        {"id": "final-sale", "when": {"final_sale": True}, "then": {"outcome": "reject"}},
        {
            "id": "window-30",
            "when": {"days_since": {"from": "delivered", "max": 30}},
            "then": {"outcome": "refund", "return_shipping": {"fee": "5.00"}},
        },
    ],
}


@pytest.fixture
def shop():
    tenant = make_tenant(slug="shop", currency="USD", time_zone="America/New_York")
    published = actions.publish_version(actions.create_draft(tenant, DOC, SYSTEM), SYSTEM)
    draft = actions.create_draft(tenant, DOC, SYSTEM)
    return tenant, published, draft


def _urls(tenant, published, draft) -> dict[str, tuple[str, str, dict]]:
    v = {"slug": tenant.slug, "version_id": draft.public_id}
    sample = {
        "sku": "SKU-1",
        "unit_price": "40.00",
        "quantity": "1",
        "sales_channel": "online_store",
        "condition": "opened",
        "reason": "changed_mind",
        "delivered_on": "2026-03-01",
        "as_of": "2026-03-20",
    }
    return {
        "page": ("get", reverse("policy:page", kwargs={"slug": tenant.slug}), {}),
        "diff": ("get", reverse("policy:diff", kwargs={"slug": tenant.slug}), {}),
        "version": ("get", reverse("policy:version", kwargs=v), {}),
        "new-draft": ("post", reverse("policy:new-draft", kwargs={"slug": tenant.slug}), {}),
        "save": ("post", reverse("policy:save", kwargs=v), {"text": dump_text(DOC)}),
        "change-rule": (
            "post",
            reverse("policy:change-rule", kwargs=v),
            {"rule_id": "window-30", "direction": "up"},
        ),
        "publish": ("post", reverse("policy:publish", kwargs=v), {}),
        "try": ("post", reverse("policy:try", kwargs=v), sample),
    }


VIEWS = ["page", "diff", "version", "new-draft", "save", "change-rule", "publish", "try"]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.ADMIN])
def test_account_managers_and_admins_may_use_every_view(client, shop, view, role):
    client.force_login(make_member(shop[0], role))
    method, url, data = _urls(*shop)[view]
    response = getattr(client, method)(url, data)
    assert response.status_code in (200, 302)
    if method == "get":
        assert response.status_code == 200


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("role", [Role.SPECIALIST, Role.LEAD, Role.MERCHANT_ADMIN])
def test_roles_without_tenant_manage_get_403(client, shop, view, role):
    client.force_login(make_member(shop[0], role))
    method, url, data = _urls(*shop)[view]
    assert getattr(client, method)(url, data).status_code == 403
    assert PolicyVersion.objects.count() == 2


@pytest.mark.parametrize("view", VIEWS)
def test_another_tenants_account_manager_gets_404(client, shop, view):
    client.force_login(make_member(make_tenant(), Role.ACCOUNT_MANAGER))
    method, url, data = _urls(*shop)[view]
    assert getattr(client, method)(url, data).status_code == 404


def test_a_version_of_another_tenant_is_404_even_for_its_own_manager(client, shop):
    other = make_tenant(slug="other")
    foreign = actions.create_draft(other, DOC, SYSTEM)
    client.force_login(make_member(shop[0], Role.ACCOUNT_MANAGER))
    url = reverse("policy:version", kwargs={"slug": "shop", "version_id": foreign.public_id})
    assert client.get(url).status_code == 404
    bad = reverse("policy:version", kwargs={"slug": "shop", "version_id": "not-a-uuid"})
    assert client.get(bad).status_code == 404


@pytest.fixture
def manager(client, shop):
    client.force_login(make_member(shop[0], Role.ACCOUNT_MANAGER))
    return client


def test_policy_page_lists_versions_and_the_one_in_force(manager, shop):
    response = manager.get(reverse("policy:page", kwargs={"slug": "shop"}))
    body = response.content.decode()
    assert "In force:" in body and "version 1</a>" in body
    assert body.count('<span class="status">draft</span>') == 1


def test_save_with_htmx_returns_the_editor_partial_with_errors_by_rule_and_field(manager, shop):
    draft = shop[2]
    url = reverse("policy:save", kwargs={"slug": "shop", "version_id": draft.public_id})
    bad = "format: 1\nrules:\n  - id: fee\n    then: {outcome: refund, restocking_fee: {percent: 120}}\n"
    response = manager.post(url, {"text": bad}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="policy-editor"')
    assert "rule &#x27;fee&#x27;, field then.restocking_fee.percent" in body
    assert "<html" not in body
    draft.refresh_from_db()
    assert draft.document == DOC


def test_save_without_htmx_redirects_back_to_the_version(manager, shop):
    draft = shop[2]
    url = reverse("policy:save", kwargs={"slug": "shop", "version_id": draft.public_id})
    changed = {**DOC, "rules": DOC["rules"][::-1]}
    response = manager.post(url, {"text": dump_text(changed)})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/versions/{draft.public_id}/")
    draft.refresh_from_db()
    assert [r["id"] for r in draft.rules] == ["window-30", "final-sale"]


def test_invalid_save_without_htmx_shows_the_page_with_errors(manager, shop):
    url = reverse("policy:save", kwargs={"slug": "shop", "version_id": shop[2].public_id})
    response = manager.post(url, {"text": "format: 1\nrules:\n  - id: x\n"})
    assert response.status_code == 400
    assert "rule &#x27;x&#x27;, field then: is required" in response.content.decode()


def test_a_published_version_cannot_be_saved(manager, shop):
    url = reverse("policy:save", kwargs={"slug": "shop", "version_id": shop[1].public_id})
    response = manager.post(
        url, {"text": dump_text({**DOC, "rules": DOC["rules"][:1]})}, follow=True
    )
    assert response.redirect_chain[0][1] == 302
    assert "Version 1 is published and cannot change" in response.content.decode()
    shop[1].refresh_from_db()
    assert shop[1].document == DOC


def test_reorder_with_htmx_returns_the_rule_table(manager, shop):
    draft = shop[2]
    url = reverse("policy:change-rule", kwargs={"slug": "shop", "version_id": draft.public_id})
    response = manager.post(
        url, {"rule_id": "window-30", "direction": "up"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="rule-table"')
    assert body.index('id="rule-window-30"') < body.index('id="rule-final-sale"')
    draft.refresh_from_db()
    assert [r["id"] for r in draft.rules] == ["window-30", "final-sale"]
    manager.post(url, {"rule_id": "final-sale", "direction": "remove"})
    draft.refresh_from_db()
    assert [r["id"] for r in draft.rules] == ["window-30"]


def test_try_a_line_in_place(manager, shop):
    url = reverse("policy:try", kwargs={"slug": "shop", "version_id": shop[2].public_id})
    _, _, data = _urls(*shop)["try"]
    response = manager.post(url, data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="try-result"')
    assert '<span class="kind">refund</span> by rule <code>window-30</code>' in body
    assert "35.00 USD" in body  # 40.00 less 5.00 return postage
    plain = manager.post(url, {**data, "unit_price": "lots"})
    assert plain.status_code == 400


def test_publish_puts_the_draft_in_force(manager, shop):
    draft = shop[2]
    response = manager.post(
        reverse("policy:publish", kwargs={"slug": "shop", "version_id": draft.public_id})
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published


def test_new_draft_copies_the_latest_version(manager, shop):
    response = manager.post(reverse("policy:new-draft", kwargs={"slug": "shop"}))
    latest = PolicyVersion.objects.order_by("-number").first()
    assert response["Location"].endswith(f"/versions/{latest.public_id}/")
    assert (latest.number, latest.document, latest.note) == (3, DOC, "Copy of version 2")


def test_diff_shows_rule_changes(manager, shop):
    draft = shop[2]
    rules = [
        DOC["rules"][1] | {"then": {"outcome": "store_credit"}},
        {"id": "vip", "when": {"vip": True}, "then": {"outcome": "refund"}},
    ]
    actions.update_draft(draft, {**DOC, "rules": rules}, SYSTEM)
    response = manager.get(reverse("policy:diff", kwargs={"slug": "shop"}), {"a": 1, "b": 2})
    body = response.content.decode()
    assert "Version 1 → version 2" in body
    assert '<tr class="change-changed">\n  <td><code>window-30</code></td><td>changed</td>' in body
    assert "then.outcome, then.return_shipping.fee" in body
    assert "<td><code>vip</code></td><td>added</td>" in body
    assert "<td><code>final-sale</code></td><td>removed</td>" in body
