from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Sum
from django.db.models.functions import Coalesce

from desk import demo
from integrations.models import Connection, Order, TrackingStatus
from tenants.models import Tenant

SITUATIONS = {
    "in_transit": {"shipments__status": TrackingStatus.IN_TRANSIT},
    "delivered": {"shipments__status": TrackingStatus.DELIVERED, "total__lte": Decimal("200")},
    "delivered_over_200": {
        "shipments__status": TrackingStatus.DELIVERED,
        "total__gt": Decimal("200"),
    },
    "exception": {"shipments__status": TrackingStatus.EXCEPTION},
}


def describe() -> dict:
    base = settings.SITE_URL.rstrip("/")
    tenants = []
    for tenant in Tenant.objects.filter(slug__in=[m.slug for m in demo.MERCHANTS]).order_by("slug"):
        samples = {}
        for name, filters in SITUATIONS.items():
            orders = (
                Order.objects.filter(tenant=tenant, raw__demo_stable=True, **filters)
                .annotate(refunded=Coalesce(Sum("refunds__amount"), Decimal("0")))
                .filter(refunded=0)
                .order_by("number")[:3]
            )
            samples[name] = [
                {"number": o.number, "email": o.email, "total": str(o.total)} for o in orders
            ]
        tenants.append(
            {
                "slug": tenant.slug,
                "name": tenant.name,
                "currency": tenant.currency,
                "api_key": demo.demo_api_key(tenant.slug),
                "webhooks": [
                    {
                        "provider": c.provider,
                        "url": f"{base}/webhooks/{c.provider}/{c.public_id}",
                        "secret": c.webhook_secret,
                        "signature_header": "X-Desk-Hmac-Sha256",
                    }
                    for c in tenant.connections.filter(provider=Connection.Provider.SANDBOX_CARRIER)
                ],
                "billing_url": f"{base}/t/{tenant.slug}/billing/",
                "sample_orders": samples,
            }
        )
    return {
        "base_url": base,
        "logins": [
            {"email": email, "password": demo.DEMO_PASSWORD, "role": role, "tenants": list(slugs)}
            for email, _, _, role, slugs in demo.PEOPLE
        ],
        "api": {"contacts": f"{base}/api/v1/contacts", "openapi": f"{base}/api/v1/openapi.json"},
        "tenants": tenants,
    }


class Command(BaseCommand):
    help = "Print the demo's URLs, logins, API keys, webhook secrets and sample orders."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Machine-readable output.")

    def handle(self, *args, **options) -> None:
        info = describe()
        if options["json"]:
            self.stdout.write(json.dumps(info, indent=2))
            return
        w = self.stdout.write
        w(f"\nThe desk is up at {info['base_url']}\n")
        w(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in info["logins"]:
            w(f"  {login['email']:<28} {login['role']:<16} {', '.join(login['tenants'])}")
        for t in info["tenants"]:
            w(f"\n{t['name']} ({t['slug']}, {t['currency']})")
            w(f"  API key:  {t['api_key']}")
            for hook in t["webhooks"]:
                w(f"  Webhook:  {hook['url']}  secret {hook['secret']}")
            for situation, orders in t["sample_orders"].items():
                w(
                    f"  {situation:<20} "
                    + ", ".join(f"#{o['number']} ({o['email']})" for o in orders)
                )
        sample = info["tenants"][0] if info["tenants"] else None
        if sample and sample["sample_orders"]["in_transit"]:
            order = sample["sample_orders"]["in_transit"][0]
            payload = json.dumps(
                {
                    "customer_email": order["email"],
                    "order_number": order["number"],
                    "body": "Where is my order?",
                }
            )
            w(
                f"\nTry the intake API:\n  curl -X POST {info['api']['contacts']} "
                f"-H 'Authorization: Bearer {sample['api_key']}' -H 'Content-Type: application/json' "
                f"-d '{payload}'\n"
            )
