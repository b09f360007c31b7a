"""'Test connection': one cheap, read-only call to the provider with the stored
credentials, so an account manager knows a connection works before go-live.

Each check says in a sentence what it reached (the shop's name, the Twilio
account) or why it could not (the provider's own error). The result is kept
on the connection and shown with its webhook health on the connections page."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from integrations import health, providers
from integrations.models import Connection, WebhookEvent

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
TWILIO_API = "https://api.twilio.com/2010-04-01"
GRAPH_API = "https://graph.facebook.com/v21.0"
POSTMARK_API = "https://api.postmarkapp.com"


class CheckFailed(Exception):
    """The provider could not be reached or refused the credentials; says which."""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    ms: int


def _http() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT)


def _refused(provider: str, response: httpx.Response) -> CheckFailed:
    detail = response.text[:200].strip()
    return CheckFailed(f"{provider} answered {response.status_code}: {detail}")


def built_in(connection: Connection) -> str:
    return "Built in: nothing to reach."


def _check_for(provider: str) -> Callable[[Connection], str]:
    spec = providers.find(provider)
    return (spec.check if spec else None) or built_in


def check_shopify(connection: Connection) -> str:
    from integrations.commerce import ExecutionError
    from integrations.shopify.client import ShopifyClient

    try:
        client = ShopifyClient.for_credentials(connection.credentials, max_attempts=2, budget=10)
        data = client.execute(
            "DeskShopCheck", "query DeskShopCheck { shop { name myshopifyDomain } }", {}
        )
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    shop = data.get("shop") or {}
    return f"Reached {shop.get('name', '?')} ({shop.get('myshopifyDomain', '?')})."


def check_twilio(connection: Connection) -> str:
    sid = connection.credentials.get("account_sid", "")
    token = connection.credentials.get("auth_token", "")
    if not (sid and token):
        raise CheckFailed("The connection has no account SID or auth token.")
    with _http() as http:
        response = http.get(f"{TWILIO_API}/Accounts/{sid}.json", auth=(sid, token))
    if response.status_code != 200:
        raise _refused("Twilio", response)
    account = response.json()
    return f"Reached Twilio account {account.get('friendly_name', sid)} ({account.get('status')})."


def check_whatsapp(connection: Connection) -> str:
    number = connection.credentials.get("phone_number_id", "")
    token = connection.credentials.get("access_token", "")
    if not (number and token):
        raise CheckFailed("The connection has no phone-number id or access token.")
    with _http() as http:
        response = http.get(
            f"{GRAPH_API}/{number}",
            params={"fields": "display_phone_number,verified_name"},
            headers={"Authorization": f"Bearer {token}"},
        )
    if response.status_code != 200:
        raise _refused("WhatsApp Cloud API", response)
    phone = response.json()
    return f"Reached {phone.get('verified_name', '?')} ({phone.get('display_phone_number', '?')})."


def check_email(connection: Connection) -> str:
    token = connection.credentials.get("postmark_server_token", "")
    if not token:
        backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
        return f"Sends through the desk's own mail setup ({backend}); nothing to reach."
    base = (getattr(settings, "ANYMAIL", {}) or {}).get("POSTMARK_API_URL", POSTMARK_API + "/")
    with _http() as http:
        response = http.get(
            base.rstrip("/") + "/server",
            headers={"Accept": "application/json", "X-Postmark-Server-Token": token},
        )
    if response.status_code != 200:
        raise _refused("Postmark", response)
    return f"Reached Postmark server {response.json().get('Name', '?')}."


def check(connection: Connection) -> CheckResult:
    """Call the provider once; keep and return what happened."""
    started = time.perf_counter()
    try:
        message, ok = _check_for(connection.provider)(connection), True
    except CheckFailed as exc:
        message, ok = str(exc), False
    except httpx.HTTPError as exc:
        message, ok = f"Could not reach the provider: {type(exc).__name__}: {exc}", False
    result = CheckResult(ok, message[:500], round((time.perf_counter() - started) * 1000))
    health.record(connection.pk, ok=result.ok, message=result.message)
    with transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(
            last_checked_at=timezone.now(),
            last_check_ok=result.ok,
            last_check_message=result.message,
        )
    return result


@dataclass(frozen=True)
class WebhookHealth:
    received: int
    failed: int
    last_received_at: object

    @property
    def error_rate(self) -> float | None:
        return self.failed / self.received if self.received else None


def webhook_health(connections: list[Connection], hours: int = 24) -> dict[int, WebhookHealth]:
    """Per connection, webhook deliveries in the last ``hours``: how many, how many
    could not be applied (bad signature, malformed, failed), and the newest."""
    since = timezone.now() - timezone.timedelta(hours=hours)
    rows = (
        WebhookEvent.objects.filter(connection__in=connections, received_at__gte=since)
        .values("connection_id")
        .annotate(
            received=Count("id"),
            failed=Count("id", filter=Q(status__in=["rejected", "failed"])),
            last=Max("received_at"),
        )
    )
    return {r["connection_id"]: WebhookHealth(r["received"], r["failed"], r["last"]) for r in rows}
