"""The provider catalogue: every connectable provider declared once, next to its code,
and a connect form that asks for the chosen provider's credentials only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations import providers
from integrations.carriers.client import HttpClient
from integrations.commerce import CommerceAdapter
from integrations.models import Connection
from integrations.shopify.client import ShopifyClient
from tenants.roles import Role
from tests.factories import log_in, make_member, make_tenant

KINDS = set(Connection.Kind.values)


def test_every_declared_provider_is_complete():
    catalogue = providers.catalogue()
    assert {"sandbox", "shopify", "ups", "aftership", "twilio", "whatsapp", "email"} <= set(
        catalogue
    )
    for code, spec in catalogue.items():
        assert spec.code == code
        assert spec.kind in KINDS, code
        assert spec.check is not None, f"{code} has no connection test"
        names = [f.name for f in spec.fields]
        assert len(names) == len(set(names)), code
        if spec.adapter:
            assert issubclass(spec.adapter_class(), CommerceAdapter), code
        if spec.tracking_client:
            client = spec.tracking_client_class()
            assert issubclass(client, HttpClient), code
            assert client.carrier == code
            assert client.credential_fields, f"{code} asks for no credentials"


def test_carriers_with_a_client_are_the_connectable_ones():
    assert {"ups", "aftership"} <= providers.tracking_client_codes()
    assert "sandbox_carrier" not in providers.tracking_client_codes()


@pytest.mark.django_db
def test_the_form_asks_for_the_chosen_providers_fields_only(client):
    tenant = make_tenant()
    log_in(client, make_member(tenant, Role.ACCOUNT_MANAGER))
    url = reverse("connections:page", kwargs={"slug": tenant.slug})

    ups = client.get(url, {"provider": "ups"}, HTTP_HX_REQUEST="true")
    assert ups.status_code == 200
    body = ups.content.decode()
    assert 'name="client_id"' in body and 'name="client_secret"' in body
    assert 'name="access_token"' not in body and 'name="api_key"' not in body
    assert "<html" not in body  # just the form, swapped in place

    nothing_chosen = client.get(url).content.decode()
    assert 'name="client_id"' not in nothing_chosen


@pytest.mark.django_db
def test_connecting_shopify_stores_what_its_client_reads(client):
    tenant = make_tenant()
    log_in(client, make_member(tenant, Role.ACCOUNT_MANAGER))
    url = reverse("connections:page", kwargs={"slug": tenant.slug})

    response = client.post(
        url,
        {
            "provider": "shopify",
            "name": "Main store",
            "shop_domain": "northwind.myshopify.com",
            "access_token": "shpat_abc",
            "webhook_secret": "whsec",
            "client_id": "typed-for-another-provider",
        },
    )

    assert response.status_code == 302
    shop = Connection.objects.get(tenant=tenant)
    assert shop.kind == "commerce"
    assert shop.credentials == {
        "shop": "northwind.myshopify.com",
        "access_token": "shpat_abc",
        "webhook_secret": "whsec",
    }
    assert ShopifyClient.for_credentials(shop.credentials).shop == "northwind.myshopify.com"


@pytest.mark.django_db
def test_a_provider_missing_a_required_credential_is_refused(client):
    tenant = make_tenant()
    log_in(client, make_member(tenant, Role.ACCOUNT_MANAGER))
    url = reverse("connections:page", kwargs={"slug": tenant.slug})

    response = client.post(url, {"provider": "ups", "name": "UPS", "client_id": "id"})

    assert response.status_code == 200
    assert "client_secret" in response.context["form"].errors
    assert not Connection.objects.filter(tenant=tenant).exists()


def test_every_provider_is_listed_in_the_integrations_guide():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "integrations.md").read_text()
    missing = [code for code in providers.catalogue() if f"`{code}`" not in guide]
    assert missing == []
